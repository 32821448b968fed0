package findings

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
)

// issue is one token request to keystone and its answer.
type issue struct {
	req, ans *sequence.Message
}

// token is the token the issue got, or "".
func (i issue) token() string {
	if i.ans != nil && i.ans.Kind == sequence.KindTokenIssued && i.ans.Status < 300 {
		return i.ans.Token
	}
	return ""
}

// issuesBy lists the token requests a participant sent to keystone.
func (a *analysis) issuesBy(id string) []issue {
	var out []issue
	for _, m := range a.msgs {
		if m.Kind == sequence.KindTokenIssue && m.From == id && !isAnswer(m) {
			out = append(out, issue{m, a.answer[m.Seq]})
		}
	}
	return out
}

// participantsWith lists, in order of first appearance, the senders of
// messages of a kind whose role passes keep.
func (a *analysis) participantsWith(kind sequence.Kind, keep func(role string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range a.msgs {
		if m.Kind == kind && !seen[m.From] && keep(a.role(m.From)) {
			seen[m.From] = true
			out = append(out, m.From)
		}
	}
	return out
}

// serviceAuth reports how services authenticated themselves: once per
// worker (info), or for every validation (warning).
func (a *analysis) serviceAuth() {
	ids := a.participantsWith(sequence.KindTokenIssue, isService)
	for _, id := range a.participantsWith(sequence.KindTokenValidate, isService) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		// Failed self-authentications are auth failures, not tokens.
		var issues []issue
		for _, is := range a.issuesBy(id) {
			if is.token() != "" {
				issues = append(issues, is)
			}
		}
		var vals []*sequence.Message
		uses := map[string]int{}
		var tokens []string
		issued, known := map[string]bool{}, map[string]bool{}
		addTok := func(t string) {
			if t != "" && !known[t] {
				known[t] = true
				tokens = append(tokens, t)
			}
		}
		var issueTime time.Duration
		var queries int
		for _, is := range issues {
			addTok(is.token())
			issued[is.token()] = true
			issueTime += duration(is.ans)
			queries += a.dbFor(is.req.Seq).queries
		}
		for _, m := range a.validationsBy(id, time.Time{}, time.Time{}) {
			vals = append(vals, m)
			if m.AuthToken != "" {
				uses[m.AuthToken]++
				addTok(m.AuthToken)
			}
		}
		var ev []*sequence.Message
		for _, is := range issues {
			ev = append(ev, is.req, is.ans)
		}
		firstUse := map[string]bool{}
		for _, v := range vals {
			if v.AuthToken != "" && !firstUse[v.AuthToken] {
				firstUse[v.AuthToken] = true
				ev = append(ev, v)
			}
		}
		reusedNone := true
		for _, n := range uses {
			if n > 1 {
				reusedNone = false
			}
		}
		preexisting := 0
		for _, t := range tokens {
			if !issued[t] {
				preexisting++
			}
		}
		f := serviceAuthFacts{
			Service: a.name(id), Issues: len(issues), IssueTime: issueTime, Queries: queries,
			Tokens: tokens, Preexisting: preexisting, Validations: len(vals), Config: a.configFile(id),
		}
		switch {
		case len(issues) >= 3 && reusedNone && len(issues)*2 >= len(vals):
			s, d := f.reauth(a.lang)
			a.add(KindServiceReauth, SeverityWarning, len(issues), s, d, ev)
		case len(issues) > 0 || len(tokens) > 1:
			s, d := f.text(a.lang)
			a.add(KindServiceAuth, SeverityInfo, len(tokens), s, d, ev)
		}
	}
}

// clientReauthGroups lists, per client, its token issues when it got a
// new token while the previous one was still valid.
func (a *analysis) clientReauthGroups() map[string][]issue {
	out := map[string][]issue{}
	for _, id := range a.participantsWith(sequence.KindTokenIssue, func(r string) bool { return r == sequence.RoleClient }) {
		var got []issue
		for _, is := range a.issuesBy(id) {
			if is.token() != "" {
				got = append(got, is)
			}
		}
		// A renewal is a new token for the same user and scope while the
		// one before was still valid: two users taking turns on one host
		// each keep their own.
		renewed := false
		last := map[string]string{}
		for _, is := range got {
			identity := is.req.User + "|" + is.req.Scope
			prev, seen := last[identity]
			last[identity] = is.token()
			if !seen {
				continue
			}
			at := is.req.Time
			if exp, ok := a.expiry(prev); ok && !exp.After(at) {
				continue // the previous token had expired
			}
			if rev, ok := a.revokedAt(prev); ok && !rev.After(at) {
				continue // or was revoked
			}
			renewed = true
		}
		if renewed {
			out[id] = got
		}
	}
	return out
}

