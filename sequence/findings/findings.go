// Package findings points at what an experienced OpenStack operator would
// notice in a flow: a token cache that is unreachable or never hit, a
// service or a client authenticating again and again, slow validations,
// heavy database work per step, bursts of authentication failures, and
// revoked or expired tokens still in use. Each finding carries its
// evidence: the messages, and so the frames, that show it.
package findings

import (
	"cmp"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
)

// Kinds of findings. They are stable identifiers for machines; the
// Summary and Detail of a finding are for people and may change.
const (
	// KindCacheUnreachable: a service could not connect to its token cache
	// (connection refused, or reset with no recovery), so every request
	// was validated with keystone. Count is the failed connections.
	KindCacheUnreachable = "cache-unreachable"
	// KindCacheReset: a service's pooled cache connections were reset
	// (memcached restarted) and it recovered. Count is the resets.
	KindCacheReset = "cache-connection-reset"
	// KindCacheErrors: the cache answered with an error or did not store.
	KindCacheErrors = "cache-errors"
	// KindCacheHit: token look-ups that hit. Count is the hits.
	KindCacheHit = "cache-hit"
	// KindCacheNeverHit: look-ups happened and none hit. Count is the
	// look-ups.
	KindCacheNeverHit = "cache-never-hit"
	// KindCacheMissAfterStore: a look-up missed a token stored shortly
	// before (within the cache time). Count is such misses.
	KindCacheMissAfterStore = "cache-miss-after-store"
	// KindCacheNotSeen: a service validated tokens and no token cache
	// traffic was captured at all.
	KindCacheNotSeen = "cache-not-seen"
	// KindCacheProtectedNoSecret: cache keys made under
	// memcache_security_strategy that authflow could not tie to tokens
	// (no or wrong --memcache-secret). Count is the distinct keys.
	KindCacheProtectedNoSecret = "cache-protected-no-secret"
	// KindCacheUnprotected: tokens stored in the cache in clear (no
	// memcache_security_strategy). Count is the entries stored.
	KindCacheUnprotected = "cache-unprotected"
	// KindServiceAuth: a service authenticated itself, or used several
	// service tokens (one per worker process). Count is the service
	// tokens seen.
	KindServiceAuth = "service-auth"
	// KindServiceReauth: a service got a new token of its own for every
	// validation. Count is the tokens it got.
	KindServiceReauth = "service-reauth-every-request"
	// KindClientReauth: a client got a new token while its previous one
	// was still valid: a new token per command. Count is the tokens.
	KindClientReauth = "client-reauth-every-command"
	// KindTokenRevalidated: one token validated with keystone several
	// times within the cache time. Count is the validations.
	KindTokenRevalidated = "token-validated-repeatedly"
	// KindSlowValidation: token validations slower than the threshold.
	// Count is the slow validations.
	KindSlowValidation = "slow-validation"
	// KindSlowTokenIssue: token issues slower than the threshold. Count is
	// the slow issues.
	KindSlowTokenIssue = "slow-token-issue"
	// KindManyQueries: steps in which one service ran at least the
	// threshold of SQL statements. Count is the steps.
	KindManyQueries = "many-queries"
	// KindAuthFailures: requests that failed authentication or
	// authorisation (401, 403, keystone's 404 on a validation). Count is
	// the failed requests.
	KindAuthFailures = "auth-failures"
	// KindAuthFailureBurst: at least BurstCount failures within
	// BurstWindow. Count is the failures in the busiest window.
	KindAuthFailureBurst = "auth-failure-burst"
	// KindRevokedTokenUsed: a token presented after keystone revoked it;
	// severity error when a service accepted it. Count is the uses.
	KindRevokedTokenUsed = "token-used-after-revocation"
	// KindExpiredTokenUsed: a token presented after its expiry; severity
	// error when a service accepted it. Count is the uses.
	KindExpiredTokenUsed = "token-used-after-expiry"
)

// Kinds returns every finding kind Analyze can report.
func Kinds() []string {
	return []string{
		KindCacheUnreachable, KindCacheReset, KindCacheErrors, KindCacheHit,
		KindCacheNeverHit, KindCacheMissAfterStore, KindCacheNotSeen,
		KindCacheProtectedNoSecret, KindCacheUnprotected, KindServiceAuth,
		KindServiceReauth, KindClientReauth, KindTokenRevalidated,
		KindSlowValidation, KindSlowTokenIssue, KindManyQueries,
		KindAuthFailures, KindAuthFailureBurst, KindRevokedTokenUsed,
		KindExpiredTokenUsed,
	}
}

// Severities, from the most to the least serious.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Defaults of Options.
const (
	DefaultSlowThreshold = time.Second
	DefaultManyQueries   = 100
	DefaultBurstCount    = 5
	DefaultBurstWindow   = time.Minute
	// DefaultCacheTime is keystonemiddleware's default token_cache_time.
	DefaultCacheTime = 300 * time.Second
)

