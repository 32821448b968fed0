package sequence

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MermaidMaxText is Mermaid's default maxTextSize: a diagram source longer
// than this is not drawn. Writers group a flow (Group) rather than exceed
// it.
const MermaidMaxText = 50000

// Group draws requests of the same shape once: requests caused by nothing
// with the same method, route template (GET /v2/images/{id}/file) and the
// same downstream steps (who called whom, for what, in order) become one
// causal tree, the first of them, its request labelled with how many there
// were (×N), its answer with their latency (p50, p95, max), its cache
// lookups with their hit ratio and its database bursts with the statements
// per request. Messages are renumbered as Select does; a shape seen once is
// drawn as it was.
func Group(flow *Flow) *Flow {
	trees := Requests(flow)
	slices.SortStableFunc(trees, func(a, b *Request) int { return a.Root.Seq - b.Root.Seq })
	type group struct {
		first   *Request
		members []*Request
	}
	var groups []*group
	byShape := map[string]*group{}
	for _, t := range trees {
		k := shape(t)
		g := byShape[k]
		if g == nil {
			g = &group{first: t}
			byShape[k] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, t)
	}
	keep := map[int]bool{}
	label := map[int]string{} // new labels by original seq
	for _, g := range groups {
		for _, m := range g.first.Messages {
			keep[m.Seq] = true
		}
		if len(g.members) > 1 {
			groupLabels(g.first, g.members, label)
		}
	}
	out := &Flow{Inputs: flow.Inputs, Clocks: flow.Clocks, Warnings: flow.Warnings, Findings: flow.Findings, Start: flow.Start, End: flow.End}
	renum := map[int]int{}
	used := map[string]bool{}
	for _, m := range flow.Messages {
		if !keep[m.Seq] {
			continue
		}
		c := *m
		c.Seq = len(out.Messages) + 1
		renum[m.Seq] = c.Seq
		c.Cause, c.ReplyTo = renum[m.Cause], renum[m.ReplyTo]
		if l, ok := label[m.Seq]; ok {
			c.Label = l
		}
		out.Messages = append(out.Messages, &c)
		used[c.From], used[c.To] = true, true
	}
	for _, p := range flow.Participants {
		if used[p.ID] {
			out.Participants = append(out.Participants, p)
		}
	}
	return out
}

// shape is what requests drawn as one share: the root's method and route
// template, then each message of the tree by sender, receiver and kind.
func shape(t *Request) string {
	var b strings.Builder
	b.WriteString(t.Root.Method + " " + RouteTemplate(t.Root.Target) + "|" + t.Root.From + ">" + t.Root.To + ":" + string(t.Root.Kind))
	for _, m := range t.Messages[1:] {
		fmt.Fprintf(&b, "|%s>%s:%s", m.From, m.To, m.Kind)
	}
	return b.String()
}

// groupLabels labels the first tree of a group of n same-shaped trees with
// what the group did: the root ×n, latencies on the root's answer, hit
// ratios on cache lookups, statements per request on database bursts.
func groupLabels(first *Request, members []*Request, label map[int]string) {
	n := len(members)
	root := first.Root
	if root.Method != "" {
		// The request line with its route template, what it does (but
		// the token, which differs between requests), ×n.
		what := ""
		if _, rest, ok := strings.Cut(root.Label, ": "); ok {
			if i := strings.LastIndex(rest, " [token "); i >= 0 {
				rest = rest[:i]
			}
			if !strings.Contains(rest, "token ") {
				what = ": " + rest
			}
		}
		label[root.Seq] = fmt.Sprintf("%s %s%s ×%d", root.Method, RouteTemplate(root.Target), what, n)
	} else {
		label[root.Seq] = fmt.Sprintf("%s ×%d", root.Label, n)
	}
	for i, m := range first.Messages {
		if i == 0 {
			continue
		}
		switch {
		case m.ReplyTo == root.Seq:
			var ds []time.Duration
			statuses := map[int]int{}
			for _, t := range members {
				a := t.Messages[i]
				ds = append(ds, a.Duration)
				statuses[a.Status]++
			}
			l := m.Label
			if len(statuses) > 1 {
				l = statusCounts(statuses)
			}
			label[m.Seq] = fmt.Sprintf("%s · p50 %s, p95 %s, max %s", l, millis(percentile(ds, 50)), millis(percentile(ds, 95)), millis(percentile(ds, 100)))
		case m.Kind == KindMemcachedResult && m.Hit != nil:
			hits := 0
			for _, t := range members {
				if h := t.Messages[i].Hit; h != nil && *h {
					hits++
				}
			}
			label[m.Seq] = fmt.Sprintf("%s · cache hits %d/%d (%.0f%%)", m.Label, hits, n, 100*float64(hits)/float64(n))
		case m.Kind == KindMySQLQuery:
			total := 0
			for _, t := range members {
				c := t.Messages[i].Count
				if c == 0 {
					c = 1
				}
				total += c
			}
			label[m.Seq] = fmt.Sprintf("%s · %.1f statements per request", m.Label, float64(total)/float64(n))
		}
	}
}

// statusCounts writes answers by status, e.g. "200 ×18, 503 ×2".
func statusCounts(st map[int]int) string {
	codes := make([]int, 0, len(st))
	for c := range st {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d ×%d", c, st[c]))
	}
	return strings.Join(parts, ", ")
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (p*len(s) + 99) / 100
	if k < 1 {
		k = 1
	}
	return s[k-1]
}

var idSegment = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[0-9]+|gAAAA[A-Za-z0-9_=-]+)$`)

// RouteTemplate is a request target with its ids made placeholders, the
// query left out: /v2/images/2b1e…/file?x=1 → /v2/images/{id}/file?…
func RouteTemplate(target string) string {
	path, query, hasQuery := strings.Cut(target, "?")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if idSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	out := strings.Join(segs, "/")
	if hasQuery && query != "" {
		out += "?…"
	}
	return out
}
