package httpdec

import (
	"strings"
	"testing"
)

// TestHostileExchanges are regression tests for what fuzzing and the
// hostile corpus found.
func TestHostileExchanges(t *testing.T) {
	tests := []struct {
		name      string
		feeds     []feed
		midstream bool
		want      []string
	}{
		{
			// It used to loop for ever: resync found the same request line.
			name: "a header longer than the buffer is skipped, the next request decoded",
			feeds: []feed{
				{data: "GET /big HTTP/1.1\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 100)+"\r\n", 700) + "\r\nGET /next HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			},
			want: []string{
				"warn",
				`req GET /next body=0/"" complete=true`,
				`resp 431 for GET body=0/"" complete=true lost=0`,
				`resp 200 for - body=2/"ok" complete=true lost=0`,
			},
		},
		{
			// A snap length cuts each header: the captured request and
			// status lines are messages; the bytes after a gap are not the
			// rest of the header before it.
			name: "headers cut by gaps give partial messages",
			feeds: []feed{
				{data: "GET /v3 HTTP/1.1\r\nHost: 198.18"},
				{gap: 192},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Type"},
				{fromServer: true, gap: 358},
				{data: "POST /v3/auth/tokens HTTP/1.1\r"},
				{gap: 258},
				{fromServer: true, data: "HTTP/1.1 201 CREATED\r\nContent-"},
				{fromServer: true, gap: 1418},
			},
			want: []string{
				`req GET /v3 body=0/"" complete=false`,
				`resp 200 for GET body=0/"" complete=false lost=0`,
				`req POST /v3/auth/tokens body=0/"" complete=false`,
				`resp 201 for POST body=0/"" complete=false lost=0`,
			},
		},
		{
			name: "status 000 is not a response",
			feeds: []feed{
				{data: "GET / HTTP/1.0\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.0 000 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\n"},
			},
			want: []string{
				`req GET / body=0/"" complete=true`,
				"warn",
				`resp 200 for GET body=0/"" complete=true lost=0`,
			},
		},
		{
			// Lost once counted the whole gap, past the end of the body.
			name: "a gap running past the end of a body counts only the body's bytes",
			feeds: []feed{
				{data: "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n000"},
				{fromServer: true, gap: 12, data: "HTTP/1.1 204 No Content\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
				{fromServer: true, data: "0123456789"},
				{fromServer: true, gap: 500, data: "HTTP/1.1 404 Not Found\r\n\r\n"},
			},
			want: []string{
				`req GET /a body=0/"" complete=true`,
				`req GET /b body=0/"" complete=true`,
				`resp 200 for GET body=7/"000" complete=false lost=4`,
				`resp 204 for GET body=0/"" complete=true lost=0`,
				`resp 200 for - body=100/"0123456789" complete=false lost=90`,
				`resp 404 for - body=0/"" complete=true lost=0`,
			},
		},
		{
			name: "a chunk size that overflows is reported, the next exchange decoded",
			feeds: []feed{
				{data: "GET /a HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
				{data: "GET /b HTTP/1.1\r\n\r\n"},
				{fromServer: true, data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			},
			want: []string{
				`req GET /a body=0/"" complete=true`,
				"warn",
				`resp 200 for GET body=0/"" complete=false lost=0`,
				`req GET /b body=0/"" complete=true`,
				`resp 200 for GET body=2/"ok" complete=true lost=0`,
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
