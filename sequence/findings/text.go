package findings

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
)

// lang is the language summaries and details are written in, one of
// sequence.Languages.
type lang string

const (
	langEN lang = "en"
	langZH lang = "zh"
)

func langOf(s string) lang { return lang(sequence.Language(s)) }

// t writes the text of key in l (texts holds them).
func (l lang) t(key string, args ...any) string { return texts.Text(string(l), key, args...) }

// plural writes "1 thing" or "2 things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// times writes "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return strconv.Itoa(n) + " times"
}

// dur writes a duration for people: "4.2 ms", "376 ms", "1.004 s",
// "300 s".
func dur(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return trimZeros(strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)) + " ms"
	case d < time.Second:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
	case d < 10*time.Second:
		return trimZeros(strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', 3, 64)) + " s"
	}
	return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " s"
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// clock writes a time of day in UTC.
func clock(t time.Time) string {
	return t.UTC().Format("15:04:05") + " UTC"
}

// list joins at most max items, saying how many more there are.
func list(l lang, items []string, max int) string {
	more := 0
	if len(items) > max {
		more = len(items) - max
		items = items[:max]
	}
	s := strings.Join(items, l.t("list.sep"))
	if more > 0 {
		s += l.t("list.more", more, len(items)+more)
	}
	return s
}

func at(name, endpoint string) string {
	if endpoint == "" {
		return name
	}
	return name + " (" + endpoint + ")"
}

func port(endpoint string) string {
	if i := strings.LastIndexByte(endpoint, ':'); i >= 0 && i < len(endpoint)-1 {
		return endpoint[i+1:]
	}
	return "11211"
}

type cacheFailureFacts struct {
	Service, Cache, Endpoint string
	Refused, Resets          int
	Validations, Queries     int
	Recovered                bool
	Config                   string
}

type peerCacheFailureFacts struct {
	Peer, Cache, Endpoint string
	Refused, Resets       int
}

func (f peerCacheFailureFacts) text(l lang) (string, string) {
	var what []string
	if f.Refused > 0 {
		what = append(what, l.t("unreachable.refused", f.Refused, plural(f.Refused, "connection", "connections")))
	}
	if f.Resets > 0 {
		what = append(what, l.t("unreachable.reset", f.Resets, plural(f.Resets, "connection", "connections")))
	}
	s := l.t("peer-unreachable.summary", f.Peer, at(f.Cache, f.Endpoint), strings.Join(what, l.t("list.sep")))
	d := l.t("peer-unreachable.detail")
	if f.Refused > 0 {
		d += l.t("peer-unreachable.refused")
	}
	d += l.t("peer-unreachable.detail.end")
	return s, d
}

func (f cacheFailureFacts) unreachable(l lang) (string, string) {
	var what []string
	if f.Refused > 0 {
		what = append(what, l.t("unreachable.refused", f.Refused, plural(f.Refused, "connection", "connections")))
	}
	if f.Resets > 0 {
		what = append(what, l.t("unreachable.reset", f.Resets, plural(f.Resets, "connection", "connections")))
	}
	s := l.t("unreachable.summary", f.Service, at(f.Cache, f.Endpoint), strings.Join(what, l.t("list.sep")))
	if f.Validations > 0 {
		s += l.t("unreachable.validated", f.Validations, plural(f.Validations, "validation", "validations"), f.Queries)
	}
	if f.Recovered {
		s += l.t("unreachable.recovered")
	}
	d := l.t("unreachable.detail", f.Service)
	if f.Endpoint != "" {
		d += l.t("unreachable.at", f.Endpoint)
	}
	if f.Refused > 0 {
		d += l.t("unreachable.nothing-listens")
	}
	d += l.t("unreachable.advice", "'sport = :"+port(f.Endpoint)+"'", f.Config)
	return s, d
}

func (f cacheFailureFacts) reset(l lang) (string, string) {
	s := l.t("reset.summary", f.Service, at(f.Cache, f.Endpoint), f.Resets, times(f.Resets), f.Validations, plural(f.Validations, "token", "tokens"))
	return s, l.t("reset.detail", f.Service)
}

type cacheErrorFacts struct {
	Service, Cache string
	Count          int
	First          string
}

func (f cacheErrorFacts) text(l lang) (string, string) {
	first := f.First
	if first == "" {
		first = l.t("cache-errors.not-stored")
	}
	s := l.t("cache-errors.summary", f.Cache, f.Service, f.Count, plural(f.Count, "command", "commands"), first)
	return s, l.t("cache-errors.detail")
}

type cacheHitFacts struct {
	Service, Cache string
	Hits, Lookups  int
	Tokens         []string
}

