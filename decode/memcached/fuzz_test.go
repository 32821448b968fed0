package memcached

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// encodeConv packs a conversation into a fuzz input: byte 0 bit 0 is
// Midstream, then records [h][n][n bytes]: h bit 0 server side, bit 1 a
// gap before the bytes of (h>>2) bytes (63: unknown size).
func encodeConv(midstream bool, segs []seg) []byte {
	out := []byte{0}
	if midstream {
		out[0] = 1
	}
	for _, sg := range segs {
		if sg.end != "" {
			continue
		}
		h := byte(0)
		if sg.server {
			h |= 1
		}
		if sg.gap != 0 {
			g := sg.gap
			if g < 0 || g > 62 {
				g = 63
			}
			h |= 2 | byte(g)<<2
		}
		data := sg.data
		for first := true; first || len(data) > 0; first = false {
			n := min(len(data), 255)
			out = append(out, h, byte(n))
			out = append(out, data[:n]...)
			data = data[n:]
			h &^= 0xfe
		}
	}
	return out
}

// decodeConv unpacks a fuzz input; split > 0 cuts every record into
// pieces of at most split bytes.
func decodeConv(in []byte, split int) (midstream bool, segs []seg) {
	if len(in) == 0 {
		return false, nil
	}
	midstream = in[0]&1 != 0
	in = in[1:]
	frame := 0
	for len(in) >= 2 {
		h, n := in[0], int(in[1])
		in = in[2:]
		n = min(n, len(in))
		data := in[:n]
		in = in[n:]
		gap := 0
		if h&2 != 0 {
			gap = int(h >> 2)
			if gap == 63 {
				gap = -1
			}
		}
		for first := true; first || len(data) > 0; first = false {
			k := len(data)
			if split > 0 {
				k = min(k, split)
			}
			frame++
			segs = append(segs, seg{server: h&1 != 0, gap: gap, data: data[:k],
				pos: event.Position{Time: t0.Add(time.Duration(frame) * time.Microsecond), Frame: event.FrameRef{Number: frame}}})
			data = data[k:]
			gap = 0
		}
	}
	return midstream, segs
}

// checkEvents verifies what must hold of any decoding.
func checkEvents(t *testing.T, events []*event.Event) {
	t.Helper()
	cmds := map[uint64]*Command{}
	var last uint64
	for _, e := range events {
		switch d := e.Data.(type) {
		case *Command:
			if d.Seq != last+1 {
				t.Fatalf("command seq %d after %d", d.Seq, last)
			}
			last = d.Seq
			cmds[d.Seq] = d
			if len(d.Keys) > stream64K || d.ValueLen > MaxValueLen || d.ValueLen < 0 {
				t.Fatalf("command out of bounds: %d keys, value %d", len(d.Keys), d.ValueLen)
			}
		case *Reply:
			if d.Hits+d.Misses != len(d.Results) {
				t.Fatalf("reply %+v: hits+misses != results", d)
			}
			if d.Seq != 0 {
				c, ok := cmds[d.Seq]
				if !ok || c.Op != d.Op {
					t.Fatalf("reply %+v answers no command", d)
				}
				if c.NoReply {
					t.Fatalf("reply %+v to a noreply command", d)
				}
			}
			if len(d.Items) > MaxItems {
				t.Fatalf("%d items", len(d.Items))
			}
		case string:
			if strings.Contains(d, "decoder failed") {
				t.Fatalf("panic: %s", d)
			}
		}
		if e.End.Before(e.Start.Time) {
			t.Fatalf("event %s ends before it starts", describe(e))
		}
	}
}

const stream64K = 64 << 10

func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		for _, cp := range loadCapture(f, file) {
			f.Add(encodeConv(cp.conn.Midstream, cp.segs))
		}
	}
	for _, tc := range convCases {
		f.Add(encodeConv(tc.midstream, segments(tc.steps, nil)))
	}
}

