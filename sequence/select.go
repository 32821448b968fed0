package sequence

import (
	"slices"
	"strings"
	"time"
)

// Selection picks part of a flow. The zero value selects everything.
type Selection struct {
	// Token keeps what one token touched: messages carrying, validating,
	// returning or caching it, the answers to them and every downstream
	// call they caused. A prefix of the fingerprint is enough.
	Token string
	// Image keeps what concerns one image id (a prefix is enough).
	Image string
	// Participants keeps messages from or to these participants (ids or
	// names, case-insensitive).
	Participants []string
	// Since and Until keep messages starting in [Since, Until] (zero:
	// unbounded). The command line turns frame numbers into these times.
	Since, Until time.Time
	// NoDB drops database messages; NoCache drops memcached messages.
	NoDB, NoCache bool
}

// Empty reports whether s selects everything.
func (s *Selection) Empty() bool {
	return s.Token == "" && s.Image == "" && len(s.Participants) == 0 && s.Since.IsZero() && s.Until.IsZero() &&
		!s.NoDB && !s.NoCache
}

// Select returns the part of flow that s picks, renumbered: seq, cause and
// reply_to refer to the kept messages, and participants no message uses
// any more are dropped.
func Select(flow *Flow, s Selection) *Flow {
	if s.Empty() {
		return flow
	}
	bySeq := map[int]*Message{}
	for _, m := range flow.Messages {
		bySeq[m.Seq] = m
	}
	keep := map[int]bool{}
	// Seeds: messages matching the token or image, or every message.
	seeded := s.Token != "" || s.Image != ""
	for _, m := range flow.Messages {
		if !seeded ||
			(s.Token != "" && m.Token != "" && strings.HasPrefix(m.Token, s.Token)) ||
			(s.Token != "" && m.AuthToken != "" && strings.HasPrefix(m.AuthToken, s.Token)) ||
			(s.Image != "" && m.Image != "" && strings.HasPrefix(m.Image, s.Image)) {
			keep[m.Seq] = true
		}
	}
	if seeded {
		// Requests bring their answers, and everything they caused.
		for changed := true; changed; {
			changed = false
			for _, m := range flow.Messages {
				if keep[m.Seq] {
					continue
				}
				if (m.ReplyTo != 0 && keep[m.ReplyTo]) || (m.Cause != 0 && keep[m.Cause]) {
					keep[m.Seq] = true
					changed = true
				}
			}
		}
		// Answers bring their requests.
		for _, m := range flow.Messages {
			if keep[m.Seq] && m.ReplyTo != 0 {
				keep[m.ReplyTo] = true
			}
		}
	}
	parts := map[string]bool{}
	for _, want := range s.Participants {
		for _, p := range flow.Participants {
			if strings.EqualFold(p.ID, want) || strings.EqualFold(p.Name, want) {
				parts[p.ID] = true
			}
		}
	}
	out := &Flow{Inputs: flow.Inputs, Clocks: flow.Clocks, Warnings: flow.Warnings, Findings: flow.Findings, Start: flow.Start, End: flow.End}
	renum := map[int]int{}
	used := map[string]bool{}
	for _, m := range flow.Messages {
		if !keep[m.Seq] || !s.inWindow(m) {
			continue
		}
		if len(parts) > 0 && !parts[m.From] && !parts[m.To] {
			continue
		}
		if s.NoDB && m.Kind.Protocol() == "mysql" || s.NoCache && m.Kind.Protocol() == "memcached" {
			continue
		}
		c := *m
		c.Seq = len(out.Messages) + 1
		renum[m.Seq] = c.Seq
		c.Cause, c.ReplyTo = renum[m.Cause], renum[m.ReplyTo]
		out.Messages = append(out.Messages, &c)
		used[c.From], used[c.To] = true, true
	}
	for _, p := range flow.Participants {
		if used[p.ID] {
			out.Participants = append(out.Participants, p)
		}
	}
	for _, m := range out.Messages {
		m.Notes = slices.DeleteFunc(slices.Clone(m.Notes), func(n Note) bool {
			for _, id := range n.Over {
				if !used[id] {
					return true
				}
			}
			return false
		})
	}
	return out
}

func (s *Selection) inWindow(m *Message) bool {
	return (s.Since.IsZero() || !m.Time.Before(s.Since)) && (s.Until.IsZero() || !m.Time.After(s.Until))
}
