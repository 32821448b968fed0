// Package decode turns captured packets into protocol events: it decodes
// link, IP and TCP headers, reassembles TCP connections and runs the
// protocol decoder each connection needs (HTTP, memcached, MySQL).
package decode

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/decode/packet"

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
	// Decoders makes decoders for the protocols besides HTTP.
	Decoders map[Protocol]HandlerFunc
	// MaxEvents bounds how many events are kept; 0 means 5 000 000.
	MaxEvents int
	// Notify, if set, is called with every event as it is decoded (e.g.
	// to show a live timeline while capturing).
	Notify func(*event.Event)
}

// DefaultPorts are the server ports of memcached and MySQL.
func DefaultPorts() map[uint16]Protocol {
	return map[uint16]Protocol{11211: Memcached, 3306: MySQL}
}

// Stats counts what decoding saw.
type Stats struct {
	Packets       int
	TCPSegments   int
	NotTCP        int
	Malformed     int
	Fragments     int
	Truncated     int
	Connections   int
	Evicted       int
	EventsDropped int
}

// Decoder decodes packets into events. It is not safe for concurrent use.
type Decoder struct {
	opts   Options
	pd     *packet.Decoder
	asm    *stream.Assembler
	events []*event.Event
	stats  Stats
	warned map[string]bool
	warns  []*event.Event
}

// New returns a Decoder.
func New(opts Options) *Decoder {
	if opts.Ports == nil {
		opts.Ports = DefaultPorts()
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 5_000_000
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
	d := &Decoder{opts: opts, pd: packet.NewDecoder(), warned: map[string]bool{}}
	d.asm = stream.NewAssembler(d.selectHandler, event.SinkFunc(d.emit), opts.Stream)
	return d
}

func (d *Decoder) emit(e *event.Event) {
	if d.opts.Notify != nil {
		d.opts.Notify(e)
	}
	if len(d.events) >= d.opts.MaxEvents {
		d.stats.EventsDropped++
		return
	}
	d.events = append(d.events, e)
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
	return httpdec.New(ctx, httpdec.Options{BodyLimit: d.opts.BodyLimit, Sniff: !known})
}

// warnOnce records a warning about the capture itself, once per kind.
func (d *Decoder) warnOnce(kind string, pos event.Position, format string, args ...any) {
	if d.warned[kind] {
		return
	}
	d.warned[kind] = true
	d.warns = append(d.warns, &event.Event{Kind: event.Warning, Start: pos, End: pos.Time, Data: fmt.Sprintf(format, args...)})
}

// Add decodes one packet.
func (d *Decoder) Add(p *capture.Packet) {
	d.stats.Packets++
	pos := event.Position{Time: p.Info.Timestamp, Frame: event.FrameRef{Input: p.Input, Number: p.Frame}}
	seg, err := d.pd.Decode(p.LinkType, p.Data)
	if err != nil {
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
	d.asm.Assemble(seg.NetFlow, seg.TCP, pos)
}

// Finish ends every connection and returns the events in time order.
func (d *Decoder) Finish() []*event.Event {
	d.asm.Close()
	st := d.asm.Stats()
	d.stats.Connections, d.stats.Evicted = st.Connections, st.Evicted
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

var _ = time.Second
