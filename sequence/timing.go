package sequence

import (
	"time"
)

// Categories of time spent serving a request.
const (
	SpentValidation = "token validation"
	SpentAuth       = "service authentication"
	// SpentDatabase is the time the database was busy: each query to its
	// last result (a burst's busy time, not its wall-clock span).
	SpentDatabase = "database"
	SpentCache    = "cache"
	SpentFiles    = "file I/O"
	SpentCalls    = "other calls"
)

// SpentOrder is the order categories are shown in.
var SpentOrder = []string{SpentValidation, SpentAuth, SpentDatabase, SpentCache, SpentFiles, SpentCalls}

// RequestTiming says where the time of one user request went.
type RequestTiming struct {
	// Seq is the request's message.
	Seq int `json:"seq"`
	// Request is its request line (method and target) and Status its
	// answer's status.
	Request string `json:"request"`
	Status  int    `json:"status,omitempty"`
	// Total is from the request's first byte to its answer's last.
	Total time.Duration `json:"-"`
	// TotalMS is Total in milliseconds.
	TotalMS float64 `json:"total_ms"`
	// Spent is the time of the downstream calls the request caused, by
	// category, in milliseconds; what the service did itself is the rest.
	// The database's is its busy time (SpentDatabase).
	Spent map[string]float64 `json:"spent_ms"`
	// DatabaseSpanMS is the wall-clock span of the request's database
	// queries, bursts counted from first query to last result: the busy
	// time plus the caller's own work between statements.
	DatabaseSpanMS float64 `json:"database_span_ms,omitempty"`
}

// Timings computes, for every request a client made, where its time went:
// the downstream calls it caused directly, by category. Calls nested
// deeper (keystone's database queries during a validation) count in the
// call that caused them.
func Timings(flow *Flow) []RequestTiming {
	roles := map[string]string{}
	for _, p := range flow.Participants {
		roles[p.ID] = p.Role
	}
	answer := map[int]*Message{}
	for _, m := range flow.Messages {
		if m.ReplyTo != 0 {
			answer[m.ReplyTo] = m
		}
	}
	var out []RequestTiming
	index := map[int]int{}
	for _, m := range flow.Messages {
		if isAnswer(m) || m.Cause != 0 || roles[m.From] != RoleClient || m.Method == "" {
			continue
		}
		a := answer[m.Seq]
		if a == nil {
			continue
		}
		rt := RequestTiming{Seq: m.Seq, Request: m.Method + " " + m.Target, Status: a.Status, Total: duration(a), Spent: map[string]float64{}}
		rt.TotalMS = msFloat(rt.Total)
		index[m.Seq] = len(out)
		out = append(out, rt)
	}
	for _, m := range flow.Messages {
		i, ok := index[m.Cause]
		if !ok || isAnswer(m) {
			continue
		}
		var d time.Duration
		a := answer[m.Seq]
		if a != nil {
			d = duration(a)
		} else {
			d = duration(m) // a summarised run of file reads, or 0
		}
		c := category(m)
		spent := msFloat(d)
		if c == SpentDatabase {
			out[i].DatabaseSpanMS += spent
			if a != nil && a.BusyMS != nil {
				spent = *a.BusyMS // a burst: the database's share of its span
			}
		}
		out[i].Spent[c] += spent
	}
	return out
}

func category(m *Message) string {
	switch {
	case m.Kind == KindTokenValidate:
		return SpentValidation
	case m.Kind == KindTokenIssue:
		return SpentAuth
	case m.Kind.Protocol() == "mysql":
		return SpentDatabase
	case m.Kind.Protocol() == "memcached":
		return SpentCache
	case m.Kind.Protocol() == "file":
		return SpentFiles
	}
	return SpentCalls
}

// isAnswer tells an answer, also in a flow read back from JSON.
func isAnswer(m *Message) bool { return m.Response || m.ReplyTo != 0 }

// duration is a message's Duration, or its DurationMS in a flow read
// back from JSON.
func duration(m *Message) time.Duration {
	if m.Duration == 0 && m.DurationMS != nil {
		return time.Duration(*m.DurationMS * float64(time.Millisecond))
	}
	return m.Duration
}

func msFloat(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// setDuration records on an answer how long its exchange took.
func setDuration(m *Message, start, end time.Time) {
	if end.Before(start) {
		return
	}
	m.Duration = end.Sub(start)
	d := msFloat(m.Duration)
	m.DurationMS = &d
}
