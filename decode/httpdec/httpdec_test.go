package httpdec

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

type feed struct {
	fromServer bool
	data       string
	gap        int
}

var conn = &event.Conn{ID: 1, Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:5000")}

// feedAll hands the segments to p in pieces of at most chunk bytes (0: as
// given), one frame a millisecond, and closes it.
func feedAll(p *stream.Pipe, feeds []feed, chunk int) {
	t0 := time.Unix(1000, 0)
	frame := 0
	for _, f := range feeds {
		data := []byte(f.data)
		gap := f.gap
		for len(data) > 0 || gap != 0 {
			n := len(data)
			if chunk > 0 && n > chunk {
				n = chunk
			}
			frame++
			p.Feed(f.fromServer, gap, data[:n], event.Position{Time: t0.Add(time.Duration(frame) * time.Millisecond), Frame: event.FrameRef{Number: frame}})
			gap = 0
			data = data[n:]
		}
	}
	p.Close()
}

// run feeds the segments to a fresh decoder, split into pieces of at most
// chunk bytes (0: as given), and returns the events as summary lines.
func run(t *testing.T, feeds []feed, chunk int, midstream bool) []string {
	t.Helper()
	var got []string
	c := *conn
	c.Midstream = midstream
	ctx := stream.NewContext(&c, event.SinkFunc(func(e *event.Event) {
		got = append(got, summarize(e))
	}))
	p := stream.NewPipe(ctx, New(ctx, Options{BodyLimit: 16}))
	feedAll(p, feeds, chunk)
	return got
}

func summarize(e *event.Event) string {
	switch m := e.Data.(type) {
	case *Request:
		return fmt.Sprintf("req %s %s body=%d/%q complete=%v", m.Method, m.Target, m.BodyLen, m.Body, m.Complete)
	case *Response:
		req := "-"
		if m.Request != nil {
			req = m.Request.Data.(*Request).Method
		}
		return fmt.Sprintf("resp %d for %s body=%d/%q complete=%v lost=%d", m.Status, req, m.BodyLen, m.Body, m.Complete, m.Lost)
	case string:
		return "warn"
	}
	return fmt.Sprintf("%T", e.Data)
}

func TestExchanges(t *testing.T) {
	tests := []struct {
		name      string
		feeds     []feed
		midstream bool
		want      []string
	}{
		{
			name: "keystone: body until close, request body in a second segment",
			feeds: []feed{
				{data: "POST /v3/auth/tokens HTTP/1.1\r\nHost: k\r\nContent-Length: 11\r\n\r\n"},
				{data: `{"auth":{}}`},
				{fromServer: true, data: "HTTP/1.1 201 CREATED\r\nX-Subject-Token: gAAAAAB\r\n\r\n{\"token\": {\"methods\": []}}"},
			},
			want: []string{
				`req POST /v3/auth/tokens body=11/"{\"auth\":{}}" complete=true`,
				`resp 201 for POST body=26/"{\"token\": {\"meth" complete=true lost=0`,
			},
		},
		{
			name: "keep-alive, pipelining, HEAD, 204, 304",
			feeds: []feed{
				{data: "HEAD /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nDELETE /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"},
				{fromServer: true, data: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 304 Not Modified\r\nContent-Length: 55\r\n\r\n"},
			},
			want: []string{
				`req HEAD /a body=0/"" complete=true`,
				`req GET /b body=0/"" complete=true`,
				`req DELETE /c body=0/"" complete=true`,
				`req GET /d body=0/"" complete=true`,
				`resp 200 for HEAD body=0/"" complete=true lost=0`,
				`resp 200 for GET body=3/"abc" complete=true lost=0`,
				`resp 204 for DELETE body=0/"" complete=true lost=0`,
				`resp 304 for GET body=0/"" complete=true lost=0`,
			},
		},
		{
			name: "chunked response and 100-continue",
			feeds: []feed{
				{data: "PUT /v2/images/x/file HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 100 Continue\r\n\r\n"},
				{data: "data"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
			},
			want: []string{
				`resp 100 for PUT body=0/"" complete=true lost=0`,
				`req PUT /v2/images/x/file body=4/"data" complete=true`,
				`resp 200 for PUT body=11/"hello world" complete=true lost=0`,
			},
		},
		{
			name: "a gap inside a Content-Length body is counted, the next message decoded",
			feeds: []feed{
				{data: "GET /big HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n0123456789"},
				{fromServer: true, gap: 20, data: "0123456789HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
			},
			want: []string{
				`req GET /big body=0/"" complete=true`,
				`req GET /next body=0/"" complete=true`,
				`resp 200 for GET body=40/"0123456789" complete=false lost=20`,
				`resp 404 for GET body=0/"" complete=true lost=0`,
			},
		},
		{
			name:      "a capture that starts mid-connection resyncs on the next message",
			midstream: true,
			feeds: []feed{
				{data: "ing\r\nAccept: */*\r\n\r\nGET /second HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "5\r\n\r\n\x00\x01binary tail\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			},
			want: []string{
				`req GET /second body=0/"" complete=true`,
				`resp 200 for GET body=2/"ok" complete=true lost=0`,
			},
		},
		{
			name: "body cut by the end of the capture",
			feeds: []feed{
				{data: "GET /file HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"},
			},
			want: []string{
				`req GET /file body=0/"" complete=true`,
				`resp 200 for GET body=5/"short" complete=false lost=0`,
			},
		},
		{
			name: "garbage is reported, not decoded",
			feeds: []feed{
				{data: "\x16\x03\x01\x02\x00garbage\r\n\r\nGET /after HTTP/1.1\r\n\r\n"},
			},
			want: []string{
				"warn",
				`req GET /after body=0/"" complete=true`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 7} {
				got := run(t, tt.feeds, chunk, tt.midstream)
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("chunk %d:\ngot:\n%s\nwant:\n%s", chunk, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
			}
		})
	}
}

func TestRandomSplitsAreEquivalent(t *testing.T) {
	feeds := []feed{
		{data: "POST /v3/auth/tokens HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"},
		{fromServer: true, data: "HTTP/1.1 201 CREATED\r\nContent-Length: 2\r\n\r\nok"},
		{data: "GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{fromServer: true, data: "HTTP/1.1 200 OK\r\n\r\nuntil close"},
	}
	want := run(t, feeds, 0, false)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		got := run(t, feeds, 1+rng.IntN(20), false)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("split %d: got %q want %q", i, got, want)
		}
	}
}

// TestLongRequestLines: request lines of any length up to the header bound
// decode (they were dropped past 80 bytes), on a fresh connection and when
// resynchronising after a capture that started mid-connection.
func TestLongRequestLines(t *testing.T) {
	const (
		project = "25dfdbeeb0f446c2a818705473ff6879"
		user    = "41c4dc0969f7439895519ab441541b45"
		role    = "3612e1c7e10d4892995fc66df8c0c2e9"
	)
	long := "/v2/images?name=" + strings.Repeat("x", maxHeaderBytes-200)
	tests := []struct {
		name, method, target string
	}{
		{"filtered image list", "GET", "/v2/images?name=cirros-0.6.2-x86_64-disk&limit=25&sort_key=name&sort_dir=asc&visibility=public"},
		{"image list --long", "GET", "/v2/images?limit=1000&sort_key=created_at&sort_dir=desc&member_status=all&visibility=all"},
		{"role add", "PUT", "/v3/projects/" + project + "/users/" + user + "/roles/" + role},
		{"role remove", "DELETE", "/v3/projects/" + project + "/users/" + user + "/roles/" + role},
		{"role assignments", "GET", "/v3/role_assignments?user.id=" + user + "&scope.project.id=" + project + "&include_names=True"},
		{"a query string near the header bound", "GET", long},
	}
	for _, tt := range tests {
		for _, midstream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/midstream=%v", tt.name, midstream), func(t *testing.T) {
				feeds := []feed{
					{data: tt.method + " " + tt.target + " HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nAccept: application/json\r\n\r\n"},
					{fromServer: true, data: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"},
				}
				if midstream {
					// The tail of an earlier exchange comes first.
					feeds[0].data = "ept: */*\r\n\r\n" + feeds[0].data
					feeds[1].data = "\r\n0\r\n\r\n" + feeds[1].data
				}
				want := []string{
					fmt.Sprintf(`req %s %s body=0/"" complete=true`, tt.method, tt.target),
					fmt.Sprintf(`resp 204 for %s body=0/"" complete=true lost=0`, tt.method),
				}
				for _, chunk := range []int{0, 1, 1460} {
					got := run(t, feeds, chunk, midstream)
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("chunk %d:\ngot:\n%.300s\nwant:\n%.300s", chunk, strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
				}
			})
		}
	}
}
