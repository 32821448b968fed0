package sequence

import (
	"cmp"
	"slices"
	"time"
)

// Request is one user request's causal tree: the request that starts it,
// its answer, every downstream call it caused (transitively, by Cause)
// and their answers. It is the unit emitted to consumers that want each
// request as it completes (pipeline.Options.OnRequest), e.g. a trace
// exporter: one Request is one trace.
type Request struct {
	// Root is the request that starts the tree: a message that is not an
	// answer and was caused by no other (Cause == 0). An answer whose
	// request was not captured is a root of its own.
	Root *Message
	// Messages are every message of the tree, Root first, then in Seq
	// order.
	Messages []*Message
	// Participants are the participants the messages name, in the
	// flow's order.
	Participants []*Participant
	// Start is when Root's first byte was captured; End when the last
	// byte of the tree's last message was.
	Start, End time.Time
	// Complete says Root is a request (not an answer whose request was
	// not captured) and every HTTP request in the tree was answered.
	Complete bool
	// Late marks an addendum to a tree already emitted: messages that
	// arrived after it, with the same Root. Never set when the trees
	// come from a whole flow (Requests).
	Late bool
}

// Requests groups a whole flow into its requests' causal trees, in the
// order they completed (by End, then by Root.Seq). Every message of the
// flow is in exactly one tree.
func Requests(flow *Flow) []*Request {
	bySeq := make(map[int]*Message, len(flow.Messages))
	for _, m := range flow.Messages {
		bySeq[m.Seq] = m
	}
	// root follows an answer to its request and a downstream message to
	// its cause, up to a message caused by nothing.
	rootOf := make(map[int]int, len(flow.Messages))
	var root func(m *Message, depth int) int
	root = func(m *Message, depth int) int {
		if r, ok := rootOf[m.Seq]; ok {
			return r
		}
		r := m.Seq
		if depth < 64 { // a loop cannot happen; this bounds it anyway
			if m.Cause != 0 && bySeq[m.Cause] != nil && m.Cause != m.Seq {
				r = root(bySeq[m.Cause], depth+1)
			} else if m.ReplyTo != 0 && bySeq[m.ReplyTo] != nil && m.ReplyTo != m.Seq {
				r = root(bySeq[m.ReplyTo], depth+1)
			}
		}
		rootOf[m.Seq] = r
		return r
	}
	trees := map[int]*Request{}
	var order []*Request
	for _, m := range flow.Messages {
		r := root(m, 0)
		t := trees[r]
		if t == nil {
			t = &Request{Root: bySeq[r]}
			trees[r] = t
			order = append(order, t)
		}
		t.Messages = append(t.Messages, m)
	}
	participants := map[string]int{}
	for i, p := range flow.Participants {
		participants[p.ID] = i
	}
	for _, t := range order {
		// Root first: it has the lowest seq of its tree but one of its
		// messages may share its time.
		slices.SortStableFunc(t.Messages, func(a, b *Message) int {
			if a == t.Root {
				return -1
			}
			if b == t.Root {
				return 1
			}
			return cmp.Compare(a.Seq, b.Seq)
		})
		t.Start = t.Root.Time
		answered := map[int]bool{}
		used := map[int]bool{}
		for _, m := range t.Messages {
			end := m.End
			if end.IsZero() {
				end = m.Time
			}
			if end.After(t.End) {
				t.End = end
			}
			if m.ReplyTo != 0 {
				answered[m.ReplyTo] = true
			}
			for _, id := range []string{m.From, m.To} {
				if i, ok := participants[id]; ok {
					used[i] = true
				}
			}
		}
		t.Complete = true
		for _, m := range t.Messages {
			if isRequest(m) && !answered[m.Seq] {
				t.Complete = false
			}
		}
		if isAnswer(t.Root) {
			t.Complete = false
		}
		for i, p := range flow.Participants {
			if used[i] {
				t.Participants = append(t.Participants, p)
			}
		}
	}
	slices.SortStableFunc(order, func(a, b *Request) int {
		if c := a.End.Compare(b.End); c != 0 {
			return c
		}
		return cmp.Compare(a.Root.Seq, b.Root.Seq)
	})
	return order
}

// isRequest says whether m is an HTTP request, which always gets an
// answer unless the capture missed it (a memcached store with noreply,
// a file read or a reset does not).
func isRequest(m *Message) bool {
	return !isAnswer(m) && m.Method != ""
}
