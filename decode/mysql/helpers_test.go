package mysql

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// segment is what one captured TCP segment carried.
type segment struct {
	fromServer bool
	gap        int // bytes missing before data
	data       []byte
	pos        event.Position
}

// conversation is one connection's bytes in capture order.
type conversation struct {
	conn     event.Conn
	segments []segment
}

// loadConv reads a conversation written by gen_testdata.go.
func loadConv(tb testing.TB, name string) *conversation {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".conv.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	conv := &conversation{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "conn":
			conv.conn = event.Conn{
				ID:        1,
				Client:    netip.MustParseAddrPort(fields[1]),
				Server:    netip.MustParseAddrPort(fields[2]),
				Midstream: fields[3] == "midstream=true",
			}
		case "c", "s":
			frame, err1 := strconv.Atoi(fields[1])
			nano, err2 := strconv.ParseInt(fields[2], 10, 64)
			data, err3 := hex.DecodeString(fields[3])
			if err1 != nil || err2 != nil || err3 != nil {
				tb.Fatalf("%s line %d: bad segment", name, line)
			}
			conv.segments = append(conv.segments, segment{
				fromServer: fields[0] == "s",
				data:       data,
				pos:        event.Position{Time: time.Unix(0, nano), Frame: event.FrameRef{Number: frame}},
			})
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return conv
}

// collector gathers the events of one run.
type collector struct {
	events []*event.Event
}

func (c *collector) Emit(e *event.Event) { c.events = append(c.events, e) }

func (c *collector) of(kind event.Kind) []*event.Event {
	var out []*event.Event
	for _, e := range c.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (c *collector) commands() []*Command {
	var out []*Command
	for _, e := range c.of(event.MySQLCommand) {
		out = append(out, e.Data.(*Command))
	}
	return out
}

func (c *collector) results() []*Result {
	var out []*Result
	for _, e := range c.of(event.MySQLResult) {
		out = append(out, e.Data.(*Result))
	}
	return out
}

func (c *collector) warnings() []string {
	var out []string
	for _, e := range c.of(event.Warning) {
		out = append(out, e.Data.(string))
	}
	return out
}

// dump renders the events for comparisons and failure messages.
func (c *collector) dump() string {
	var b strings.Builder
	for _, e := range c.events {
		data, _ := json.Marshal(e.Data)
		fmt.Fprintf(&b, "%s server=%v frame=%d end=%d %s\n", e.Kind, e.FromServer, e.Start.Frame.Number, e.End.UnixNano(), data)
	}
	return b.String()
}

// splitter cuts a segment's bytes into the pieces fed one by one.
type splitter func(data []byte) [][]byte

func whole(data []byte) [][]byte { return [][]byte{data} }

func bytewise(data []byte) [][]byte {
	out := make([][]byte, len(data))
	for i := range data {
		out[i] = data[i : i+1]
	}
	return out
}

// chunks of a fixed size.
func chunks(n int) splitter {
	return func(data []byte) [][]byte {
		var out [][]byte
		for len(data) > n {
			out = append(out, data[:n])
			data = data[n:]
		}
		return append(out, data)
	}
}

// run feeds a conversation through a new decoder.
func run(conv *conversation, split splitter) *collector {
	col := &collector{}
	conn := conv.conn
	p := stream.NewPipe(stream.NewContext(&conn, col), New(stream.NewContext(&conn, col)))
	for _, s := range conv.segments {
		gap := s.gap
		for _, piece := range split(s.data) {
			p.Feed(s.fromServer, gap, piece, s.pos)
			gap = 0
		}
		if len(s.data) == 0 && gap != 0 {
			p.Feed(s.fromServer, gap, nil, s.pos)
		}
	}
	p.Close()
	return col
}
