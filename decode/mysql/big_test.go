package mysql

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// lazyFeeder feeds one direction through a reused buffer, so that a big
// packet never exists in memory whole.
type lazyFeeder struct {
	p          *stream.Pipe
	fromServer bool
	buf        []byte
	frame      *int
}

func (f *lazyFeeder) write(b []byte) {
	for len(b) > 0 {
		n := copy(f.buf[len(f.buf):cap(f.buf)], b)
		f.buf = f.buf[:len(f.buf)+n]
		b = b[n:]
		if len(f.buf) == cap(f.buf) {
			f.flush()
		}
	}
}

// fill writes n copies of c.
func (f *lazyFeeder) fill(c byte, n int) {
	for n > 0 {
		k := min(n, cap(f.buf)-len(f.buf))
		for i := 0; i < k; i++ {
			f.buf = append(f.buf, c)
		}
		n -= k
		if len(f.buf) == cap(f.buf) {
			f.flush()
		}
	}
}

func (f *lazyFeeder) flush() {
	if len(f.buf) == 0 {
		return
	}
	*f.frame++
	f.p.Feed(f.fromServer, 0, f.buf, event.Position{Time: time.Unix(1795349774, int64(*f.frame)), Frame: event.FrameRef{Number: *f.frame}})
	f.buf = f.buf[:0]
}

// bigPacket writes a payload of n bytes (prefix, then filler, then
// suffix) as 16 MiB fragments; it returns the last sequence id used.
func (f *lazyFeeder) bigPacket(seq byte, prefix string, filler byte, n int, suffix string) byte {
	written := 0
	piece := func(k int) {
		// The bytes written so far decide which part of the payload the
		// next k bytes are.
		for k > 0 {
			switch {
			case written < len(prefix):
				m := min(k, len(prefix)-written)
				f.write([]byte(prefix[written : written+m]))
				written += m
				k -= m
			case written < n-len(suffix):
				m := min(k, n-len(suffix)-written)
				f.fill(filler, m)
				written += m
				k -= m
			default:
				off := written - (n - len(suffix))
				m := min(k, len(suffix)-off)
				f.write([]byte(suffix[off : off+m]))
				written += m
				k -= m
			}
		}
	}
	left := n
	for {
		k := min(left, maxFragment)
		f.write([]byte{byte(k), byte(k >> 8), byte(k >> 16), seq})
		piece(k)
		left -= k
		if k < maxFragment {
			return seq
		}
		seq++
	}
}

// TestBigPackets: a 40 MiB INSERT and a 20 MiB row cross several 16 MiB
// packets; only a prefix is kept, and memory stays small.
func TestBigPackets(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds 60 MiB")
	}
	col := &collector{}
	conn := event.Conn{ID: 1}
	p := stream.NewPipe(stream.NewContext(&conn, col), New(stream.NewContext(&conn, col)))
	frame := 0
	client := &lazyFeeder{p: p, buf: make([]byte, 0, 64<<10), frame: &frame}
	server := &lazyFeeder{p: p, fromServer: true, buf: make([]byte, 0, 64<<10), frame: &frame}

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	server.write(greeting(mariaServerCaps))
	server.flush()
	client.write(loginPacket(pymysqlCaps, "glance", "glance", []byte("0123456789abcdefghij")))
	client.flush()
	server.write(pkt(2, okPayload(0, 0, 2, 0)))
	server.flush()

	const insertLen = 40 << 20
	prefix := "\x03INSERT INTO images (id, data) VALUES ('c6bca20f', '"
	last := client.bigPacket(0, prefix, 'A', insertLen, "')")
	client.flush()
	if last != 2 {
		t.Fatalf("INSERT of %d bytes took sequence ids 0..%d", insertLen, last)
	}
	server.write(pkt(last+1, okPayload(1, 0, 2, 0)))
	server.flush()

	client.write(query("SELECT data FROM images"))
	client.flush()
	server.write(pkt(1, lenenc(1)))
	server.write(pkt(2, columnDef("images", "data")))
	server.write(pkt(3, eofPayload(0, 2)))
	const rowLen = 20 << 20
	lenPrefix := string(lenenc(rowLen - 9))
	last = server.bigPacket(4, lenPrefix, 'B', rowLen, "")
	server.write(pkt(last+1, eofPayload(0, 2)))
	server.flush()

	client.write(query("SELECT 1"))
	client.flush()
	server.write(resultSet(1, 1, false, 2))
	server.flush()
	p.Close()

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("decoding 60 MiB allocated %d bytes", alloc)
	}
	if w := col.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	cmds := col.commands()
	if len(cmds) != 3 {
		t.Fatalf("events:\n%s", col.dump())
	}
	ins := cmds[0]
	if !ins.Truncated || ins.Length != insertLen || len(ins.Statement) != MaxStatement ||
		!strings.HasPrefix(ins.Statement, prefix[1:]) || strings.Join(ins.Tables, ",") != "images" {
		t.Errorf("INSERT: truncated=%v length=%d statement %d bytes %.60q tables %q", ins.Truncated, ins.Length, len(ins.Statement), ins.Statement, ins.Tables)
	}
	if r := Redact(ins.Statement); len(r) > 80 {
		t.Errorf("redacted INSERT is %d bytes: %.100q", len(r), r)
	}
	wantResults(t, col, "login ok", "COM_QUERY ok affected=1", "COM_QUERY resultset 1/1", "COM_QUERY resultset 1/1")
}
