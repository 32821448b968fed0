package sequence

import (
	"strings"
	"time"
)

// Categories of time spent serving a request.
const (
	SpentValidation = "token validation"
	SpentAuth       = "service authentication"
	SpentDatabase   = "database"
	SpentCache      = "cache"
	SpentFiles      = "file I/O"
	SpentCalls      = "other calls"
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
	Spent map[string]float64 `json:"spent_ms"`
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
		if m.Response || m.Cause != 0 || roles[m.From] != RoleClient || m.Method == "" {
			continue
		}
		a := answer[m.Seq]
		if a == nil {
			continue
		}
		rt := RequestTiming{Seq: m.Seq, Request: m.Method + " " + m.Target, Status: a.Status, Total: a.Duration, Spent: map[string]float64{}}
		rt.TotalMS = msFloat(a.Duration)
		index[m.Seq] = len(out)
		out = append(out, rt)
	}
	for _, m := range flow.Messages {
		i, ok := index[m.Cause]
		if !ok || m.Response {
			continue
		}
		var d time.Duration
		if a := answer[m.Seq]; a != nil {
			d = a.Duration
		} else if m.Duration > 0 {
			d = m.Duration // a summarised run of file reads
		}
		out[i].Spent[category(m)] += msFloat(d)
	}
	return out
}

func category(m *Message) string {
	switch {
	case m.Kind == "keystone.token.validate":
		return SpentValidation
	case m.Kind == "keystone.token.issue":
		return SpentAuth
	case strings.HasPrefix(m.Kind, "mysql."):
		return SpentDatabase
	case strings.HasPrefix(m.Kind, "memcached."):
		return SpentCache
	case strings.HasPrefix(m.Kind, "file."):
		return SpentFiles
	}
	return SpentCalls
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
