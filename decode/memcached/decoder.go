package memcached

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// maxWarnings bounds the warnings one direction of a connection reports.
const maxWarnings = 8

var nl = []byte{'\n'}

// Decoder decodes one memcached connection. It implements
// stream.Handler; its Client and Server halves share the queue of
// commands waiting for a reply (the pipeline never runs them at the same
// time).
type Decoder struct {
	ctx     *stream.Context
	seq     uint64
	pending []*pending // commands waiting for a reply, oldest first
	// emitted is the Seq of the last command reported. A reply can come
	// before its command is complete (memcached answers "too large"
	// before it has swallowed the value): it is held until then.
	emitted uint64
	held    []heldReply
}

// heldReply is a reply event waiting for its command to be reported.
type heldReply struct {
	seq uint64
	ev  *event.Event
}

// pending is a command waiting for its reply.
type pending struct {
	cmd    *Command
	quiet  bool
	opaque string // meta O token, binary opaque
	opcode byte   // binary opcode
	binary bool
}

// New returns the decoder of one connection; it has the signature of a
// stream.Selector.
func New(ctx *stream.Context) stream.Handler {
	return &Decoder{ctx: ctx}
}

// Client decodes the commands the client sent.
func (d *Decoder) Client(r *stream.Reader) { d.run(r, false) }

// Server decodes the replies the server sent.
func (d *Decoder) Server(r *stream.Reader) { d.run(r, true) }

// half is the state of one direction.
type half struct {
	d      *Decoder
	r      *stream.Reader
	server bool
	synced bool // the next byte starts a message
	warned int
	toks   [][]byte // reused by the tokenizer
}

// protoError means the bytes are not where the decoder thought it was in
// the protocol: it warns and resynchronises.
type protoError struct{ msg string }

func (e *protoError) Error() string { return e.msg }

func protoErrorf(format string, args ...any) error {
	return &protoError{msg: fmt.Sprintf(format, args...)}
}

func (d *Decoder) run(r *stream.Reader, server bool) {
	h := &half{d: d, r: r, server: server, synced: d.ctx.Conn == nil || !d.ctx.Conn.Midstream}
	for {
		pos, err := r.Begin()
		if err != nil {
			// Between two messages.
			if !h.failed(err, r.LastPos(), false) {
				return
			}
			continue
		}
		switch {
		case !h.synced:
			err = h.resync()
		case server:
			err = h.reply(pos)
		default:
			err = h.command(pos)
		}
		if err != nil && !h.failed(err, pos, true) {
			return
		}
	}
}

// failed handles an error met while decoding a message that started at
// pos (inMsg) or between messages; it reports whether decoding goes on.
func (h *half) failed(err error, pos event.Position, inMsg bool) bool {
	what := "command"
	if h.server {
		what = "reply"
	}
	var g *stream.GapError
	var pe *protoError
	switch {
	case errors.As(err, &g):
		// The bytes buffered before the gap are the start of a message
		// whose end is missing.
		h.r.Discard(h.r.Buffered())
		if h.synced {
			if g.Bytes >= 0 {
				h.warn(pos, "%d bytes missing from the capture; skipping to the next %s", g.Bytes, what)
			} else {
				h.warn(pos, "bytes missing from the capture; skipping to the next %s", what)
			}
			if inMsg && h.server && len(h.d.pending) > 0 && !h.d.pending[0].quiet {
				// The reply the gap cut belonged to the oldest command.
				h.d.pending = h.d.pending[1:]
			}
		}
		h.synced = false
		return true
	case errors.As(err, &pe):
		h.warn(pos, "%s; skipping to the next %s", pe.msg, what)
		h.synced = false
		return true
	case errors.Is(err, io.ErrUnexpectedEOF):
		if h.synced {
			h.warn(pos, "%s cut short by the end of the stream", what)
		}
		return false
	default:
		return false
	}
}

func (h *half) warn(pos event.Position, format string, args ...any) {
	h.warned++
	switch {
	case h.warned < maxWarnings:
		h.d.ctx.Warn(pos, "memcached: "+format, args...)
	case h.warned == maxWarnings:
		h.d.ctx.Warn(pos, "memcached: "+format+" (further warnings on this connection suppressed)", args...)
	}
}

