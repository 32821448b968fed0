package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/authflow/authflow/decode/event"
)

// recorder is a Handler that reads each direction a byte at a time and
// records, per byte, its value and capture frame, and the errors seen.
type recorder struct {
	log map[bool][]string
}

func newRecorder() *recorder { return &recorder{log: map[bool][]string{}} }

func (h *recorder) Client(r *Reader) { h.run(r, false) }
func (h *recorder) Server(r *Reader) { h.run(r, true) }

func (h *recorder) run(r *Reader, server bool) {
	var line strings.Builder
	frame := -1
	flush := func() {
		if line.Len() > 0 {
			h.log[server] = append(h.log[server], fmt.Sprintf("%d:%s", frame, line.String()))
			line.Reset()
		}
	}
	for {
		if _, err := r.Peek(1); err != nil {
			flush()
			h.log[server] = append(h.log[server], "err "+err.Error())
			if IsGap(err) {
				continue
			}
			return
		}
		if f := r.Pos().Frame.Number; f != frame {
			flush()
			frame = f
		}
		b, _ := r.ReadByte()
		line.WriteByte(b)
		if r.Buffered() == 0 {
			flush() // caught up with what has arrived
		}
	}
}

// newTestConn is newConn4 with the ports reassembly keys connections by.
func newTestConn(a *Assembler, cport uint16, t time.Time) *conn4 {
	c := newConn4(a, cport, t)
	c.cli.SetInternalPortsForTesting()
	c.srv.SetInternalPortsForTesting()
	return c
}

// TestOutOfOrderPositions: bytes that reassembly buffered because they
// came ahead of a hole are reported at the frames that carried them, not
// at the frame that filled the hole.
func TestOutOfOrderPositions(t *testing.T) {
	h := newRecorder()
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{})
	c := newTestConn(a, 40000, time.Unix(1e9, 0))
	c.handshake()                               // frames 1-3
	c.send(false, []byte("aaaa"), false, false) // 4
	c.cliSeq += 4                               // a hole for "bbbb"
	c.send(false, []byte("cccc"), false, false) // 5, buffered
	c.send(false, []byte("dddd"), false, false) // 6, buffered
	c.cliSeq -= 12                              // back to the hole
	c.send(false, []byte("bbbb"), false, false) // 7, fills it
	c.cliSeq += 8                               // after what was buffered
	c.send(false, []byte("eeee"), false, true)  // 8
	a.Close()
	want := []string{"4:aaaa", "7:bbbb", "5:cccc", "6:dddd", "8:eeee", "err EOF"}
	if got := h.log[false]; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTruncatedSegmentGap: a segment cut short by the capture's snap
// length is followed at once by a gap of exactly the bytes missing; the
// bytes after it come in order without waiting for the capture to end.
func TestTruncatedSegmentGap(t *testing.T) {
	h := newRecorder()
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{})
	c := newTestConn(a, 40000, time.Unix(1e9, 0))
	c.handshake()
	// 100 bytes sent, 10 captured.
	c.cli.SYN, c.cli.FIN, c.cli.ACK = false, false, true
	c.cli.Seq, c.cli.Ack = c.cliSeq, c.srvSeq
	c.cli.Payload = []byte("0123456789")
	c.frame++
	a.AssembleTruncated(c.cflow, &c.cli, event.Position{Time: c.t, Frame: event.FrameRef{Number: c.frame}}, 90)
	c.cliSeq += 100
	c.send(false, []byte("next"), false, false)
	want := []string{"4:0123456789", "err 90 bytes missing from the capture", "5:next"}
	if got := h.log[false]; !slices.Equal(got, want) {
		t.Errorf("before the end: got %q, want %q", got, want)
	}
	a.Close()
	if got := h.log[false]; !slices.Equal(got, append(want, "err EOF")) {
		t.Errorf("after the end: got %q", got)
	}
}

// script is a Handler that runs a function on each direction.
type script struct{ client, server func(r *Reader) }

func (s script) Client(r *Reader) {
	if s.client != nil {
		s.client(r)
	}
}

func (s script) Server(r *Reader) {
	if s.server != nil {
		s.server(r)
	}
}

