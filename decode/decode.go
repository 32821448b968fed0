// Package decode turns captured packets into protocol events: it decodes
// link, IP and TCP headers, reassembles TCP connections and runs the
// protocol decoder each connection needs (HTTP, memcached, MySQL).
package decode

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/decode/packet"
	"github.com/authflow/authflow/decode/tls"

	"github.com/authflow/authflow/decode/stream"
)

// Protocol is an application protocol a connection can carry.
type Protocol string

// Protocols authflow decodes.
const (
	HTTP      Protocol = "http"
	Memcached Protocol = "memcached"
	MySQL     Protocol = "mysql"
)

// HandlerFunc makes the decoder of one connection.
type HandlerFunc func(ctx *stream.Context) stream.Handler

// Options configure decoding.
type Options struct {
	// Stream bounds reassembly.
	Stream stream.Options
	// BodyLimit is how much of each HTTP body is kept.
	BodyLimit int
	// Ports maps server ports to protocols; connections on other ports
	// are tried as HTTP.
	Ports map[uint16]Protocol
	// Decoders makes decoders for the protocols besides HTTP; nil means
	// DefaultDecoders (memcached and MySQL).
	Decoders map[Protocol]HandlerFunc
	// MaxEvents bounds how many events are kept; 0 means no bound. Past
	// it, events are dropped (Stats.EventsDropped).
	MaxEvents int
	// MaxEventBytes bounds the memory of the events kept, as estimated by
	// EventSize; 0 means no bound. Past half of it, HTTP bodies are no
	// longer kept (Stats.BodiesDropped), leaving room for the messages
	// themselves; past it, events are dropped.
	MaxEventBytes int64
	// TLSKeys are the secrets TLS connections are decrypted with (from
	// --tls-keylog and the captures' Decryption Secrets Blocks); nil for
	// none. TLS is recognised on every connection decoded as HTTP; one
	// that cannot be decrypted is a warning (Stats.TLSNoKey).
	TLSKeys *tls.KeyLog
	// Notify, if set, is called with every event as it is decoded (e.g.
	// to show a live timeline while capturing).
	Notify func(*event.Event)
	// Interpret gives HTTP messages their OpenStack meaning as they are
	// decoded (httpdec.Message.Meaning) and then frees what the flow no
	// longer needs: bodies (but an image create's request) and every
	// header but User-Agent, the token headers and Content-Length. Observe, if set, sees each event whole first (e.g.
	// to learn the secrets it reveals).
	Interpret bool
	Observe   func(*event.Event)
}

// DefaultPorts are the server ports of memcached and MySQL.
func DefaultPorts() map[uint16]Protocol {
	return map[uint16]Protocol{11211: Memcached, 3306: MySQL}
}

// DefaultDecoders are the decoders of the protocols besides HTTP:
// memcached and MySQL.
func DefaultDecoders() map[Protocol]HandlerFunc {
	return map[Protocol]HandlerFunc{Memcached: memcached.New, MySQL: mysql.New}
}

// Stats counts what decoding saw.
type Stats struct {
	// Undecodable lists the inputs none of whose packets could be decoded
	// because their link type is not supported.
	Undecodable []int
	Packets     int
	TCPSegments int
	NotTCP      int
	Malformed   int
	Fragments   int
	Truncated   int
	Connections int
	// Evicted and EvictedMemory count connections closed early to stay
	// within Options.Stream.MaxConnections and MaxMemory.
	Evicted       int
	EvictedMemory int
	// StreamMemory is the peak estimate of the memory of connections
	// (Options.Stream.MaxMemory).
	StreamMemory int64
	// EventsDropped counts events not kept (Options.MaxEvents,
	// MaxEventBytes); BodiesDropped the HTTP bodies not kept
	// (MaxEventBytes).
	EventsDropped int
	BodiesDropped int
	// TLSNoKey counts the TLS connections some of whose records could
	// not be decrypted (no key, or a wrong one).
	TLSNoKey int
	// Events is the number of events kept.
	Events int
	// EventBytes estimates the memory of the events kept.
	EventBytes int64
}

// Decoder decodes packets into events. It is not safe for concurrent use.
type Decoder struct {
	inputs []inputCount
	opts   Options
	pd     *packet.Decoder
	asm    *stream.Assembler
	events []*event.Event
	stats  Stats
	warned map[string]bool
	warns  []*event.Event
	// strings interns repeated header values.
	strings map[string]string
}

