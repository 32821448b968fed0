package httpdec

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// The benchmarks feed the decoder through a stream.Pipe, as the pipeline
// does after reassembly; MB/s counts the bytes fed.

const (
	benchRequest = "GET /v2/images?name=cirros HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n" +
		"User-Agent: openstacksdk/0.101.0 keystoneauth1/5.0.0 python-requests/2.28.1 CPython/3.11.2\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\nAccept: application/json\r\nConnection: keep-alive\r\n" +
		"X-Auth-Token: gAAAAABrAt0PFgZN0SsKKG2BZatTggNzhp-RtdYkORzVuq2SaLKqqu9oVM-j8DnZ-0FVM1ZHPprgQDvN-eXsKElxcTDSXGqxKipvSwS-8b_Kworsm0JkUQCx0FqObDD2Rco3grO0vB2rRPdWfV6edkFI5ic9nVgPZTwW7ojt5Wx_JRcNiyhZQng\r\n\r\n"
	benchValidation = "GET /v3/auth/tokens HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nUser-Agent: python-keystoneclient\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\nAccept: application/json\r\nConnection: keep-alive\r\n" +
		"X-Subject-Token: gAAAAABrAt0PFgZN0SsKKG2BZatTggNzhp-RtdYkORzVuq2SaLKqqu9oVM-j8DnZ-0FVM1ZHPprgQDvN-eXsKElxcTDSXGqxKipvSwS-8b_Kworsm0JkUQCx0FqObDD2Rco3grO0vB2rRPdWfV6edkFI5ic9nVgPZTwW7ojt5Wx_JRcNiyhZQng\r\n" +
		"OpenStack-Identity-Access-Rules: 1\r\n" +
		"X-Auth-Token: gAAAAABrAt0PLlyvlhu04_Wt36SMzW6KUsFk7QDAVqGXBKRpEcvlUXFVeRUFFwslKsShTqBAh2jHxXIXQviBSFaKB8AlRU7w9GLDI5LLeN25oLUWBSyMu3GoMYpL6xrUpI4sVxwt0MXFDy1MsmSC_Bf5g5M2X6lCfHzKWwaE_gTa60ql7qFp3vY\r\n\r\n"
)

// glanceResponse is a glance (eventlet) response with a body of n bytes.
func glanceResponse(n int) []byte {
	return []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(n) +
		"\r\nX-Openstack-Request-Id: req-fd4a86fd-18f0-4b52-a151-26db851d57cc\r\nDate: Sun, 22 Nov 2026 12:16:16 GMT\r\nConnection: keep-alive\r\n\r\n")
}

type benchSink struct{ n int }

func (s *benchSink) Emit(*event.Event) { s.n++ }

func newBenchPipe(sink *benchSink) *stream.Pipe {
	ctx := stream.NewContext(conn, sink)
	return stream.NewPipe(ctx, New(ctx, Options{}))
}

// BenchmarkKeepAlive is one small request and response per operation on a
// keep-alive connection (the CLI talking to glance).
func BenchmarkKeepAlive(b *testing.B) {
	body := bytes.Repeat([]byte(`{"images": [], "first": "/v2/images?name=cirros", "schema": "/v2/schemas/images"}`), 12)
	resp := append(glanceResponse(len(body)), body...)
	req := []byte(benchRequest)
	sink := &benchSink{}
	p := newBenchPipe(sink)
	pos := event.Position{Time: time.Unix(1e9, 0)}
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		pos.Frame.Number++
		p.Feed(false, 0, req, pos)
		pos.Frame.Number++
		p.Feed(true, 0, resp, pos)
	}
	b.StopTimer()
	p.Close()
	if sink.n < 2*b.N {
		b.Fatalf("%d events for %d exchanges", sink.n, b.N)
	}
}

// BenchmarkBodySkip is a 64 MiB response body (an image download) per
// operation, fed in segments of 1448 bytes (a 1500-byte MTU) or 64 KiB
// (loopback): the decoder keeps its first bytes and skips the rest.
func BenchmarkBodySkip(b *testing.B) {
	const size = 64 << 20
	for _, seg := range []int{1448, 64 << 10} {
		b.Run(strconv.Itoa(seg), func(b *testing.B) {
			chunk := make([]byte, seg)
			head := glanceResponse(size)
			req := []byte("GET /v2/images/c6bca20f-183a-466f-9948-935b243c8190/file HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n\r\n")
			sink := &benchSink{}
			p := newBenchPipe(sink)
			pos := event.Position{Time: time.Unix(1e9, 0)}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				pos.Frame.Number++
				p.Feed(false, 0, req, pos)
				pos.Frame.Number++
				p.Feed(true, 0, head, pos)
				for left := size; left > 0; left -= seg {
					pos.Frame.Number++
					p.Feed(true, 0, chunk[:min(seg, left)], pos)
				}
			}
			b.StopTimer()
			p.Close()
			if sink.n != 2*b.N {
				b.Fatalf("%d events for %d downloads", sink.n, b.N)
			}
		})
	}
}

// BenchmarkValidation is one connection per operation: a token validation
// and keystone's answer, delimited by the end of the connection (uwsgi).
func BenchmarkValidation(b *testing.B) {
	body := bytes.Repeat([]byte(`{"token": {"methods": ["password"], "user": {"domain": {"id": "default"}}}} `), 25)
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Subject-Token: gAAAAABrAt0PFgZN0SsKKG2BZatTggNzhp-RtdYkORzVuq2SaLKqqu9oVM-j8DnZ-0FVM1ZHPprgQDvN-eXsKElxcTDSXGqxKipvSwS-8b_Kworsm0JkUQCx0FqObDD2Rco3grO0vB2rRPdWfV6edkFI5ic9nVgPZTwW7ojt5Wx_JRcNiyhZQng\r\n"+
		"Vary: X-Auth-Token\r\nx-openstack-request-id: req-e55971ee-4dbd-4a4f-8816-fa1424dc4787\r\n\r\n"), body...)
	req := []byte(benchValidation)
	sink := &benchSink{}
	pos := event.Position{Time: time.Unix(1e9, 0)}
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		p := newBenchPipe(sink)
		pos.Frame.Number++
		p.Feed(false, 0, req, pos)
		pos.Frame.Number++
		p.Feed(true, 0, resp, pos)
		p.Close()
	}
	if sink.n != 2*b.N {
		b.Fatalf("%d events for %d validations", sink.n, b.N)
	}
}
