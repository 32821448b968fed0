package httpdec

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/packet"
	"github.com/authflow/authflow/decode/stream"
)

// The fuzz input is a conversation: a flags byte (bit 0: the capture
// starts mid-connection; bit 1: sniff, as on a port not known to carry
// HTTP; bits 2-3: the body limit, one of 64 KiB, 16, 1 and 300 bytes),
// then records of a control byte (bit 0: from the server; bits 2-7: bytes
// missing from the capture before the record, 63 for an unknown number),
// a length byte and that many bytes.

var fuzzBodyLimits = [4]int{0, 16, 1, 300}

// encodeConv writes feeds in the fuzz format.
func encodeConv(flags byte, feeds []feed) []byte {
	out := []byte{flags}
	for _, f := range feeds {
		data := []byte(f.data)
		gap := f.gap
		for first := true; first || len(data) > 0; first = false {
			n := min(len(data), 255)
			ctl := byte(0)
			if f.fromServer {
				ctl = 1
			}
			switch {
			case gap < 0:
				ctl |= 63 << 2
			default:
				ctl |= byte(min(gap, 62)) << 2
			}
			gap = 0
			out = append(out, ctl, byte(n))
			out = append(out, data[:n]...)
			data = data[n:]
		}
	}
	return out
}

// decodeConv reads the fuzz format.
func decodeConv(in []byte) (flags byte, feeds []feed) {
	if len(in) == 0 {
		return 0, nil
	}
	flags, in = in[0], in[1:]
	for len(in) >= 2 {
		ctl, n := in[0], int(in[1])
		in = in[2:]
		n = min(n, len(in))
		gap := int(ctl >> 2)
		if gap == 63 {
			gap = -1
		}
		feeds = append(feeds, feed{fromServer: ctl&1 != 0, gap: gap, data: string(in[:n])})
		in = in[n:]
	}
	return flags, feeds
}

// realConversations reads the HTTP connections of a capture of
// testdata/captures: per connection, its payloads in capture order, cut
// to about limit bytes.
func realConversations(tb testing.TB, scenario, file string, port uint16, limit int) [][]feed {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "captures", scenario, file))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := pcapgo.NewReader(zr)
	if err != nil {
		tb.Fatal(err)
	}
	pd := packet.NewDecoder()
	convs := map[uint16][]feed{}
	size := map[uint16]int{}
	var order []uint16
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		seg, err := pd.Decode(r.LinkType(), data)
		if err != nil || len(seg.Payload) == 0 {
			continue
		}
		var cport uint16
		fromServer := seg.Src.Port() == port
		switch {
		case fromServer:
			cport = seg.Dst.Port()
		case seg.Dst.Port() == port:
			cport = seg.Src.Port()
		default:
			continue
		}
		if _, ok := convs[cport]; !ok {
			order = append(order, cport)
		}
		if size[cport] >= limit {
			continue
		}
		p := seg.Payload[:min(len(seg.Payload), limit-size[cport])]
		size[cport] += len(p)
		convs[cport] = append(convs[cport], feed{fromServer: fromServer, data: string(p)})
	}
	var out [][]feed
	for _, c := range order {
		out = append(out, convs[c])
	}
	return out
}

// fuzzRun decodes a conversation, feeding each record in pieces of at
// most chunk bytes (0: whole), and returns the events.
func fuzzRun(t *testing.T, flags byte, feeds []feed, chunk int) []*event.Event {
	var events []*event.Event
	c := *conn
	c.Midstream = flags&1 != 0
	ctx := stream.NewContext(&c, event.SinkFunc(func(e *event.Event) { events = append(events, e) }))
	p := stream.NewPipe(ctx, New(ctx, Options{BodyLimit: fuzzBodyLimits[flags>>2&3], Sniff: flags&2 != 0}))
	feedAll(p, feeds, chunk)
	return events
}

// describe summarises an event without its position.
func describe(e *event.Event) string {
	switch m := e.Data.(type) {
	case *Request:
		return fmt.Sprintf("req %d %s %q %s hdr=%d body=%d/%q lost=%d complete=%v", m.Seq, m.Method, m.Target, m.Proto, len(m.Header), m.BodyLen, m.Body, m.Lost, m.Complete)
	case *Response:
		req := 0
		if m.Request != nil {
			req = m.Request.Data.(*Request).Seq
		}
		return fmt.Sprintf("resp %d %q for %d hdr=%d body=%d/%q lost=%d complete=%v", m.Status, m.Reason, req, len(m.Header), m.BodyLen, m.Body, m.Lost, m.Complete)
	case string:
		return "warn " + m
	}
	return fmt.Sprintf("%s %T", e.Kind, e.Data)
}