// clientReauth reports clients that got a new token per command.
func (a *analysis) clientReauth() {
	groups := a.clientReauthGroups()
	for _, id := range a.participantsWith(sequence.KindTokenIssue, func(r string) bool { return r == sequence.RoleClient }) {
		got := groups[id]
		if got == nil {
			continue
		}
		f := clientReauthFacts{Client: a.name(id), Span: got[len(got)-1].req.Time.Sub(got[0].req.Time)}
		var ev []*sequence.Message
		for _, is := range got {
			t := is.token()
			f.Tokens = append(f.Tokens, t)
			f.IssueTime += duration(is.ans)
			f.Queries += a.dbFor(is.req.Seq).queries
			f.Uses = append(f.Uses, a.countUses(id, t))
			ev = append(ev, is.req, is.ans)
		}
		s, d := f.text(a.lang)
		a.add(KindClientReauth, SeverityWarning, len(got), s, d, ev)
	}
}

// countUses counts the requests a client sent with a token, other than to
// keystone about the token itself.
func (a *analysis) countUses(client, token string) int {
	n := 0
	for _, m := range a.byToken[token] {
		if m.From == client && !isAnswer(m) && !strings.HasPrefix(string(m.Kind), "keystone.token.") {
			n++
		}
	}
	return n
}

// expiry is when keystone said a token expires.
func (a *analysis) expiry(token string) (time.Time, bool) {
	t, ok := a.expires[token]
	return t, ok
}