// Options tunes Analyze. The zero value uses the defaults.
type Options struct {
	// SlowThreshold is the duration above which a token validation or
	// issue is slow (0: DefaultSlowThreshold; negative: never).
	SlowThreshold time.Duration
	// ManyQueries is the number of SQL statements per step from which a
	// step is reported (0: DefaultManyQueries; negative: never).
	ManyQueries int
	// BurstCount and BurstWindow define a burst of authentication
	// failures: BurstCount failures or more within BurstWindow (0: the
	// defaults; a negative BurstCount: never).
	BurstCount  int
	BurstWindow time.Duration
	// CacheTime is how long a cached token is assumed to stay in the cache
	// (keystonemiddleware's token_cache_time; 0: DefaultCacheTime).
	CacheTime time.Duration
	// Lang is the language of summaries and details: "en" (default) or
	// "zh"; others fall back to English.
	Lang string
}

func (o Options) withDefaults() Options {
	if o.SlowThreshold == 0 {
		o.SlowThreshold = DefaultSlowThreshold
	}
	if o.ManyQueries == 0 {
		o.ManyQueries = DefaultManyQueries
	}
	if o.BurstCount == 0 {
		o.BurstCount = DefaultBurstCount
	}
	if o.BurstWindow <= 0 {
		o.BurstWindow = DefaultBurstWindow
	}
	if o.CacheTime <= 0 {
		o.CacheTime = DefaultCacheTime
	}
	return o
}

// Analyze looks at a flow and returns its findings, the most serious
// first (then by time). It does not change the flow.
func Analyze(flow *sequence.Flow, opts Options) []sequence.Finding {
	if flow == nil {
		return nil
	}
	a := newAnalysis(flow, opts.withDefaults())
	a.cache()
	a.serviceAuth()
	a.clientReauth()
	a.revalidated()
	a.slow()
	a.manyQueries()
	a.authFailures()
	a.revokedUse()
	a.expiredUse()
	slices.SortStableFunc(a.out, func(x, y sequence.Finding) int {
		if c := cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)); c != 0 {
			return c
		}
		return x.Time.Compare(y.Time)
	})
	return a.out
}

func severityRank(s string) int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// analysis indexes one flow for the detectors.
type analysis struct {
	opts Options
	lang lang
	// msgs are the flow's messages (without nils), in flow order.
	msgs   []*sequence.Message
	bySeq  map[int]*sequence.Message
	answer map[int]*sequence.Message
	// caused lists the messages serving each request, by its seq.
	caused map[int][]*sequence.Message
	parts  map[string]*sequence.Participant
	// byToken lists the messages carrying each token fingerprint.
	byToken map[string][]*sequence.Message
	// expires is when keystone said each token expires.
	expires map[string]time.Time
	revs    map[string]revocation
	out     []sequence.Finding
	// clientReauthSeen records whether a client re-authenticated per
	// command, for the cache texts.
	clientReauthSeen bool
}

func newAnalysis(flow *sequence.Flow, opts Options) *analysis {
	a := &analysis{
		opts:    opts,
		lang:    langOf(opts.Lang),
		bySeq:   map[int]*sequence.Message{},
		answer:  map[int]*sequence.Message{},
		caused:  map[int][]*sequence.Message{},
		parts:   map[string]*sequence.Participant{},
		byToken: map[string][]*sequence.Message{},
		expires: map[string]time.Time{},
	}
	for _, p := range flow.Participants {
		if p != nil {
			a.parts[p.ID] = p
		}
	}
	for _, m := range flow.Messages {
		if m == nil {
			continue
		}
		a.msgs = append(a.msgs, m)
		if _, dup := a.bySeq[m.Seq]; !dup {
			a.bySeq[m.Seq] = m
		}
		if m.ReplyTo != 0 && m.ReplyTo != m.Seq {
			if _, dup := a.answer[m.ReplyTo]; !dup {
				a.answer[m.ReplyTo] = m
			}
		}
		if m.Cause != 0 && m.Cause != m.Seq {
			a.caused[m.Cause] = append(a.caused[m.Cause], m)
		}
		if m.Token != "" {
			a.byToken[m.Token] = append(a.byToken[m.Token], m)
			if _, ok := a.expires[m.Token]; !ok && m.Expires != "" {
				if t, ok := parseExpires(m.Expires); ok {
					a.expires[m.Token] = t
				}
			}
		}
	}
	a.revs = a.revocations()
	a.clientReauthSeen = len(a.clientReauthGroups()) > 0
	return a
}

func (a *analysis) role(id string) string {
	if p := a.parts[id]; p != nil {
		return p.Role
	}
	return ""
}

// name is a participant's readable name.
func (a *analysis) name(id string) string {
	if p := a.parts[id]; p != nil && p.Name != "" {
		return p.Name
	}
	return id
}