// FuzzDecode runs the decoder on arbitrary conversations: it must not
// panic, must keep its invariants, and must give the same events however
// the bytes are split into segments.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
		mid, segs := decodeConv(in, 0)
		conn.Midstream = mid
		events := replay(conn, segs)
		checkEvents(t, events)
		_, split := decodeConv(in, 7)
		got := describeAll(replay(conn, split))
		if want := describeAll(events); !slices.Equal(got, want) {
			t.Fatalf("segmentation changes the events:\ngot:%s\nwant:%s", show(got), show(want))
		}
	})
}

// TestHugeValueNoAllocation declares values of up to MaxValueLen and
// sends megabytes of them: the decoder skips, never buffers.
func TestHugeValueNoAllocation(t *testing.T) {
	chunk := make([]byte, 60000)
	for i := range chunk {
		chunk[i] = 'v'
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
	segs := []seg{{data: []byte(fmt.Sprintf("set k 0 0 %d\r\n", MaxValueLen))}}
	for range 100 { // 6 MB of a 1 GiB value
		segs = append(segs, seg{data: chunk})
	}
	segs = append(segs, seg{server: true, data: []byte(fmt.Sprintf("VALUE k 0 %d\r\n", MaxValueLen))})
	for range 100 {
		segs = append(segs, seg{server: true, data: chunk})
	}
	events := replay(conn, segs)
	runtime.ReadMemStats(&ms1)
	got := describeAll(events)
	want := []string{
		fmt.Sprintf(`cmd 1 set k len=%d error="data block cut short"`, MaxValueLen),
		"warn command cut short by the end of the stream",
		"warn reply cut short by the end of the stream",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:%s\nwant:%s", show(got), show(want))
	}
	// The pipe's coroutines and buffers take a few hundred KB; a
	// buffered value would take a GiB.
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestPendingBounded: commands whose replies are not in the capture
// (one direction captured) do not pile up without bound.
func TestPendingBounded(t *testing.T) {
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
	var out []*event.Event
	ctx := stream.NewContext(conn, event.SinkFunc(func(e *event.Event) { out = append(out, e) }))
	d := New(ctx).(*Decoder)
	p := stream.NewPipe(ctx, d)
	for range 3 * MaxPending {
		p.Feed(false, 0, []byte("get k\r\n"), event.Position{Time: t0})
	}
	if len(d.pending) > MaxPending {
		t.Errorf("%d commands pending", len(d.pending))
	}
	p.Feed(true, 0, []byte("END\r\n"), event.Position{Time: t0})
	p.Close()
	last := out[len(out)-1].Data.(*Reply)
	if want := uint64(2*MaxPending + 1); last.Seq != want {
		t.Errorf("reply answers %d, want %d (the oldest command still remembered)", last.Seq, want)
	}
}

// BenchmarkDecode decodes the real conversations (sub-benchmark
// "captures") and a long pipeline of multi-key gets with hits and
// misses ("pipeline").
func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.txt")
	var caps []capture
	for _, f := range files {
		caps = append(caps, loadCapture(b, f)...)
	}
	var pipeline []seg
	for i := range 500 {
		pipeline = append(pipeline,
			seg{data: []byte(fmt.Sprintf("get tokens/%064d tokens/%064d\r\n", i, i+1))},
			seg{server: true, data: []byte(fmt.Sprintf("VALUE tokens/%064d 0 1986\r\n%s\r\nEND\r\n", i, strings.Repeat("x", 1986)))},
			seg{data: []byte(fmt.Sprintf("set tokens/%064d 0 300 1986 \r\n%s\r\n", i+1, strings.Repeat("x", 1986)))},
			seg{server: true, data: []byte("STORED\r\n")})
	}
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
	size := func(segs []seg) (n int64) {
		for _, sg := range segs {
			n += int64(len(sg.data))
		}
		return n
	}
	b.Run("captures", func(b *testing.B) {
		var total int64
		for _, cp := range caps {
			total += size(cp.segs)
		}
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, cp := range caps {
				replay(cp.conn, cp.segs)
			}
		}
	})
	b.Run("pipeline", func(b *testing.B) {
		b.SetBytes(size(pipeline))
		b.ReportAllocs()
		for b.Loop() {
			replay(conn, pipeline)
		}
	})
}