// TestReaderGrowsAndShrinks: the buffer starts small, grows for a Peek or
// a line up to BufferSize, keeps the bytes and their positions when it
// grows, and shrinks back at the start of a small message.
func TestReaderGrowsAndShrinks(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 20000)
	stream := append(append([]byte("hello\n"), big...), "\nsmall\n"...)
	stream = append(stream, bytes.Repeat([]byte("y"), BufferSize+10)...)
	var got []string
	var mem int64
	ctx := NewContext(&event.Conn{ID: 1}, discardSink)
	ctx.mem = &mem
	p := NewPipe(ctx, script{client: func(r *Reader) {
		note := func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }
		note("size %d", r.Reader.Size())
		line, err := r.ReadSlice('\n')
		note("line %q %v size %d", line, err, r.Reader.Size())
		b, err := r.Peek(15000)
		note("peek %d %v size %d offset %d frame %d", len(b), err, r.Reader.Size(), r.Offset(), r.Pos().Frame.Number)
		line, err = r.ReadSlice('\n')
		note("line %d %v size %d offset %d", len(line), err, r.Reader.Size(), r.Offset())
		pos, err := r.Begin()
		note("begin frame %d %v size %d", pos.Frame.Number, err, r.Reader.Size())
		line, err = r.ReadSlice('\n')
		note("line %q %v", line, err)
		line, err = r.ReadSlice('\n')
		note("line %d %v size %d", len(line), err, r.Reader.Size())
		_, err = r.Peek(BufferSize + 1)
		note("peek %v", err)
		n, _, err := r.Skip(1 << 20)
		note("skip %d %v offset %d", n, err, r.Offset())
	}})
	t0 := time.Unix(1e9, 0)
	for i := 0; i < len(stream); i += 1000 {
		p.Feed(false, 0, stream[i:min(i+1000, len(stream))], event.Position{Time: t0, Frame: event.FrameRef{Number: 1 + i/1000}})
	}
	p.Close()
	want := []string{
		"size 4096",
		`line "hello\n" <nil> size 4096`,
		"peek 15000 <nil> size 16384 offset 6 frame 1",
		"line 20001 <nil> size 32768 offset 20007",
		"begin frame 21 <nil> size 4096",
		`line "small\n" <nil>`,
		"line 65536 bufio: buffer full size 65536",
		"peek bufio: buffer full",
		"skip 10 EOF offset 85559",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if mem != 0 {
		t.Errorf("%d bytes still counted after the end", mem)
	}
}

// TestReadSliceGap: a line cut by a gap is returned with the gap, not
// joined with the bytes after it.
func TestReadSliceGap(t *testing.T) {
	var got []string
	p := NewPipe(NewContext(&event.Conn{ID: 1}, discardSink), script{server: func(r *Reader) {
		for {
			line, err := r.ReadSlice('\n')
			got = append(got, fmt.Sprintf("%q %v", line, err))
			if err != nil && !IsGap(err) {
				return
			}
		}
	}})
	pos := event.Position{Time: time.Unix(1e9, 0)}
	p.Feed(true, 0, bytes.Repeat([]byte("a"), 5000), pos)
	p.Feed(true, 7, []byte("bc\nd"), pos)
	p.Close()
	want := []string{`"` + strings.Repeat("a", 5000) + `" 7 bytes missing from the capture`, `"bc\n" <nil>`, `"d" EOF`}
	if !slices.Equal(got, want) {
		t.Errorf("got %.200q", got)
	}
}

// halfOpen opens n connections that each send the start of a line that
// never ends; the decoder peeks for the end of the line, holding peek
// bytes of buffer.
func halfOpen(a *Assembler, n, peek int, t time.Time) {
	line := bytes.Repeat([]byte("z"), peek)
	for i := range n {
		c := newTestConn(a, uint16(10000+i), t.Add(time.Duration(i)*time.Millisecond))
		c.frame = 4 * i
		c.handshake()
		c.send(false, line, false, false)
	}
}

// peeker is a Handler that peeks for a newline, as a decoder waiting for
// the end of a header does, and records how its directions end.
type peeker struct{ ends map[string]int }

func (p *peeker) Client(r *Reader) {
	_, err := r.PeekUntil([]byte("\n"), BufferSize)
	p.ends[fmt.Sprint(err)]++
}

func (p *peeker) Server(r *Reader) { p.Client(r) }

