package findings

import (
	"slices"
	"time"

	"github.com/authflow/authflow/sequence"
)

// slow reports token validations and issues slower than the threshold,
// with what keystone's database did meanwhile.
func (a *analysis) slow() {
	if a.opts.SlowThreshold < 0 {
		return
	}
	for _, kind := range []sequence.Kind{sequence.KindTokenValidate, sequence.KindTokenIssue} {
		var items []slowItem
		var ev []*sequence.Message
		for _, m := range a.msgs {
			if m.Kind != kind || isAnswer(m) {
				continue
			}
			ans := a.answer[m.Seq]
			d := duration(ans)
			if d <= a.opts.SlowThreshold {
				continue
			}
			w := a.dbFor(m.Seq)
			tok := m.Token
			if ans.Token != "" {
				tok = ans.Token
			}
			items = append(items, slowItem{
				Seq: m.Seq, Who: a.name(m.From), Token: tok, Took: d, Status: ans.Status,
				Queries: w.queries, Rows: w.rows, DBBusy: w.busy, Exact: w.exact, NewConn: w.newConn,
			})
			ev = append(ev, m, ans)
			ev = append(ev, w.evidence...)
		}
		if len(items) == 0 {
			continue
		}
		f := slowFacts{Issue: kind == sequence.KindTokenIssue, Items: items, Threshold: a.opts.SlowThreshold}
		s, d := f.text(a.lang)
		k := KindSlowValidation
		if f.Issue {
			k = KindSlowTokenIssue
		}
		a.add(k, SeverityWarning, len(items), s, d, ev)
	}
}

// manyQueries reports the steps in which a service ran many SQL
// statements, per service.
func (a *analysis) manyQueries() {
	if a.opts.ManyQueries < 0 {
		return
	}
	type key struct {
		from string
		step int
	}
	sums := map[key]int{}
	msgs := map[key][]*sequence.Message{}
	var order []key
	for _, m := range a.msgs {
		if m.Kind != sequence.KindMySQLQuery || a.role(m.To) != sequence.RoleMySQL {
			continue
		}
		k := key{m.From, m.Cause}
		if m.Cause == 0 {
			k.step = -m.Seq // a query of its own
		}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += max(m.Count, 1)
		msgs[k] = append(msgs[k], m)
	}
	byService := map[string][]key{}
	var services []string
	for _, k := range order {
		if sums[k] < a.opts.ManyQueries {
			continue
		}
		if byService[k.from] == nil {
			services = append(services, k.from)
		}
		byService[k.from] = append(byService[k.from], k)
	}
	for _, id := range services {
		f := manyQueriesFacts{Service: a.name(id), IsKeystone: a.role(id) == sequence.RoleKeystone, Threshold: a.opts.ManyQueries}
		var ev []*sequence.Message
		for _, k := range byService[id] {
			st := queryStep{Queries: sums[k]}
			if step := a.bySeq[k.step]; k.step > 0 && step != nil {
				st.Seq, st.Kind, st.Request = step.Seq, step.Kind, step.Method+" "+step.Target
				ev = append(ev, step)
			} else {
				st.Seq = msgs[k][0].Seq
			}
			f.Steps = append(f.Steps, st)
			ev = append(ev, msgs[k][0], msgs[k][len(msgs[k])-1])
		}
		s, d := f.text(a.lang)
		a.add(KindManyQueries, SeverityInfo, len(f.Steps), s, d, ev)
	}
}

// Categories of authentication failures, from the most telling.
const (
	failServiceCreds = iota
	failInvalidToken
	failPassword
	failForbidden
	failUnauthorized
	failCategories
)

// incident is one request that failed authentication, with every
// failing answer it led to.
type incident struct {
	root     int
	at       time.Time
	category int
	msgs     []*sequence.Message
}

// authFailures reports requests that failed authentication, and bursts
// of them.
func (a *analysis) authFailures() {
	byRoot := map[int]*incident{}
	var incidents []*incident
	for _, m := range a.msgs {
		if !isAnswer(m) {
			continue
		}
		cat, ok := a.failure(m)
		if !ok {
			continue
		}
		root := m.Cause
		if root == 0 {
			root = m.ReplyTo
		}
		in := byRoot[root]
		if in == nil {
			in = &incident{root: root, category: cat, at: m.Time}
			if r := a.bySeq[root]; r != nil && !r.Time.IsZero() {
				in.at = r.Time
			}
			byRoot[root] = in
			incidents = append(incidents, in)
		}
		in.category = min(in.category, cat)
		in.msgs = append(in.msgs, a.bySeq[m.ReplyTo], m)
	}
	if len(incidents) == 0 {
		return
	}
	slices.SortStableFunc(incidents, func(x, y *incident) int { return x.at.Compare(y.at) })
	f := authFailureFacts{Count: len(incidents), Span: incidents[len(incidents)-1].at.Sub(incidents[0].at)}
	var ev []*sequence.Message
	for _, in := range incidents {
		f.ByCategory[in.category]++
		ev = append(ev, in.msgs...)
	}
	sev := SeverityWarning
	if f.ByCategory[failServiceCreds] > 0 {
		sev = SeverityError
	}
	s, d := f.text(a.lang)
	a.add(KindAuthFailures, sev, len(incidents), s, d, ev)

	// The busiest window of BurstWindow.
	if a.opts.BurstCount < 0 {
		return
	}
	best, bestFrom := 0, 0
	for i, j := 0, 0; j < len(incidents); j++ {
		for incidents[j].at.Sub(incidents[i].at) > a.opts.BurstWindow {
			i++
		}
		if n := j - i + 1; n > best {
			best, bestFrom = n, i
		}
	}
	if best < a.opts.BurstCount {
		return
	}
	burst := incidents[bestFrom : bestFrom+best]
	bf := burstFacts{Count: best, Span: burst[len(burst)-1].at.Sub(burst[0].at), Window: a.opts.BurstWindow}
	ev = nil
	for _, in := range burst {
		bf.ByCategory[in.category]++
		ev = append(ev, in.msgs...)
	}
	s, d = bf.text(a.lang)
	a.add(KindAuthFailureBurst, SeverityWarning, best, s, d, ev)
}

// failure tells whether an answer is an authentication failure, and of
// which category.
func (a *analysis) failure(m *sequence.Message) (int, bool) {
	req := a.bySeq[m.ReplyTo]
	switch {
	case m.Kind == sequence.KindTokenInvalid:
		return failInvalidToken, true
	case m.Kind == sequence.KindTokenDenied || m.Status == 401 && req != nil && req.Kind == sequence.KindTokenIssue:
		if req != nil && isService(a.role(req.From)) {
			return failServiceCreds, true
		}
		return failPassword, true
	case m.Status == 401 && req != nil && req.Kind == sequence.KindTokenValidate:
		// keystone refused the service's own token
		return failServiceCreds, true
	case m.Status == 403:
		return failForbidden, true
	case m.Status == 401:
		return failUnauthorized, true
	}
	return 0, false
}

// byCategory counts failures per category.
type byCategory [failCategories]int