// New returns a Decoder.
func New(opts Options) *Decoder {
	if opts.Ports == nil {
		opts.Ports = DefaultPorts()
	}
	if opts.Decoders == nil {
		opts.Decoders = DefaultDecoders()
	}
	if opts.Stream.ServerPorts == nil {
		opts.Stream.ServerPorts = map[uint16]bool{}
		for p := range openstack.WellKnownPorts {
			opts.Stream.ServerPorts[p] = true
		}
		for p := range opts.Ports {
			opts.Stream.ServerPorts[p] = true
		}
	}
	d := &Decoder{opts: opts, pd: packet.NewDecoder(), warned: map[string]bool{}, strings: map[string]string{}}
	d.asm = stream.NewAssembler(d.selectHandler, event.SinkFunc(d.emit), opts.Stream)
	return d
}

func (d *Decoder) emit(e *event.Event) {
	if d.opts.Notify != nil {
		d.opts.Notify(e)
	}
	if d.opts.Observe != nil {
		d.opts.Observe(e)
	}
	if d.opts.Interpret {
		d.interpret(e)
	}
	if d.opts.MaxEvents > 0 && len(d.events) >= d.opts.MaxEvents {
		d.stats.EventsDropped++
		return
	}
	size := EventSize(e)
	if d.opts.MaxEventBytes > 0 && d.stats.EventBytes+size > d.opts.MaxEventBytes/2 {
		if m := httpMessage(e); m != nil && len(m.Body) > 0 {
			size -= int64(len(m.Body))
			m.Body = nil
			d.stats.BodiesDropped++
		}
		if d.stats.EventBytes+size > d.opts.MaxEventBytes {
			d.stats.EventsDropped++
			return
		}
	}
	d.stats.EventBytes += size
	d.events = append(d.events, e)
}

// keptRequestHeaders and keptResponseHeaders are the headers the flow
// reads once a message is interpreted: who sent it, the tokens it
// carries, the body length announced (said of a body cut short), the
// client a proxy relayed it for (proxy hops). Code
// that reads another header of an interpreted message adds it here.
var (
	keptRequestHeaders  = []string{"User-Agent", "X-Auth-Token", "X-Subject-Token", "Content-Length", "X-Forwarded-For"}
	keptResponseHeaders = []string{"Content-Length"}
)

// keptHeader returns the headers of h named in keep, their values
// interned.
func (d *Decoder) keptHeader(h http.Header, keep []string) http.Header {
	out := make(http.Header, len(keep))
	for _, k := range keep {
		if v := h.Get(k); v != "" {
			out[k] = []string{d.intern(v)}
		}
	}
	return out
}

// interpret gives an HTTP message its meaning and frees the rest (see
// Options.Interpret). Repeated header values (the same User-Agent on
// every request) are kept once.
func (d *Decoder) interpret(e *event.Event) {
	switch m := e.Data.(type) {
	case *httpdec.Request:
		call := openstack.Interpret(m)
		m.Meaning = call
		m.Header = d.keptHeader(m.Header, keptRequestHeaders)
		if call.Kind != openstack.ImageCreate {
			m.Body = nil
		}
	case *httpdec.Response:
		// An answer decoded before its request (after a loss, reassembly
		// holds the request back) is paired with it later, and read
		// then: it keeps its body and headers.
		if m.Request == nil {
			return
		}
		req, ok := m.Request.Data.(*httpdec.Request)
		if !ok {
			return
		}
		m.Meaning = openstack.InterpretResponse(openstack.Interpret(req), m)
		m.Header, m.Body = d.keptHeader(m.Header, keptResponseHeaders), nil
	}
}

// intern returns s, or the equal string kept before.
func (d *Decoder) intern(s string) string {
	if v, ok := d.strings[s]; ok {
		return v
	}
	if len(d.strings) < 4096 {
		d.strings[s] = s
	}
	return s
}

// eventOverhead estimates the memory of an event besides its variable
// parts.
const eventOverhead = 512

// EventSize estimates the memory an event holds: a fixed cost, plus the
// body and header of an HTTP message, the text of a warning, or what
// Data's MemSize method (if it has one) says.
func EventSize(e *event.Event) int64 {
	n := int64(eventOverhead)
	switch d := e.Data.(type) {
	case *httpdec.Request:
		n += messageSize(&d.Message) + int64(len(d.Target))
	case *httpdec.Response:
		n += messageSize(&d.Message)
	case string:
		n += int64(len(d))
	case interface{ MemSize() int }:
		n += int64(d.MemSize())
	}
	return n
}