// endpoint is the address (host:port) a server participant was seen at.
func (a *analysis) endpoint(id string) string {
	p := a.parts[id]
	if p == nil {
		return ""
	}
	for _, e := range p.Endpoints {
		if _, port, err := net.SplitHostPort(e); err == nil && port != "" {
			return e
		}
	}
	return ""
}

// configFile names the file holding a service's [keystone_authtoken].
func (a *analysis) configFile(id string) string {
	switch a.role(id) {
	case sequence.RoleGlance:
		return "glance-api.conf"
	case sequence.RoleKeystone:
		return "keystone.conf"
	}
	// Without the label of a host alias: "nova (controller)" is nova.
	name, _, _ := strings.Cut(a.name(id), " (")
	return name + ".conf"
}

func isService(role string) bool {
	return role == sequence.RoleGlance || role == sequence.RoleService
}

// isAnswer reports whether m answers a request.
func isAnswer(m *sequence.Message) bool {
	return m.Response || m.ReplyTo != 0
}

// duration is how long the exchange an answer ends took.
func duration(m *sequence.Message) time.Duration {
	if m == nil {
		return 0
	}
	if m.Duration > 0 {
		return m.Duration
	}
	if m.DurationMS != nil && *m.DurationMS > 0 {
		return time.Duration(*m.DurationMS * float64(time.Millisecond))
	}
	return 0
}

// dbWork is what a database did for one request.
type dbWork struct {
	queries int
	rows    int
	// busy is the time with at least one statement outstanding; when a
	// message sums up several statements (not exact), it is the span from
	// the first statement to the last result, keystone's own work in
	// between included.
	busy  time.Duration
	exact bool
	// newConn is set when a connection was opened meanwhile.
	newConn bool
	// evidence is the first statement, the logins and the last result.
	evidence []*sequence.Message
}

// dbFor sums the database work caused by the request seq.
func (a *analysis) dbFor(seq int) dbWork {
	w := dbWork{exact: true}
	type span struct{ from, to time.Time }
	var spans []span
	var first, last *sequence.Message
	bursts, covered := 0, 0 // summarised bursts, and those whose busy time is known
	for _, m := range a.caused[seq] {
		if a.role(m.To) != sequence.RoleMySQL && a.role(m.From) != sequence.RoleMySQL {
			continue
		}
		switch m.Kind {
		case sequence.KindMySQLQuery:
			w.queries += max(m.Count, 1)
			if m.Count > 1 {
				bursts++
			}
			if first == nil {
				first = m
			}
		case sequence.KindMySQLLogin:
			w.newConn = true
			w.evidence = append(w.evidence, m)
		case sequence.KindMySQLResult:
			last = m
			if m.Rows != nil {
				w.rows += *m.Rows
			}
			if q := a.bySeq[m.ReplyTo]; q != nil && !q.Time.IsZero() {
				d := duration(m)
				if q.Count > 1 && m.BusyMS != nil {
					// A summarised burst says how long the database itself
					// was busy with it.
					d = time.Duration(*m.BusyMS * float64(time.Millisecond))
					covered++
				}
				if d > 0 {
					spans = append(spans, span{q.Time, q.Time.Add(d)})
				}
			}
		}
	}
	w.exact = bursts == covered
	w.evidence = append(w.evidence, first, last)
	slices.SortFunc(spans, func(x, y span) int { return x.from.Compare(y.from) })
	var end time.Time
	for _, s := range spans {
		switch {
		case end.IsZero() || !s.from.Before(end):
			w.busy += s.to.Sub(s.from)
			end = s.to
		case s.to.After(end):
			w.busy += s.to.Sub(end)
			end = s.to
		}
	}
	return w
}

func sortBySeq(ms []*sequence.Message) {
	slices.SortStableFunc(ms, func(x, y *sequence.Message) int { return cmp.Compare(x.Seq, y.Seq) })
}

// add records a finding with the given messages as evidence.
func (a *analysis) add(kind, severity string, count int, summary, detail string, evidence []*sequence.Message) {
	f := sequence.Finding{Kind: kind, Severity: severity, Summary: summary, Detail: detail, Count: count}
	seen := map[int]bool{}
	var ms []*sequence.Message
	for _, m := range evidence {
		if m == nil || seen[m.Seq] {
			continue
		}
		seen[m.Seq] = true
		ms = append(ms, m)
	}
	sortBySeq(ms)
	frames := map[sequence.Frame]bool{}
	for _, m := range ms {
		f.Messages = append(f.Messages, m.Seq)
		for _, fr := range m.Frames {
			if fr.Number <= 0 || frames[fr] {
				continue
			}
			frames[fr] = true
			f.Frames = append(f.Frames, fr)
		}
		if !m.Time.IsZero() && (f.Time.IsZero() || m.Time.Before(f.Time)) {
			f.Time = m.Time
		}
	}
	a.out = append(a.out, f)
}
