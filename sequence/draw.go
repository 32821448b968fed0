package sequence

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/decode/event"
)

// pending is a message before it gets its place in the diagram.
type pending struct {
	msg   *Message
	at    event.Position
	x     *exchange
	isReq bool
	cause *exchange
}

// draw turns exchanges into messages in time order.
func (b *builder) draw() {
	var ms []*pending
	for _, x := range b.xs {
		for _, m := range b.messages(x) {
			if b.unsettled[x] && (!m.isReq || x.file == nil) {
				continue
			}
			ms = append(ms, m)
			if b.starts != nil {
				b.starts[m.msg] = x.start
			}
		}
	}
	slices.SortStableFunc(ms, func(a, c *pending) int {
		if r := a.at.Time.Compare(c.at.Time); r != 0 {
			return r
		}
		if r := cmp.Compare(a.at.Frame.Input, c.at.Frame.Input); r != 0 {
			return r
		}
		return cmp.Compare(a.at.Frame.Number, c.at.Frame.Number)
	})
	for i, m := range ms {
		m.msg.Seq = i + 1
		if m.isReq {
			m.x.seq = m.msg.Seq
		}
	}
	tlsNoted := map[[3]string]bool{}
	for _, m := range ms {
		b.tlsNote(m, tlsNoted)
		if m.cause != nil {
			m.msg.Cause = m.cause.seq
		}
		if c := m.x.conn; c != nil {
			m.msg.Server, m.msg.Client = c.Server.String(), c.Client.String()
		}
		if !m.isReq && m.x.seq != 0 && m.x.seq != m.msg.Seq {
			m.msg.ReplyTo = m.x.seq
		}
		if b.opts.Timing && m.msg.Response && m.msg.DurationMS != nil {
			m.msg.Label += " (" + millis(m.msg.Duration) + ")"
		}
		b.flow.Messages = append(b.flow.Messages, m.msg)
	}
	b.assignIDs()
}

// tlsNote marks a message that travelled on a decrypted TLS connection
// with its version and cipher suite, and notes them on the first request
// between the two parties (once per pair, not per connection, to keep the
// diagram compact).
func (b *builder) tlsNote(m *pending, noted map[[3]string]bool) {
	if m.x.proto != protoHTTP || m.x.conn == nil {
		return
	}
	info := b.tls[m.x.conn]
	if info == "" {
		return
	}
	m.msg.TLS = info
	key := [3]string{m.msg.From, m.msg.To, info}
	if !m.isReq || noted[key] {
		return
	}
	noted[key] = true
	m.msg.Notes = append(m.msg.Notes, Note{Over: []string{m.msg.From, m.msg.To}, Text: b.t(noteTLS, info)})
}

// message starts a message between two parties at an event's position.
func (b *builder) message(from, to *party, at event.Position, kind Kind) *Message {
	from.used, to.used = true, true
	m := &Message{Time: at.Time, Kind: kind, From: partyRef(from), To: partyRef(to)}
	if at.Frame.Number > 0 {
		m.Frames = []Frame{{File: b.inputName(at.Frame.Input), Number: at.Frame.Number}}
	}
	return m
}

// partyRef is a placeholder for the participant id, resolved by
// assignIDs once the order of appearance is known.
func partyRef(p *party) string { return "\x00" + fmt.Sprintf("%p", p) }

func (b *builder) inputName(i int) string {
	if i >= 0 && i < len(b.opts.Inputs) {
		return b.opts.Inputs[i]
	}
	return fmt.Sprintf("input%d", i+1)
}

// assignIDs gives participants short ids in order of first appearance.
func (b *builder) assignIDs() {
	ids := map[string]*party{}
	for _, p := range b.parties.order {
		ids[partyRef(p)] = p
	}
	taken := map[string]bool{}
	var order []*party
	seen := map[*party]bool{}
	resolve := func(ref string) string {
		p := ids[ref]
		if p == nil {
			return ref
		}
		if !seen[p] {
			seen[p] = true
			order = append(order, p)
			p.p.ID = shortID(p, taken)
			taken[p.p.ID] = true
		}
		return p.p.ID
	}
	for _, m := range b.flow.Messages {
		m.From = resolve(m.From)
		m.To = resolve(m.To)
		for i := range m.Notes {
			for j, o := range m.Notes[i].Over {
				m.Notes[i].Over[j] = resolve(o)
			}
		}
	}
	al := parseAliases(b.opts.Aliases)
	for _, p := range order {
		slices.Sort(p.p.Endpoints)
		p.p.Endpoints = slices.Compact(p.p.Endpoints)
		p.p.Name = al.displayName(p)
		b.flow.Participants = append(b.flow.Participants, p.p)
	}
}

var preferredIDs = map[string]string{
	"OpenStackClient":   "C",
	"keystone":          "K",
	"glance":            "G",
	"memcached":         "M",
	"keystone DB":       "KD",
	"glance DB":         "GD",
	"Local File System": "F",
	"nova":              "N",
	"neutron":           "Q",
	"placement":         "P",
	"cinder":            "CI",
	"swift":             "S",
}

// shortID makes a short diagram id for p that no other participant has
// and that is no keyword of the diagram languages.
func shortID(p *party, taken map[string]bool) string {
	base := preferredIDs[p.name]
	if p.role == RolePeer {
		base = "Peer" // named by an address, which makes no id
	}
	if base == "" {
		var sb strings.Builder
		for _, w := range strings.FieldsFunc(p.name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
			sb.WriteString(strings.ToUpper(w[:1]))
		}
		base = sb.String()
		if base == "" || !(base[0] >= 'A' && base[0] <= 'Z') {
			base = "P" + base
		}
	}
	for diagramKeyword(base) {
		base = "P" + base
	}
	id := base
	for i := 2; taken[id] || diagramKeyword(id); i++ {
		id = fmt.Sprintf("%s%d", base, i)
	}
	return id
}

// diagramKeywords are the words Mermaid's sequence diagram grammar (in
// any case) and PlantUML's reserve: an id that is one of them breaks the
// diagram ("END->>K" does not parse).
var diagramKeywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ACC_DESCR ACC_TITLE ACCDESCR ACCTITLE ACTIVATE ACTOR ALT AND AS AUTONUMBER BOX
		BREAK CREATE CRITICAL DEACTIVATE DESTROY DETAILS ELSE END LEFT LINK LINKS LOOP NOTE OF OFF OPT OPTION
		OVER PAR PAR_OVER PARTICIPANT PROPERTIES RECT RIGHT TITLE SEQUENCEDIAGRAM GROUP REF RETURN DELAY HNOTE
		RNOTE NEWPAGE LEGEND ENDLEGEND HEADER ENDHEADER FOOTER ENDFOOTER HIDE SHOW SKINPARAM DATABASE QUEUE
		ENTITY CONTROL BOUNDARY COLLECTIONS SPACE ENDNOTE ENDRNOTE ENDHNOTE ENDBOX MAINFRAME`) {
		diagramKeywords[w] = true
	}
}

// diagramKeyword reports whether id is a keyword, in any case.
func diagramKeyword(id string) bool { return diagramKeywords[strings.ToUpper(id)] }

// millis formats a duration in milliseconds, as people read them.
func millis(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}
