package memcached

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// seg is one piece of a conversation: bytes one side sent (after gap
// missing bytes), or the end of a direction.
type seg struct {
	server bool
	gap    int
	data   []byte
	end    string // "fin" ends that direction, "rst" both
	pos    event.Position
}

var (
	testClient = netip.MustParseAddrPort("127.0.0.1:40000")
	testServer = netip.MustParseAddrPort("127.0.0.1:11211")
	t0         = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

// replay runs a decoder over segs and returns the events.
func replay(conn *event.Conn, segs []seg) []*event.Event {
	var out []*event.Event
	ctx := stream.NewContext(conn, event.SinkFunc(func(e *event.Event) { out = append(out, e) }))
	p := stream.NewPipe(ctx, New(ctx))
	for _, s := range segs {
		switch s.end {
		case "rst":
			p.Close()
		case "fin":
			p.End(s.server)
		default:
			p.Feed(s.server, s.gap, s.data, s.pos)
		}
	}
	p.Close()
	return out
}

// describe summarises an event in one line, without its position.
func describe(e *event.Event) string {
	var b strings.Builder
	opt := func(cond bool, format string, args ...any) {
		if cond {
			fmt.Fprintf(&b, " "+format, args...)
		}
	}
	switch d := e.Data.(type) {
	case *Command:
		fmt.Fprintf(&b, "cmd %d %s", d.Seq, d.Op)
		opt(len(d.Keys) > 0, "%s", strings.Join(d.Keys, ","))
		opt(d.Flags != 0, "flags=%d", d.Flags)
		opt(d.Exptime != 0, "exp=%d", d.Exptime)
		opt(d.ValueLen != 0, "len=%d", d.ValueLen)
		opt(d.CAS != 0, "cas=%d", d.CAS)
		opt(d.Delta != 0, "delta=%d", d.Delta)
		opt(d.NoReply, "noreply")
		opt(d.Quiet, "quiet")
		opt(d.Binary, "binary")
		opt(d.Meta != "", "meta=%q", d.Meta)
		opt(d.Opaque != "", "opaque=%s", d.Opaque)
		opt(d.Error != "", "error=%q", d.Error)
		if e.Kind != event.MemcacheCommand || e.FromServer {
			b.WriteString(" WRONG-KIND")
		}
	case *Reply:
		op := d.Op
		if op == "" {
			op = "-"
		}
		fmt.Fprintf(&b, "reply %d %s %s", d.Seq, op, d.Status)
		var items, hits, misses []string
		for _, it := range d.Items {
			items = append(items, fmt.Sprintf("%s:%d", it.Key, it.Len))
		}
		for _, r := range d.Results {
			if r.Hit {
				hits = append(hits, r.Key)
			} else {
				misses = append(misses, r.Key)
			}
		}
		opt(len(items) > 0, "items=%s", strings.Join(items, ","))
		opt(len(hits) > 0, "hit=%s", strings.Join(hits, ","))
		opt(len(misses) > 0, "miss=%s", strings.Join(misses, ","))
		opt(d.Stored != nil, "stored=%v", d.Stored != nil && *d.Stored)
		opt(d.Number != nil, "number=%d", func() uint64 {
			if d.Number == nil {
				return 0
			}
			return *d.Number
		}())
		opt(d.Error != "", "error=%q", d.Error)
		opt(d.Version != "", "version=%s", d.Version)
		opt(d.Meta != "", "meta=%q", d.Meta)
		opt(d.Lines != 0, "lines=%d", d.Lines)
		opt(d.Binary, "binary")
		opt(d.Opaque != "", "opaque=%s", d.Opaque)
		opt(d.Implied, "implied")
		if e.Kind != event.MemcacheReply || !e.FromServer {
			b.WriteString(" WRONG-KIND")
		}
		if d.Hits+d.Misses != len(d.Results) {
			b.WriteString(" BAD-COUNTS")
		}
	case string:
		msg := d
		if i := strings.Index(msg, "memcached: "); i >= 0 {
			msg = msg[i+len("memcached: "):]
		}
		fmt.Fprintf(&b, "warn %s", msg)
	default:
		fmt.Fprintf(&b, "%s %v", e.Kind, e.Data)
	}
	return b.String()
}

func describeAll(events []*event.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = describe(e)
	}
	return out
}

// step is a piece of a synthetic conversation.
type step struct {
	server bool
	data   string
	gap    int
	end    string
}

func c(data string) step        { return step{data: data} }
func s(data string) step        { return step{server: true, data: data} }
func gapC(n int, d string) step { return step{gap: n, data: d} }
func gapS(n int, d string) step { return step{server: true, gap: n, data: d} }
func rst() step                 { return step{end: "rst"} }

