package sequence

import (
	"slices"
	"time"
)

// Operation is what the requests of one kind did: requests caused by
// nothing with the same method and route template (GET /v2/images/{id}/file).
type Operation struct {
	// Request is the method and route template.
	Request string `json:"request"`
	// Count is how many there were; Unanswered how many of them had no
	// answer in the capture.
	Count      int `json:"count"`
	Unanswered int `json:"unanswered,omitempty"`
	// Errors counts the answers with a status of 400 or more, by status.
	Errors map[int]int `json:"errors"`
	// P50MS, P95MS, P99MS and MaxMS are the latencies of the answered
	// ones (request's first byte to answer's last), in milliseconds.
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Validations counts the token validations they caused.
	Validations int `json:"validations"`
	// CacheLookups and CacheHits count their cache lookups.
	CacheLookups int `json:"cache_lookups"`
	CacheHits    int `json:"cache_hits"`
	// DBStatements counts their database statements, DBBusyMS the time
	// the database was busy with them.
	DBStatements int     `json:"db_statements"`
	DBBusyMS     float64 `json:"db_busy_ms"`
}

// Operations sums the flow's requests by operation, most frequent first
// (ties in order of first appearance).
func Operations(flow *Flow) []Operation {
	trees := Requests(flow)
	slices.SortStableFunc(trees, func(a, b *Request) int { return a.Root.Seq - b.Root.Seq })
	var ops []*Operation
	durations := map[*Operation][]time.Duration{}
	byKey := map[string]*Operation{}
	for _, t := range trees {
		if t.Root.Method == "" {
			continue
		}
		key := t.Root.Method + " " + RouteTemplate(t.Root.Target)
		op := byKey[key]
		if op == nil {
			op = &Operation{Request: key, Errors: map[int]int{}}
			byKey[key] = op
			ops = append(ops, op)
		}
		op.Count++
		answered := false
		for _, m := range t.Messages {
			switch {
			case m.ReplyTo == t.Root.Seq && m.ReplyTo != 0:
				answered = true
				durations[op] = append(durations[op], m.Duration)
				if m.Status >= 400 {
					op.Errors[m.Status]++
				}
			case m.Kind == KindTokenValidate:
				op.Validations++
			case m.Kind == KindMemcachedResult && m.Hit != nil:
				op.CacheLookups++
				if *m.Hit {
					op.CacheHits++
				}
			case m.Kind == KindMySQLQuery:
				op.DBStatements += max(m.Count, 1)
			case m.Kind == KindMySQLResult:
				if m.BusyMS != nil {
					op.DBBusyMS += *m.BusyMS
				} else {
					op.DBBusyMS += float64(m.Duration) / float64(time.Millisecond)
				}
			}
		}
		if !answered {
			op.Unanswered++
		}
	}
	out := make([]Operation, 0, len(ops))
	for _, op := range ops {
		ds := durations[op]
		ms := func(p int) float64 { return float64(percentile(ds, p)) / float64(time.Millisecond) }
		op.P50MS, op.P95MS, op.P99MS, op.MaxMS = ms(50), ms(95), ms(99), ms(100)
		out = append(out, *op)
	}
	slices.SortStableFunc(out, func(a, b Operation) int { return b.Count - a.Count })
	return out
}