func (f cacheHitFacts) text(l lang) (string, string) {
	s := l.t("cache-hit.summary", f.Service, f.Hits, f.Lookups, plural(f.Lookups, "look-up", "look-ups"), list(l, f.Tokens, 4), plural(f.Hits, "request", "requests"))
	return s, l.t("cache-hit.detail")
}

type cacheNeverHitFacts struct {
	Service, Cache  string
	Lookups, Stores int
	AllNew          bool
	ClientReauth    bool
}

func (f cacheNeverHitFacts) text(l lang) (string, string) {
	lookups := plural(f.Lookups, "look-up", "look-ups")
	if !f.AllNew {
		return l.t("never-hit.seen-before", f.Service, f.Lookups, lookups), l.t("never-hit.seen-before.detail", f.Service)
	}
	s := l.t("never-hit.summary", f.Service, f.Lookups, lookups, f.Stores)
	if f.ClientReauth {
		s += l.t("never-hit.client-reauth")
	}
	d := l.t("never-hit.detail")
	if f.Stores == 0 {
		d = l.t("never-hit.detail.nothing-stored")
	}
	if f.ClientReauth {
		d += l.t("never-hit.detail.client-reauth")
	} else {
		d += l.t("never-hit.detail.one-use")
	}
	return s, d
}

type missAfterStoreFacts struct {
	Service   string
	Count     int
	Token     string
	Age       time.Duration
	CacheTime time.Duration
}

func (f missAfterStoreFacts) text(l lang) (string, string) {
	s := l.t("miss-after-store.summary", f.Service, f.Count, plural(f.Count, "cache entry", "cache entries"), f.Token, dur(f.Age))
	return s, l.t("miss-after-store.detail", dur(f.CacheTime))
}

type protectedFacts struct {
	Service, Cache string
	Keys           int
	BytesRepr      bool
}

func (f protectedFacts) text(l lang) (string, string) {
	s := l.t("protected.summary", f.Keys, plural(f.Keys, "cache key", "cache keys"))
	d := l.t("protected.detail", f.Service)
	if f.BytesRepr {
		d += l.t("protected.bytes-repr")
	}
	return s, d
}

type unprotectedFacts struct {
	Service, Cache, Endpoint string
	Entries                  int
	Config                   string
}

func (f unprotectedFacts) text(l lang) (string, string) {
	where := ""
	if f.Endpoint != "" {
		where = " " + f.Endpoint
	}
	s := l.t("unprotected.summary", f.Service, f.Entries, plural(f.Entries, "validated token", "validated tokens"), f.Cache)
	return s, l.t("unprotected.detail", where, f.Config)
}

type notSeenFacts struct {
	Service     string
	Validations int
	Config      string
}

func (f notSeenFacts) text(l lang) (string, string) {
	s := l.t("not-seen.summary", f.Service, f.Validations, plural(f.Validations, "token", "tokens"))
	return s, l.t("not-seen.detail", f.Config)
}

type serviceAuthFacts struct {
	Service     string
	Issues      int
	IssueTime   time.Duration
	Queries     int
	Tokens      []string
	Preexisting int
	Validations int
	Config      string
}

func (f serviceAuthFacts) text(l lang) (string, string) {
	tokens := list(l, f.Tokens, 4)
	userTokens := plural(f.Validations, "user token", "user tokens")
	var s string
	if f.Issues > 0 {
		s = l.t("service-auth.summary", f.Service, f.Issues, times(f.Issues), dur(f.IssueTime), f.Queries,
			len(f.Tokens), plural(len(f.Tokens), "service token", "service tokens"), tokens, f.Validations, userTokens)
	} else {
		s = l.t("service-auth.summary.before", f.Service, len(f.Tokens), plural(len(f.Tokens), "service token", "different service tokens"), tokens, f.Validations, userTokens)
	}
	d := l.t("service-auth.detail", f.Config)
	if f.Issues > 0 {
		d += l.t("service-auth.detail.here", dur(f.IssueTime))
	}
	d += l.t("sentence.end")
	if f.Issues > 0 && f.Preexisting > 0 {
		d += l.t("service-auth.detail.before", f.Preexisting, plural(f.Preexisting, "of these tokens was", "of these tokens were"))
	}
	return s, d
}

func (f serviceAuthFacts) reauth(l lang) (string, string) {
	avg, q := time.Duration(0), 0
	if f.Issues > 0 {
		avg, q = f.IssueTime/time.Duration(f.Issues), f.Queries/f.Issues
	}
	s := l.t("service-reauth.summary", f.Service, f.Validations, plural(f.Validations, "validation", "validations"), f.Issues)
	return s, l.t("service-reauth.detail", dur(avg), q, f.Config)
}

type clientReauthFacts struct {
	Client    string
	Tokens    []string
	Uses      []int
	Span      time.Duration
	IssueTime time.Duration
	Queries   int
}