// parseExpires reads keystone's expires_at ("2026-11-22T13:32:31.000000Z").
func parseExpires(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// revocation is a successful (or unanswered) revocation of a token.
type revocation struct {
	req, ans *sequence.Message
	at       time.Time
}

func (a *analysis) revocations() map[string]revocation {
	out := map[string]revocation{}
	for _, m := range a.msgs {
		if m.Kind != sequence.KindTokenRevoke || m.Token == "" || isAnswer(m) {
			continue
		}
		ans := a.answer[m.Seq]
		if ans != nil && ans.Status >= 300 {
			continue // the revocation failed
		}
		at := m.Time
		if ans != nil && !ans.Time.IsZero() {
			at = ans.Time
		}
		if r, ok := out[m.Token]; !ok || at.Before(r.at) {
			out[m.Token] = revocation{m, ans, at}
		}
	}
	return out
}

// revokedAt is when a token was revoked.
func (a *analysis) revokedAt(token string) (time.Time, bool) {
	r, ok := a.revs[token]
	return r.at, ok
}

// use is a request a client sent with a token, and what came of it.
type use struct {
	req, ans *sequence.Message
	// served lists the downstream messages that decided: cache hits,
	// validation answers.
	served    []*sequence.Message
	fromCache bool
	// validOK is set when keystone said the token was valid.
	validOK bool
}

func (u use) accepted() bool {
	return u.ans != nil && u.ans.Status >= 200 && u.ans.Status < 400
}

// usesAfter lists the client requests carrying token after t.
func (a *analysis) usesAfter(token string, t time.Time) []use {
	var out []use
	for _, m := range a.byToken[token] {
		if isAnswer(m) || !m.Time.After(t) || a.role(m.From) != sequence.RoleClient {
			continue
		}
		if m.Kind == sequence.KindTokenRevoke || m.Kind == sequence.KindTokenIssue {
			continue
		}
		u := use{req: m, ans: a.answer[m.Seq]}
		for _, d := range a.caused[m.Seq] {
			switch {
			case d.Kind == sequence.KindMemcachedResult && d.Hit != nil && *d.Hit:
				u.fromCache = true
				u.served = append(u.served, a.bySeq[d.ReplyTo], d)
			case d.Kind == sequence.KindTokenValid && d.Token == token:
				u.validOK = true
				u.served = append(u.served, a.bySeq[d.ReplyTo], d)
			case d.Kind == sequence.KindTokenInvalid:
				u.served = append(u.served, a.bySeq[d.ReplyTo], d)
			}
		}
		out = append(out, u)
	}
	return out
}

// tokenUseFacts sums up the uses of one token after an event.
func (a *analysis) tokenUseFacts(token string, uses []use, at time.Time) tokenUseFacts {
	f := tokenUseFacts{Token: token, Uses: len(uses), At: at}
	for _, u := range uses {
		if u.ans != nil && f.Status == 0 {
			f.Status = u.ans.Status
		}
		if !u.accepted() {
			continue
		}
		if f.Accepted == 0 {
			f.Status = u.ans.Status
			f.Delay = u.req.Time.Sub(at)
			f.Service = a.name(u.req.To)
		}
		f.Accepted++
		f.FromCache = f.FromCache || u.fromCache
		f.Validated = f.Validated || u.validOK
	}
	if f.Service == "" && len(uses) > 0 {
		f.Service = a.name(uses[0].req.To)
	}
	return f
}

func useEvidence(uses []use) []*sequence.Message {
	var ev []*sequence.Message
	for _, u := range uses {
		ev = append(ev, u.req, u.ans)
		ev = append(ev, u.served...)
	}
	return ev
}

// revokedUse reports tokens presented after their revocation.
func (a *analysis) revokedUse() {
	revs := a.revs
	var toks []string
	for t := range revs {
		toks = append(toks, t)
	}
	slices.SortFunc(toks, func(x, y string) int { return cmp.Compare(revs[x].req.Seq, revs[y].req.Seq) })
	for _, t := range toks {
		r := revs[t]
		uses := a.usesAfter(t, r.at)
		if len(uses) == 0 {
			continue
		}
		f := a.tokenUseFacts(t, uses, r.at)
		// A cached entry lives on until CacheTime after it was stored.
		for _, m := range a.byToken[t] {
			if m.Kind == sequence.KindMemcachedResult && m.Stored != nil && *m.Stored && m.Time.Before(r.at) {
				f.CacheUntil = m.Time.Add(a.opts.CacheTime)
			}
		}
		f.CacheTime = a.opts.CacheTime
		sev := SeverityInfo
		if f.Accepted > 0 {
			sev = SeverityError
		}
		s, d := f.revoked(a.lang)
		a.add(KindRevokedTokenUsed, sev, len(uses), s, d, append([]*sequence.Message{r.req, r.ans}, useEvidence(uses)...))
	}
}

// expiredUse reports tokens presented after they expired.
func (a *analysis) expiredUse() {
	seen := map[string]bool{}
	for _, m := range a.msgs {
		if m.Token == "" || m.Expires == "" || seen[m.Token] {
			continue
		}
		seen[m.Token] = true
		exp, ok := a.expiry(m.Token)
		if !ok {
			continue
		}
		uses := a.usesAfter(m.Token, exp)
		if len(uses) == 0 {
			continue
		}
		f := a.tokenUseFacts(m.Token, uses, exp)
		sev := SeverityInfo
		if f.Accepted > 0 {
			sev = SeverityError
		}
		s, d := f.expired(a.lang)
		a.add(KindExpiredTokenUsed, sev, len(uses), s, d, append([]*sequence.Message{m}, useEvidence(uses)...))
	}
}

// revalidated reports user tokens validated with keystone more than once
// within the cache time.
func (a *analysis) revalidated() {
	byToken := map[string][]*sequence.Message{}
	var order []string
	for _, m := range a.msgs {
		if m.Kind != sequence.KindTokenValidate || m.Token == "" || isAnswer(m) {
			continue
		}
		if ans := a.answer[m.Seq]; ans == nil || ans.Kind != sequence.KindTokenValid {
			continue // only valid tokens are cached
		}
		if byToken[m.Token] == nil {
			order = append(order, m.Token)
		}
		byToken[m.Token] = append(byToken[m.Token], m)
	}
	for _, t := range order {
		vals := byToken[t]
		if len(vals) < 2 || vals[len(vals)-1].Time.Sub(vals[0].Time) >= a.opts.CacheTime {
			continue
		}
		f := revalidatedFacts{Token: t, Count: len(vals), Span: vals[len(vals)-1].Time.Sub(vals[0].Time)}
		for _, v := range vals {
			if n := a.name(v.From); !slices.Contains(f.Services, n) {
				f.Services = append(f.Services, n)
			}
		}
		var ev []*sequence.Message
		for _, v := range vals {
			ev = append(ev, v, a.answer[v.Seq])
		}
		s, d := f.text(a.lang)
		a.add(KindTokenRevalidated, SeverityWarning, len(vals), s, d, ev)
	}
}