// checkInvariants checks what must hold of any decoded conversation.
func checkInvariants(t *testing.T, flags byte, events []*event.Event) {
	limit := fuzzBodyLimits[flags>>2&3]
	if limit == 0 {
		limit = DefaultBodyLimit
	}
	// A response may come before its request is emitted (a 100 Continue
	// answers a request whose body is still on its way), not before it
	// starts.
	seen := map[*event.Event]bool{}
	for _, e := range events {
		seen[e] = true
	}
	for _, e := range events {
		var m *Message
		switch d := e.Data.(type) {
		case *Request:
			m = &d.Message
			if e.Kind != event.HTTPRequest || e.FromServer {
				t.Fatalf("request event %s fromServer=%v", e.Kind, e.FromServer)
			}
		case *Response:
			m = &d.Message
			if e.Kind != event.HTTPResponse || !e.FromServer {
				t.Fatalf("response event %s fromServer=%v", e.Kind, e.FromServer)
			}
			if d.Request != nil && (!seen[d.Request] || d.Request.Start.Time.After(e.Start.Time)) {
				t.Fatalf("response to a request not emitted, or starting after it: %s", describe(e))
			}
			if d.Status < 100 || d.Status > 999 {
				t.Fatalf("status %d", d.Status)
			}
		case string:
			if strings.Contains(d, "decoder failed") {
				t.Fatalf("decoder panicked: %s", d)
			}
			if strings.Contains(d, "\n") {
				t.Fatalf("warning on several lines: %q", d)
			}
		default:
			t.Fatalf("unexpected event %s %T", e.Kind, e.Data)
		}
		if e.End.Before(e.Start.Time) {
			t.Fatalf("%s ends before it starts", describe(e))
		}
		if m == nil {
			continue
		}
		if len(m.Body) > limit || int64(len(m.Body)) > m.BodyLen || m.Lost < 0 || m.Lost > m.BodyLen || (m.Complete && m.Lost != 0) {
			t.Fatalf("inconsistent body (limit %d): %s", limit, describe(e))
		}
	}
}

func fuzzSeeds(f *testing.F) {
	for _, c := range []struct {
		scenario, file string
		port           uint16
	}{
		{"token-issue", "ens.pcap.gz", 5000},
		{"bad-password", "ens.pcap.gz", 5000},
		{"image-create", "ens.pcap.gz", 9292},
		{"image-list-cold", "lo.pcap.gz", 5000},
	} {
		for i, conv := range realConversations(f, c.scenario, c.file, c.port, 6000) {
			if i < 3 {
				f.Add(encodeConv(0, conv))
				f.Add(encodeConv(1|8, conv[1:]))
			}
		}
	}
	f.Add(encodeConv(0, []feed{
		{data: "GET /v2/images HTTP/1.1\r\nHost: g\r\n\r\n"},
		{fromServer: true, data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
		{data: "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcdefGET /y HTTP/1.1\r\n\r\n"},
		{fromServer: true, gap: 10, data: "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n"},
	}))
	f.Add(encodeConv(2, []feed{{data: "\x16\x03\x01garbage"}, {fromServer: true, data: "HTTP/1.0 200\r\n\r\n"}}))
	f.Add(encodeConv(4, []feed{
		{data: "GET /v3 HTTP/1.1\r\nHost: 198.18"},
		{gap: 100, data: "POST /v3/auth/tokens HTTP/1.1\r"},
		{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Type"},
		{fromServer: true, gap: -1, data: "HTTP/1.1 201 CREATED\r\nX-Subject-Token: gAAAAAB\r\nContent-Length: 100000\r\n\r\n"},
	}))
	f.Add(encodeConv(0, []feed{
		{data: "GET / HTTP/1.1\r\n" + strings.Repeat("X: "+strings.Repeat("a", 250)+"\r\n", 270) + "\r\nGET /n HTTP/1.1\r\n\r\n"},
	}))
}

// FuzzDecode runs the decoder on arbitrary conversations: it must not
// panic or hang, must keep its invariants, and must give the same events
// however the bytes are split into segments.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		flags, feeds := decodeConv(in)
		events := fuzzRun(t, flags, feeds, 0)
		checkInvariants(t, flags, events)
		want := make([]string, len(events))
		for i, e := range events {
			want[i] = describe(e)
		}
		for _, chunk := range []int{1, 7} {
			got := fuzzRun(t, flags, feeds, chunk)
			descs := make([]string, len(got))
			for i, e := range got {
				descs[i] = describe(e)
			}
			if !slices.Equal(descs, want) {
				t.Fatalf("pieces of %d bytes change the events:\ngot:\n%s\nwant:\n%s", chunk, strings.Join(descs, "\n"), strings.Join(want, "\n"))
			}
		}
	})
}

// TestFuzzEncoding checks that the fuzz format round-trips.
func TestFuzzEncoding(t *testing.T) {
	feeds := []feed{{data: strings.Repeat("a", 600)}, {fromServer: true, gap: 5, data: "b"}, {gap: -1, data: "c"}}
	flags, got := decodeConv(encodeConv(3, feeds))
	var joined []string
	for _, f := range got {
		joined = append(joined, fmt.Sprintf("%v/%d/%d", f.fromServer, f.gap, len(f.data)))
	}
	want := "false/0/255 false/0/255 false/0/90 true/5/1 false/-1/1"
	if flags != 3 || strings.Join(joined, " ") != want {
		t.Errorf("got flags %d %v, want %s", flags, joined, want)
	}
	var buf bytes.Buffer
	buf.Write(encodeConv(0, nil))
	if buf.Len() != 1 {
		t.Errorf("empty conversation encodes to %d bytes", buf.Len())
	}
}
