package stream

import (
	"fmt"
	"iter"

	"github.com/authflow/authflow/decode/event"
)

// Handler decodes the two directions of one TCP connection. The pipeline
// runs Client (the bytes the client sent) and Server (the bytes the server
// sent) as two coroutines: each reads its Reader until it returns an error
// other than a *GapError, then returns. The two never run at the same
// time, so a Handler may share state between them without locking, and
// bytes are handed to them in capture order.
type Handler interface {
	Client(r *Reader)
	Server(r *Reader)
}

// Selector chooses the Handler for a new connection, or nil to ignore it.
type Selector func(c *Context) Handler

// Context is what a Handler knows about its connection, and where it
// reports events.
type Context struct {
	Conn *event.Conn
	sink event.Sink
	// mem, if set, counts the memory held by the connection's decoders
	// (see Assembler).
	mem *int64
}

// NewContext returns a Context for handlers driven outside an Assembler,
// e.g. in tests.
func NewContext(c *event.Conn, sink event.Sink) *Context {
	return &Context{Conn: c, sink: sink}
}

// Emit reports an event of this connection.
func (c *Context) Emit(e *event.Event) {
	if e.Conn == nil {
		e.Conn = c.Conn
	}
	if e.End.IsZero() {
		e.End = e.Start.Time
	}
	c.sink.Emit(e)
}

// Warn reports something the decoder could not make sense of.
func (c *Context) Warn(pos event.Position, format string, args ...any) {
	c.sink.Emit(&event.Event{
		Kind:  event.Warning,
		Start: pos,
		End:   pos.Time,
		Conn:  c.Conn,
		Data:  fmt.Sprintf("%s: %s", c.Conn, fmt.Sprintf(format, args...)),
	})
}

// half runs one direction's decoder as a coroutine.
type half struct {
	ctx  *Context
	run  func(*Reader)
	f    feeder
	r    *Reader
	next func() (struct{}, bool)
	stop func()
	done bool
}

// halfOverhead estimates the memory of a running decoder besides its
// Reader's buffer: the coroutine's goroutine and stack, the feeder.
const halfOverhead = 8 << 10

// memory estimates what the decoder holds.
func (h *half) memory() int64 {
	if h.r == nil || h.done {
		return 0
	}
	return halfOverhead + int64(h.r.Reader.Size()) + int64(cap(h.f.marks)*markSize)
}

func (h *half) account(n int) {
	if h.ctx.mem != nil {
		*h.ctx.mem += int64(n)
	}
}

func (h *half) start() {
	h.account(halfOverhead)
	h.r = newReader(&h.f, h.ctx.mem)
	seq := func(yield func(struct{}) bool) {
		h.f.wait = func() bool { return yield(struct{}{}) }
		defer func() {
			if p := recover(); p != nil {
				h.ctx.Warn(h.r.Pos(), "decoder failed: %v", p)
			}
		}()
		h.run(h.r)
	}
	h.next, h.stop = iter.Pull(seq)
}

// resume lets the decoder consume what it was given.
func (h *half) resume() {
	if _, ok := h.next(); !ok {
		h.finish()
	}
}

func (h *half) finish() {
	if h.done {
		return
	}
	h.done = true
	if h.stop != nil {
		h.stop()
	}
	h.account(-cap(h.f.marks) * markSize)
	h.f.chunk, h.f.marks = nil, nil
	if h.r != nil {
		h.r.release()
		h.account(-halfOverhead)
	}
}

// feed hands the decoder the bytes data, first captured at pos, after gap
// missing bytes (0 for none, -1 for an unknown number).
func (h *half) feed(gap int, data []byte, pos event.Position) {
	if h.done || (len(data) == 0 && gap == 0) {
		return
	}
	if h.next == nil {
		h.start()
	}
	off := h.f.offset
	if gap != 0 {
		h.f.pending = &GapError{Bytes: gap}
		if gap > 0 {
			off += int64(gap)
		}
	}
	if len(data) > 0 {
		before := cap(h.f.marks)
		h.f.addMark(off, pos)
		h.account((cap(h.f.marks) - before) * markSize)
	}
	h.f.chunk = data
	h.resume()
}

// end tells the decoder its direction is over and waits for it to return.
func (h *half) end() {
	if h.done {
		return
	}
	if h.next == nil {
		h.done = true
		return
	}
	h.f.eof = true
	h.resume()
	h.finish()
}

// Pipe drives a Handler by hand: bytes are fed to each direction in the
// order of the calls. It is how tests and tools run a decoder on known
// bytes without packets.
type Pipe struct {
	client, server half
}

// NewPipe starts driving h for the connection of ctx.
func NewPipe(ctx *Context, h Handler) *Pipe {
	return &Pipe{
		client: half{ctx: ctx, run: h.Client},
		server: half{ctx: ctx, run: h.Server},
	}
}

// Feed gives the decoder bytes sent by the client (fromServer false) or the
// server, captured at pos, after gap missing bytes.
func (p *Pipe) Feed(fromServer bool, gap int, data []byte, pos event.Position) {
	if fromServer {
		p.server.feed(gap, data, pos)
	} else {
		p.client.feed(gap, data, pos)
	}
}

// End ends one direction.
func (p *Pipe) End(fromServer bool) {
	if fromServer {
		p.server.end()
	} else {
		p.client.end()
	}
}

// Close ends both directions.
func (p *Pipe) Close() {
	p.client.end()
	p.server.end()
}