func (f clientReauthFacts) text(l lang) (string, string) {
	n := len(f.Tokens)
	avg, q := time.Duration(0), 0
	if n > 0 {
		avg, q = f.IssueTime/time.Duration(n), f.Queries/n
	}
	var uses []string
	for i, t := range f.Tokens {
		if i < len(f.Uses) {
			uses = append(uses, fmt.Sprintf("%s: %d", t, f.Uses[i]))
		}
	}
	s := l.t("client-reauth.summary", f.Client, n, dur(f.Span), list(l, f.Tokens, 4))
	return s, l.t("client-reauth.detail", dur(avg), q, list(l, uses, 6))
}

type revalidatedFacts struct {
	Token    string
	Count    int
	Span     time.Duration
	Services []string
}

func (f revalidatedFacts) text(l lang) (string, string) {
	s := l.t("revalidated.summary", f.Token, f.Count, dur(f.Span), list(l, f.Services, 3))
	return s, l.t("revalidated.detail")
}

type slowItem struct {
	Seq     int
	Who     string
	Token   string
	Took    time.Duration
	Status  int
	Queries int
	Rows    int
	DBBusy  time.Duration
	// Exact is set when DBBusy is the database's time, not the span of a
	// summed-up run of statements.
	Exact   bool
	NewConn bool
}

type slowFacts struct {
	Issue     bool
	Items     []slowItem
	Threshold time.Duration
}