func messageSize(m *httpdec.Message) int64 {
	n := int64(len(m.Body))
	for k, vs := range m.Header {
		n += int64(len(k)) + 48
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	return n
}

func httpMessage(e *event.Event) *httpdec.Message {
	switch d := e.Data.(type) {
	case *httpdec.Request:
		return &d.Message
	case *httpdec.Response:
		return &d.Message
	}
	return nil
}

// selectHandler picks the decoder of a new connection by its server port.
func (d *Decoder) selectHandler(ctx *stream.Context) stream.Handler {
	port := ctx.Conn.Server.Port()
	if proto, ok := d.opts.Ports[port]; ok && proto != HTTP {
		if mk := d.opts.Decoders[proto]; mk != nil {
			return mk(ctx)
		}
		return nil
	}
	_, known := openstack.WellKnownPorts[port]
	h := httpdec.New(ctx, httpdec.Options{BodyLimit: d.opts.BodyLimit, Sniff: !known})
	return tls.Wrap(ctx, h, tls.Options{Keys: d.opts.TLSKeys, NoKey: func() { d.stats.TLSNoKey++ }})
}

// maxCaptureWarnings bounds the warnings about the capture itself: a
// damaged capture can have as many kinds of damage as frames.
const maxCaptureWarnings = 100

// warnOnce records a warning about the capture itself, once per kind, for
// the first maxCaptureWarnings kinds.
func (d *Decoder) warnOnce(kind string, pos event.Position, format string, args ...any) {
	if d.warned[kind] || len(d.warned) >= maxCaptureWarnings {
		return
	}
	d.warned[kind] = true
	d.warns = append(d.warns, &event.Event{Kind: event.Warning, Start: pos, End: pos.Time, Data: fmt.Sprintf(format, args...)})
}

// Add decodes one packet.
func (d *Decoder) Add(p *capture.Packet) {
	d.stats.Packets++
	pos := event.Position{Time: p.Info.Timestamp, Frame: event.FrameRef{Input: p.Input, Number: p.Frame}}
	for len(d.inputs) <= p.Input {
		d.inputs = append(d.inputs, inputCount{})
	}
	d.inputs[p.Input].packets++
	seg, err := d.pd.Decode(p.LinkType, p.Data)
	if err != nil {
		if errors.Is(err, packet.ErrUnsupportedLinkType) {
			d.inputs[p.Input].unsupported++
		}
		if errors.Is(err, packet.ErrNotTCP) {
			d.stats.NotTCP++
			return
		}
		d.stats.Malformed++
		d.warnOnce("malformed:"+err.Error(), pos, "frame %d: %v", p.Frame, err)
		return
	}
	if seg.Fragment {
		d.stats.Fragments++
		d.warnOnce("fragment", pos, "IP fragments are not reassembled (first at frame %d)", p.Frame)
		return
	}
	if seg.Missing > 0 {
		d.stats.Truncated++
		d.warnOnce("truncated", pos, "packets cut short by the capture's snap length (first at frame %d): their missing bytes are gaps", p.Frame)
	}
	d.stats.TCPSegments++
	d.asm.AssembleTruncated(seg.NetFlow, seg.TCP, pos, seg.Missing)
}

// inputCount counts the packets of one input, and those whose link type
// is not supported.
type inputCount struct{ packets, unsupported int }

// Finish ends every connection and returns the events in time order.
func (d *Decoder) Finish() []*event.Event {
	for i, c := range d.inputs {
		if c.packets > 0 && c.unsupported == c.packets {
			d.stats.Undecodable = append(d.stats.Undecodable, i)
		}
	}
	d.asm.Close()
	st := d.asm.Stats()
	d.stats.Connections, d.stats.Evicted, d.stats.EvictedMemory, d.stats.StreamMemory = st.Connections, st.Evicted, st.EvictedMemory, st.PeakMemory
	d.stats.Events = len(d.events)
	evs := append(d.events, d.warns...)
	slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.Start.Time.Compare(b.Start.Time) })
	return evs
}

// Stats returns counters of what was decoded.
func (d *Decoder) Stats() Stats { return d.stats }

// Run decodes every packet of src and returns the events in time order.
// A read error ends the run early, with the events decoded so far.
func Run(src capture.Source, opts Options) ([]*event.Event, Stats, error) {
	d := New(opts)
	var err error
	for {
		var p *capture.Packet
		p, err = src.Next()
		if err != nil {
			break
		}
		d.Add(p)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return d.Finish(), d.Stats(), err
}
