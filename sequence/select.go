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
	// Names that match no participant select nothing; they must not
	// leave the participant filter empty, which would keep everyone.
	noParticipant := len(s.Participants) > 0 && len(parts) == 0
	out := &Flow{Inputs: flow.Inputs, Clocks: flow.Clocks, Warnings: flow.Warnings, Findings: flow.Findings, Start: flow.Start, End: flow.End}
	renum := map[int]int{}
	used := map[string]bool{}
	for _, m := range flow.Messages {
		if !keep[m.Seq] || !s.inWindow(m) || noParticipant {
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

// Unmatched is a part of a selection that matches nothing in a flow, with
// what the flow has instead.
type Unmatched struct {
	// What names the part: "token", "image", "participant" or "window".
	What string
	// Value is what was asked for (for a window, its bounds).
	Value string
	// Have lists what the flow has of that kind: fingerprints, image ids,
	// participant names, or the first and last message times.
	Have []string
}

// Unmatched returns the parts of s that match nothing in flow (the whole
// flow, before selecting), each with what the flow has instead.
func (s *Selection) Unmatched(flow *Flow) []Unmatched {
	var out []Unmatched
	var tokens, images []string
	seenTok, seenImg := map[string]bool{}, map[string]bool{}
	tokenFound, imageFound := false, false
	for _, m := range flow.Messages {
		for _, t := range []string{m.Token, m.AuthToken} {
			if t == "" {
				continue
			}
			if s.Token != "" && strings.HasPrefix(t, s.Token) {
				tokenFound = true
			}
			if !seenTok[t] {
				seenTok[t] = true
				tokens = append(tokens, t)
			}
		}
		if m.Image != "" {
			if s.Image != "" && strings.HasPrefix(m.Image, s.Image) {
				imageFound = true
			}
			if !seenImg[m.Image] {
				seenImg[m.Image] = true
				images = append(images, m.Image)
			}
		}
	}
	if s.Token != "" && !tokenFound {
		out = append(out, Unmatched{What: "token", Value: s.Token, Have: tokens})
	}
	if s.Image != "" && !imageFound {
		out = append(out, Unmatched{What: "image", Value: s.Image, Have: images})
	}
	for _, want := range s.Participants {
		found := false
		var names []string
		for _, p := range flow.Participants {
			names = append(names, p.Name)
			if strings.EqualFold(p.ID, want) || strings.EqualFold(p.Name, want) {
				found = true
			}
		}
		if !found {
			out = append(out, Unmatched{What: "participant", Value: want, Have: names})
		}
	}
	if !s.Since.IsZero() || !s.Until.IsZero() {
		inside := false
		for _, m := range flow.Messages {
			if s.inWindow(m) {
				inside = true
				break
			}
		}
		if !inside {
			u := Unmatched{What: "window", Value: windowText(s.Since) + " to " + windowText(s.Until)}
			if n := len(flow.Messages); n > 0 {
				u.Have = []string{flow.Messages[0].Time.UTC().Format(time.RFC3339Nano), flow.Messages[n-1].Time.UTC().Format(time.RFC3339Nano)}
			}
			out = append(out, u)
		}
	}
	return out
}

func windowText(t time.Time) string {
	if t.IsZero() {
		return "…"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