// segments turns steps into segments, each step split by split (nil:
// one segment per step), with one frame and one millisecond per
// segment.
func segments(steps []step, split func(n int) []int) []seg {
	var out []seg
	frame := 0
	add := func(st step, gap int, data []byte) {
		frame++
		out = append(out, seg{server: st.server, gap: gap, data: data, end: st.end,
			pos: event.Position{Time: t0.Add(time.Duration(frame) * time.Millisecond), Frame: event.FrameRef{Number: frame}}})
	}
	for _, st := range steps {
		data := []byte(st.data)
		if st.end != "" || split == nil || len(data) < 2 {
			add(st, st.gap, data)
			continue
		}
		gap := st.gap
		for _, n := range split(len(data)) {
			add(st, gap, data[:n])
			gap = 0
			data = data[n:]
		}
	}
	return out
}

// run decodes a synthetic conversation.
func run(midstream bool, steps []step, split func(n int) []int) []string {
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer, Midstream: midstream}
	return describeAll(replay(conn, segments(steps, split)))
}

func bytewise(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func randomSplit(r *rand.Rand) func(n int) []int {
	return func(n int) []int {
		var out []int
		for n > 0 {
			k := 1 + r.IntN(min(n, 40))
			if r.IntN(4) == 0 {
				k = n
			}
			out = append(out, k)
			n -= k
		}
		return out
	}
}

// binReq builds a binary request.
func binReq(op byte, key string, extras []byte, value string, opaque uint32, cas uint64) string {
	return binPacket(magicRequest, op, 0, key, extras, value, opaque, cas)
}

// binRes builds a binary response.
func binRes(op byte, status uint16, key string, extras []byte, value string, opaque uint32, cas uint64) string {
	return binPacket(magicResponse, op, status, key, extras, value, opaque, cas)
}

func binPacket(magic, op byte, status uint16, key string, extras []byte, value string, opaque uint32, cas uint64) string {
	h := make([]byte, headerLen)
	h[0], h[1] = magic, op
	binary.BigEndian.PutUint16(h[2:], uint16(len(key)))
	h[4] = byte(len(extras))
	binary.BigEndian.PutUint16(h[6:], status)
	binary.BigEndian.PutUint32(h[8:], uint32(len(extras)+len(key)+len(value)))
	binary.BigEndian.PutUint32(h[12:], opaque)
	binary.BigEndian.PutUint64(h[16:], cas)
	return string(h) + string(extras) + key + value
}

func be32(vs ...uint32) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out
}

func be64(vs ...uint64) []byte {
	var out []byte
	for _, v := range vs {
		out = binary.BigEndian.AppendUint64(out, v)
	}
	return out
}

// capture is one connection of a testdata file.
type capture struct {
	conn *event.Conn
	segs []seg
}

// loadCapture reads a file written by gen_testdata.go.
func loadCapture(t testing.TB, path string) []capture {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []capture
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.SplitN(line, " ", 4)
		bad := func(err any) { t.Fatalf("%s:%d: %v", path, n, err) }
		if fields[0] == "conn" {
			parts := strings.Fields(line)
			if len(parts) < 4 {
				bad("short conn line")
			}
			id, err := strconv.ParseUint(parts[1], 10, 64)
			if err != nil {
				bad(err)
			}
			conn := &event.Conn{ID: id, Client: netip.MustParseAddrPort(parts[2]), Server: netip.MustParseAddrPort(parts[3]),
				Midstream: len(parts) > 4 && parts[4] == "midstream"}
			out = append(out, capture{conn: conn})
			continue
		}
		if len(fields) != 4 || len(out) == 0 {
			bad("malformed line")
		}
		frame, err := strconv.Atoi(fields[1])
		if err != nil {
			bad(err)
		}
		sec, nsec, _ := strings.Cut(fields[2], ".")
		si, err1 := strconv.ParseInt(sec, 10, 64)
		ni, err2 := strconv.ParseInt(nsec, 10, 64)
		if err1 != nil || err2 != nil {
			bad("bad time")
		}
		sg := seg{server: fields[0] == "s", pos: event.Position{Time: time.Unix(si, ni).UTC(), Frame: event.FrameRef{Number: frame}}}
		switch fields[3] {
		case "fin", "rst":
			sg.end = fields[3]
		default:
			data, err := strconv.Unquote(fields[3])
			if err != nil {
				bad(err)
			}
			sg.data = []byte(data)
		}
		out[len(out)-1].segs = append(out[len(out)-1].segs, sg)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