func (f slowFacts) text(l lang) (string, string) {
	slowest := f.Items[0]
	for _, it := range f.Items {
		if it.Took > slowest.Took {
			slowest = it
		}
	}
	// The slowest first; the others are counted.
	listed := slices.Clone(f.Items)
	slices.SortStableFunc(listed, func(x, y slowItem) int { return cmp.Compare(y.Took, x.Took) })
	const maxListed = 5
	more := max(len(listed)-maxListed, 0)
	listed = listed[:len(listed)-more]
	var lines []string
	for _, it := range listed {
		line := l.t("slow.item", it.Seq, it.Who)
		if it.Token != "" {
			line += l.t("slow.item.token", it.Token)
		}
		line += l.t("slow.item.took", dur(it.Took), it.Queries, dbWord(l, it.Exact), dur(it.DBBusy))
		if it.NewConn {
			line += l.t("slow.item.new-conn")
		}
		lines = append(lines, line)
	}
	if more > 0 {
		lines = append(lines, l.t("slow.more", more))
	}
	dbBound := slowest.Exact && slowest.DBBusy*2 >= slowest.Took
	cpuBound := slowest.Exact && !dbBound
	what := l.t("slow.validation")
	if f.Issue {
		what = l.t("slow.issue")
	}
	s := l.t("slow.summary", len(f.Items), what, dur(f.Threshold), dur(slowest.Took), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
	if len(f.Items) == 1 {
		s = l.t("slow.summary.one", what, dur(slowest.Took), dur(f.Threshold), slowest.Seq, who(l, slowest, f.Issue), slowest.Queries, dbWord(l, slowest.Exact), dur(slowest.DBBusy))
	}
	d := strings.Join(lines, "; ") + l.t("sentence.end.space")
	switch {
	case dbBound:
		d += l.t("slow.db-bound")
	case !cpuBound:
		d += l.t("slow.spread", dur(slowest.DBBusy), dur(slowest.Took))
		if f.Issue {
			d += l.t("slow.password-hashing")
		}
		d += l.t("slow.fernet")
	default:
		d += l.t("slow.cpu-bound", dur(slowest.DBBusy), dur(slowest.Took))
		if f.Issue {
			d += l.t("slow.password-hashing")
		}
		d += l.t("slow.fernet")
	}
	if slowest.NewConn {
		d += l.t("slow.new-conn")
	}
	if !f.Issue {
		d += l.t("slow.cache-miss")
	}
	return s, d
}

// dbWord says what the database time is: busy time, or the span of a
// summed-up run of statements.
func dbWord(l lang, exact bool) string {
	if exact {
		return l.t("db.busy")
	}
	return l.t("db.spread")
}

// who names the slow exchange: the token validated, or who asked for a
// token.
func who(l lang, it slowItem, issue bool) string {
	if issue || it.Token == "" {
		return l.t("slow.who", it.Who)
	}
	return "token " + it.Token
}

type queryStep struct {
	Seq     int
	Kind    sequence.Kind
	Request string
	Queries int
}

func (q queryStep) name(l lang) string {
	switch q.Kind {
	case sequence.KindTokenValidate:
		return l.t("slow.validation")
	case sequence.KindTokenIssue:
		return l.t("slow.issue")
	case sequence.KindTokenRevoke:
		return l.t("step.revocation")
	}
	if r := strings.TrimSpace(q.Request); r != "" {
		return r
	}
	return l.t("step")
}

type manyQueriesFacts struct {
	Service    string
	IsKeystone bool
	Threshold  int
	Steps      []queryStep
}

func (f manyQueriesFacts) text(l lang) (string, string) {
	top := f.Steps[0]
	for _, st := range f.Steps {
		if st.Queries > top.Queries {
			top = st
		}
	}
	var steps []string
	for _, st := range f.Steps {
		steps = append(steps, l.t("many-queries.step", st.name(l), st.Seq, st.Queries))
	}
	s := l.t("many-queries.summary", f.Service, f.Threshold, len(f.Steps), top.Queries, top.name(l))
	if len(f.Steps) == 1 {
		s = l.t("many-queries.summary.one", f.Service, top.Queries, top.name(l), top.Seq)
	}
	d := l.t("many-queries.detail", list(l, steps, 8))
	if f.IsKeystone {
		d += l.t("many-queries.detail.keystone")
	}
	d += l.t("many-queries.detail.oslo")
	return s, d
}

// failureTexts are the texts of the failure categories.
var failureTexts = [...]string{
	failServiceCreds: "failures.service-creds",
	failInvalidToken: "failures.invalid-token",
	failPassword:     "failures.password",
	failForbidden:    "failures.forbidden",
	failUnauthorized: "failures.unauthorized",
}

// failurePlurals are the English nouns of the failure categories.
var failurePlurals = [...][2]string{
	failServiceCreds: {"service authentication", "service authentications"},
	failInvalidToken: {"token", "tokens"},
	failPassword:     {"password authentication", "password authentications"},
	failForbidden:    {"forbidden", "forbidden"},
	failUnauthorized: {"refusal", "refusals"},
}

// categories writes the non-zero counts of failure categories.
func categories(l lang, c byCategory) string {
	var parts []string
	for cat, n := range c {
		if n == 0 {
			continue
		}
		p := failurePlurals[cat]
		parts = append(parts, l.t(failureTexts[cat], n, plural(n, p[0], p[1])))
	}
	return list(l, parts, failCategories)
}

type authFailureFacts struct {
	Count      int
	Span       time.Duration
	ByCategory byCategory
}

func (f authFailureFacts) text(l lang) (string, string) {
	var ds []string
	c := f.ByCategory
	s := l.t("auth-failures.summary", f.Count, plural(f.Count, "request", "requests"), categories(l, c))
	if c[failForbidden] == f.Count {
		s = l.t("auth-failures.refused", f.Count, plural(f.Count, "request was", "requests were"), categories(l, c))
	}
	for cat, n := range c {
		if n > 0 {
			ds = append(ds, l.t(failureTexts[cat]+".detail"))
		}
	}
	return s, strings.Join(ds, l.t("sentence.sep"))
}

type burstFacts struct {
	Count      int
	Span       time.Duration
	Window     time.Duration
	ByCategory byCategory
}

func (f burstFacts) text(l lang) (string, string) {
	s := l.t("burst.summary", f.Count, dur(f.Span), categories(l, f.ByCategory))
	return s, l.t("burst.detail")
}

type tokenUseFacts struct {
	Token      string
	Uses       int
	Accepted   int
	Status     int
	Delay      time.Duration
	Service    string
	FromCache  bool
	Validated  bool
	At         time.Time
	CacheUntil time.Time
	CacheTime  time.Duration
}

func (f tokenUseFacts) revoked(l lang) (string, string) {
	if f.Accepted == 0 {
		return l.t("revoked.refused", f.Token, f.Uses, times(f.Uses), f.Status), l.t("revoked.refused.detail")
	}
	s := l.t("revoked.accepted", f.Token, dur(f.Delay), f.Service, f.Status)
	var d string
	switch {
	case f.FromCache:
		s += l.t("revoked.from-cache")
		d = l.t("revoked.from-cache.detail", dur(f.CacheTime))
		if !f.CacheUntil.IsZero() {
			d += l.t("revoked.until", clock(f.CacheUntil))
		}
		d += l.t("revoked.lower-cache-time")
	case f.Validated:
		s += l.t("revoked.validated")
		d = l.t("revoked.validated.detail")
	default:
		d = l.t("revoked.unvalidated.detail")
	}
	return s, d
}

func (f tokenUseFacts) expired(l lang) (string, string) {
	if f.Accepted == 0 {
		return l.t("expired.refused", f.Token, clock(f.At), f.Uses, times(f.Uses)), l.t("expired.refused.detail")
	}
	s := l.t("expired.accepted", f.Token, clock(f.At), dur(f.Delay), f.Service, f.Status)
	return s, l.t("expired.accepted.detail")
}