// peekLine returns the next line, up to and including '\n', without
// consuming it. A line longer than limit is a protocol error.
func (h *half) peekLine(limit int) ([]byte, error) {
	line, err := h.r.PeekUntil(nl, limit)
	if errors.Is(err, stream.ErrTooLong) {
		return nil, protoErrorf("line longer than %d bytes", limit)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return line, nil
}

// trimEOL removes the "\n" or "\r\n" ending line.
func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// skipData consumes a data block of n bytes and its "\r\n". ok is false
// when the two bytes after the block are not "\r\n". Gaps inside the
// block are absorbed (the length tells where it ends).
func (h *half) skipData(n int64) (ok bool, err error) {
	if _, _, err := h.r.Skip(n); err != nil {
		return false, unexpected(err)
	}
	b, err := h.r.Peek(2)
	if err == nil {
		h.r.Discard(2)
		return b[0] == '\r' && b[1] == '\n', nil
	}
	if stream.IsGap(err) {
		// Part of the line end is missing: count it as read.
		k := h.r.Buffered()
		h.r.Discard(k)
		var g *stream.GapError
		errors.As(err, &g)
		if g.Bytes >= 0 && k+g.Bytes <= 2 {
			if k+g.Bytes < 2 {
				if _, _, err := h.r.Skip(int64(2 - k - g.Bytes)); err != nil {
					return false, err
				}
			}
			return true, nil
		}
		return false, err
	}
	if errors.Is(err, io.EOF) {
		return false, io.ErrUnexpectedEOF
	}
	return false, err
}

// readSmall reads n (small) bytes, or skips them and returns nil when a
// gap is inside.
func (h *half) readSmall(n int) ([]byte, error) {
	b, err := h.r.Peek(n)
	if err == nil {
		out := bytes.Clone(b)
		h.r.Discard(n)
		return out, nil
	}
	if stream.IsGap(err) {
		k := h.r.Buffered()
		h.r.Discard(k)
		var g *stream.GapError
		errors.As(err, &g)
		if g.Bytes >= 0 && k+g.Bytes <= n {
			if _, _, err := h.r.Skip(int64(n - k - g.Bytes)); err != nil {
				return nil, err
			}
			return nil, nil
		}
		return nil, err
	}
	if errors.Is(err, io.EOF) {
		return nil, io.ErrUnexpectedEOF
	}
	return nil, err
}

// resync skips bytes until the next one starts a message that makes
// sense: a valid command line or binary request header (client), a valid
// reply line or binary response header (server). Candidates are the
// starts of lines and the binary magic bytes.
func (h *half) resync() error {
	magic := byte(magicRequest)
	if h.server {
		magic = magicResponse
	}
	for {
		b, err := h.r.Peek(1)
		if err != nil {
			return err
		}
		if b[0] == magic {
			hdr, err := h.r.Peek(headerLen)
			if err != nil {
				return err
			}
			if h.validHeader(hdr) {
				h.synced = true
				return nil
			}
			h.r.Discard(1)
			continue
		}
		// A line starts here: find its end, or a magic byte before it,
		// in what has arrived, waiting for more bytes when neither.
		n, from := h.r.Buffered(), 0
		for {
			buf, _ := h.r.Peek(min(n, MaxLine))
			nlAt := bytes.IndexByte(buf[from:], '\n')
			if nlAt >= 0 {
				nlAt += from
				buf = buf[:nlAt+1]
			}
			if i := bytes.IndexByte(buf[max(from, 1):], magic); i >= 0 {
				h.r.Discard(max(from, 1) + i)
				break
			}
			if nlAt >= 0 {
				if h.validLine(trimEOL(buf)) {
					h.synced = true
					return nil
				}
				h.r.Discard(len(buf))
				break
			}
			if len(buf) >= MaxLine {
				h.r.Discard(len(buf))
				break
			}
			from = len(buf)
			if _, err := h.r.Peek(len(buf) + 1); err != nil {
				return err
			}
			n = h.r.Buffered()
		}
	}
}

// next numbers a new command.
func (d *Decoder) next(c *Command) {
	d.seq++
	c.Seq = d.seq
}

// expect queues a command that waits for a reply.
func (d *Decoder) expect(p *pending) {
	if len(d.pending) >= MaxPending {
		d.pending = d.pending[1:]
	}
	d.pending = append(d.pending, p)
}

// identity says which command a reply names, when it does: a binary
// opaque and opcode, a meta O token or k key, a text VALUE key.
type identity struct {
	binary    bool
	meta      bool // a meta reply: only meta commands match
	opcode    byte
	opaque    string
	hasOpaque bool
	key       string
	hasKey    bool
}

// names tells whether the reply identified by id names command p.
func (id *identity) names(p *pending) bool {
	switch {
	case id.binary != p.binary:
		return false
	case id.binary:
		return id.opcode == p.opcode && id.opaque == p.opaque
	case id.meta:
		if !isMeta(p.cmd.Op) {
			return false
		}
		if id.hasOpaque {
			return p.opaque == id.opaque
		}
		return len(p.cmd.Keys) > 0 && p.cmd.Keys[0] == id.key
	default:
		// A VALUE line names a key of a text lookup.
		return classOf(p.cmd.Op) == classLookup && !isMeta(p.cmd.Op) && containsKey(p.cmd.Keys, id.key)
	}
}

func isMeta(op string) bool {
	switch op {
	case "mg", "ms", "md", "ma", "mn", "me":
		return true
	}
	return false
}

// answer finds the command rep answers, fills in rep accordingly, and
// reports the outcome of the quiet commands that, as the reply shows,
// got no reply (at pos).
func (d *Decoder) answer(rep *Reply, id identity, pos event.Position) {
	idx := -1
	if id.hasOpaque || id.hasKey {
		for i, p := range d.pending {
			if id.names(p) {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		for i, p := range d.pending {
			if !p.quiet || couldAnswer(p, rep, id) {
				idx = i
				break
			}
		}
	}
	var cmd *Command
	if idx >= 0 {
		for _, p := range d.pending[:idx] {
			if p.quiet {
				d.implied(p, pos)
			}
		}
		cmd = d.pending[idx].cmd
		clear(d.pending[:idx+1])
		d.pending = d.pending[idx+1:]
		if len(d.pending) == 0 {
			d.pending = nil
		}
	}
	settle(rep, cmd)
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// couldAnswer tells whether rep can be the reply of the quiet command p
// (quiet commands are answered only when the outcome is not the usual
// one; a server that answers anyway is believed).
func couldAnswer(p *pending, rep *Reply, id identity) bool {
	if p.binary {
		return id.binary && id.opcode == p.opcode
	}
	switch rep.Status {
	case "ERROR", "CLIENT_ERROR", "SERVER_ERROR":
		return true
	}
	switch p.cmd.Op {
	case "mg":
		return rep.Status == "VA" || rep.Status == "HD" || rep.Status == "EN"
	case "ms":
		return rep.Status == "HD" || rep.Status == "NS" || rep.Status == "EX" || rep.Status == "NF"
	case "md":
		return rep.Status == "HD" || rep.Status == "EX" || rep.Status == "NF"
	case "ma":
		return rep.Status == "HD" || rep.Status == "VA" || rep.Status == "NS" || rep.Status == "EX" || rep.Status == "NF"
	}
	return false
}

// implied reports the outcome of a quiet command that got no reply.
func (d *Decoder) implied(p *pending, pos event.Position) {
	rep := &Reply{Implied: true, Binary: p.binary, Opaque: p.opaque}
	switch {
	case p.binary && classOf(p.cmd.Op) == classLookup:
		rep.Status = statusName(statusKeyNotFound)
	case p.binary:
		rep.Status = statusName(statusOK)
	case p.cmd.Op == "mg":
		rep.Status = "EN"
	default:
		rep.Status = "HD"
	}
	settle(rep, p.cmd)
	d.emitReply(&event.Event{Kind: event.MemcacheReply, Start: pos, End: pos.Time, FromServer: true, Data: rep})
}

// emitCommand reports a decoded command that started at pos, then the
// replies that were waiting for it.
func (h *half) emitCommand(c *Command, pos event.Position) {
	d := h.d
	d.ctx.Emit(&event.Event{Kind: event.MemcacheCommand, Start: pos, End: h.r.LastPos().Time, Data: c})
	d.emitted = c.Seq
	n := 0
	for n < len(d.held) && d.held[n].seq <= d.emitted {
		d.ctx.Emit(d.held[n].ev)
		d.held[n] = heldReply{}
		n++
	}
	d.held = d.held[n:]
	if len(d.held) == 0 {
		d.held = nil
	}
}

// emitReply reports a reply event, or holds it while its command is not
// reported yet.
func (d *Decoder) emitReply(ev *event.Event) {
	rep := ev.Data.(*Reply)
	if rep.Seq > d.emitted || len(d.held) > 0 {
		if len(d.held) >= MaxPending {
			// Bounded: the oldest goes out ahead of its command.
			d.ctx.Emit(d.held[0].ev)
			d.held = d.held[1:]
		}
		d.held = append(d.held, heldReply{seq: rep.Seq, ev: ev})
		return
	}
	d.ctx.Emit(ev)
}

// reply pairs a decoded reply with its command and reports it.
func (h *half) emitReply(rep *Reply, id identity, pos event.Position) {
	h.d.answer(rep, id, pos)
	h.d.emitReply(&event.Event{Kind: event.MemcacheReply, Start: pos, End: h.r.LastPos().Time, FromServer: true, Data: rep})
}