// TestEvictionByCount: beyond MaxConnections, the idlest connections are
// closed, their decoders stopped (ErrStopped, not EOF), and the count
// and memory of what is tracked stay bounded.
func TestEvictionByCount(t *testing.T) {
	h := &peeker{ends: map[string]int{}}
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{MaxConnections: 100})
	halfOpen(a, 1000, 100, time.Unix(1e9, 0))
	if len(a.live) > 100 || a.active != len(a.live) {
		t.Errorf("%d connections tracked (%d active), want at most 100", len(a.live), a.active)
	}
	st := a.Stats()
	if st.Evicted < 900 || st.EvictedMemory != 0 {
		t.Errorf("stats %+v, want 900 evicted", st)
	}
	// Eviction happens after the packet that went over: one more.
	if max := int64(101 * (connOverhead + halfOverhead + initialBufferSize)); st.PeakMemory > max {
		t.Errorf("peak memory %d, want at most %d", st.PeakMemory, max)
	}
	a.Close()
	if h.ends[ErrStopped.Error()] != st.Evicted || h.ends["EOF"] != 1000-st.Evicted {
		t.Errorf("decoders ended with %v, want %d stopped", h.ends, st.Evicted)
	}
	if a.mem != 0 || len(a.live) != 0 {
		t.Errorf("after Close: %d bytes, %d connections counted", a.mem, len(a.live))
	}
}

// TestEvictionByMemory: connections whose decoders hold large buffers are
// closed, the idlest first, to stay within MaxMemory.
func TestEvictionByMemory(t *testing.T) {
	h := &peeker{ends: map[string]int{}}
	const limit = 1 << 20
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{MaxMemory: limit})
	// Each connection's decoder grows its buffer to 64 KiB.
	halfOpen(a, 100, 40000, time.Unix(1e9, 0))
	st := a.Stats()
	perConn := int64(connOverhead + halfOverhead + BufferSize)
	if st.EvictedMemory < 80 || st.Evicted != 0 {
		t.Errorf("stats %+v, want 80 evicted for memory", st)
	}
	if st.PeakMemory > limit+perConn {
		t.Errorf("peak memory %d, want at most %d", st.PeakMemory, limit+perConn)
	}
	// The connections kept are the most recent ones.
	for _, s := range a.live {
		if s.ctx.Conn.Client.Port() < 10000+100-uint16(len(a.live))-1 {
			t.Errorf("connection from port %d kept", s.ctx.Conn.Client.Port())
		}
	}
	a.Close()
	if a.mem != 0 {
		t.Errorf("after Close: %d bytes counted", a.mem)
	}
}

// TestEvictionSameTime: connections all last seen at the same instant
// are closed together; eviction never loops.
func TestEvictionSameTime(t *testing.T) {
	h := &peeker{ends: map[string]int{}}
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{MaxConnections: 10})
	t0 := time.Unix(1e9, 0)
	for i := range 100 {
		c := newTestConn(a, uint16(10000+i), t0)
		c.send(false, []byte("x"), true, false)
		c.t = t0
	}
	if len(a.live) > 10 {
		t.Errorf("%d connections tracked", len(a.live))
	}
	a.Close()
}

// TestFeederPrefixAndSkip: after the buffer is resized, the bytes it held
// come first, also for Skip.
func TestFeederPrefixAndSkip(t *testing.T) {
	r := NewBytesReader([]byte("0123456789abcdef"), event.Position{})
	if b, _ := r.Peek(4); string(b) != "0123" {
		t.Fatalf("peek %q", b)
	}
	r.resize(16)
	if n, _, err := r.Skip(3); n != 3 || err != nil {
		t.Fatalf("skip %d %v", n, err)
	}
	rest, err := io.ReadAll(r)
	if string(rest) != "3456789abcdef" || err != nil || r.Offset() != 16 {
		t.Errorf("rest %q %v offset %d", rest, err, r.Offset())
	}
	if _, err := r.Peek(1); !errors.Is(err, io.EOF) {
		t.Errorf("peek at the end: %v", err)
	}
}

var _ = bufio.ErrBufferFull
var _ gopacket.Flow

// TestMarksBounded: a stream of one-byte segments keeps the marks of the
// last BufferSize bytes only, and they are counted in the memory.
func TestMarksBounded(t *testing.T) {
	var mem, peak int64
	ctx := NewContext(&event.Conn{ID: 1}, discardSink)
	ctx.mem = &mem
	p := NewPipe(ctx, drain{})
	t0 := time.Unix(1e9, 0)
	for i := range 140000 {
		p.Feed(false, 0, []byte{'a'}, event.Position{Time: t0, Frame: event.FrameRef{Number: i + 1}})
		peak = max(peak, mem)
	}
	if limit := int64(halfOverhead + BufferSize + 4*BufferSize*markSize); peak > limit || peak < BufferSize*markSize {
		t.Errorf("peak memory %d, want between %d and %d", peak, BufferSize*markSize, limit)
	}
	p.Close()
	if mem != 0 {
		t.Errorf("%d bytes counted after the end", mem)
	}
}
