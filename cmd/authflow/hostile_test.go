package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/sequence"
)

// The hostile corpus: damaged captures and protocol abuse, each
// with what authflow must do about it. Every input must give a clear
// warning or error, the analysis of what is intact, and no panic and no
// hang. The inputs live in testdata/hostile, written by the builders
// below:
//
//	go test ./cmd/authflow -run TestHostile -update-hostile

var updateHostile = flag.Bool("update-hostile", false, "rewrite the hostile capture corpus in testdata/hostile")

const hostileDir = "../../testdata/hostile"

// hostileCase is one hostile input and the behaviour expected of analyze.
type hostileCase struct {
	// name names the case when a file has several (default: file).
	name string
	file string
	// build writes the file; nil for a file another case builds.
	build func(t testing.TB) []byte
	// args are extra analyze flags.
	args []string
	// exit is the exit code.
	exit int
	// stderr lists substrings of standard error.
	stderr []string
	// warnings lists substrings that some warning of the flow contains.
	warnings []string
	// labels lists substrings of message labels that must all be in the
	// flow (each in some message), the analysis of what is intact.
	labels []string
	// noLabels lists substrings no message label may contain.
	noLabels []string
}

// tokenIssue is the client side of the real token-issue scenario: GET /v3
// → 200 OK on one connection (frames 1-10), POST /v3/auth/tokens → 201
// Created on another (frames 11-25; request header in frame 14, body in
// 16, response in 18-19).
func tokenIssue(t testing.TB) *capFile { return readCapture(t, "token-issue", "ens.pcap.gz") }

// intactTokenIssue is what the flow of token-issue shows.
var intactTokenIssue = []string{"GET /v3", "200 OK", "POST /v3/auth/tokens: password admin@Default", "201 Created: token"}

// keep returns c with the records that want accepts (frame is 1-based).
func keep(c *capFile, want func(frame int, r record) bool) *capFile {
	out := *c
	out.recs = nil
	for i, r := range c.recs {
		if want(i+1, r) {
			out.recs = append(out.recs, r)
		}
	}
	return &out
}

// pcapngBlockOffsets returns where each block of a little-endian pcapng
// file starts.
func pcapngBlockOffsets(b []byte) []int {
	var offs []int
	for off := 0; off+12 <= len(b); {
		offs = append(offs, off)
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 {
			break
		}
		off += n
	}
	return offs
}

const keystone = "198.18.0.11:5000"

func hostileCases() []hostileCase {
	return []hostileCase{
		{
			file:   "empty.pcap",
			build:  func(testing.TB) []byte { return nil },
			exit:   exitFailure,
			stderr: []string{"empty.pcap: ", "empty"},
		},
		{
			file:   "wrong-magic.pcap",
			build:  func(testing.TB) []byte { return []byte("<html><body><h1>404 Not Found</h1></body></html>\n") },
			exit:   exitFailure,
			stderr: []string{"wrong-magic.pcap: ", "not a pcap or pcapng"},
		},
		{
			// Cut inside the 16-byte header of frame 11, the SYN of the
			// second connection.
			file: "truncated-record-header.pcap",
			build: func(t testing.TB) []byte {
				b := tokenIssue(t).pcap()
				return b[:pcapRecordOffsets(b)[10]+7]
			},
			exit:   exitPartial,
			stderr: []string{"truncated-record-header.pcap: ", "frame 11"},
			labels: []string{"GET /v3", "200 OK"},
		},
		{
			// Cut inside the data of frame 18, the first segment of the
			// 201 response.
			file: "truncated-packet.pcap",
			build: func(t testing.TB) []byte {
				b := tokenIssue(t).pcap()
				return b[:pcapRecordOffsets(b)[17]+16+700]
			},
			exit:     exitPartial,
			stderr:   []string{"truncated-packet.pcap: ", "frame 18"},
			labels:   []string{"GET /v3", "200 OK", "POST /v3/auth/tokens: password admin@Default"},
			noLabels: []string{"201"},
		},
		{
			file: "truncated-block.pcapng",
			build: func(t testing.TB) []byte {
				b := tokenIssue(t).pcapng()
				// Section header, interface description, then one block per frame.
				return b[:pcapngBlockOffsets(b)[2+17]+30]
			},
			exit:     exitPartial,
			stderr:   []string{"truncated-block.pcapng: ", "frame 18"},
			labels:   []string{"GET /v3", "200 OK", "POST /v3/auth/tokens: password admin@Default"},
			noLabels: []string{"201"},
		},
		{
			file: "truncated.pcap.gz",
			build: func(t testing.TB) []byte {
				b := gzipBytes(tokenIssue(t).pcap())
				return b[:len(b)*2/3]
			},
			exit:   exitPartial,
			stderr: []string{"truncated.pcap.gz: "},
			labels: []string{"GET /v3", "200 OK"},
		},
		{
			// tcpdump -s 96: 30 bytes of each TCP payload.
			file: "snaplen-96.pcap",
			build: func(t testing.TB) []byte {
				c := tokenIssue(t)
				c.snaplen = 96
				for i, r := range c.recs {
					if len(r.data) > 96 {
						c.recs[i].data = r.data[:96]
						c.recs[i].ci.CaptureLength = 96
					}
				}
				return c.pcap()
			},
			exit:     exitOK,
			warnings: []string{"snap length"},
			labels:   []string{"GET /v3", "200 OK", "POST /v3/auth/tokens", "201 Created"},
		},
		{
			file: "unknown-linktype.pcap",
			build: func(t testing.TB) []byte {
				c := tokenIssue(t)
				c.link = layers.LinkType(147) // LINKTYPE_USER0
				return c.pcap()
			},
			exit:     exitPartial,
			warnings: []string{"link type"},
		},
		{
			// The POST request's two segments, each cut into two IP fragments.
			file: "ip-fragments.pcap",
			build: func(t testing.TB) []byte {
				c := tokenIssue(t)
				out := *c
				out.recs = nil
				for i, r := range c.recs {
					if i+1 == 14 || i+1 == 16 {
						for _, f := range fragment(r.data, 80) {
							out.recs = append(out.recs, record{ci: r.ci, data: f})
							out.recs[len(out.recs)-1].ci.CaptureLength = len(f)
							out.recs[len(out.recs)-1].ci.Length = len(f)
						}
						continue
					}
					out.recs = append(out.recs, r)
				}
				return out.pcap()
			},
			exit:     exitOK,
			warnings: []string{"IP fragments are not reassembled"},
			labels:   []string{"GET /v3", "200 OK", "201 Created"},
		},
		{
			file: "no-handshake.pcap",
			build: func(t testing.TB) []byte {
				return keep(tokenIssue(t), func(_ int, r record) bool { tcp := tcpOf(r.data); return !tcp.SYN }).pcap()
			},
			exit:   exitOK,
			labels: intactTokenIssue,
		},
		{
			// The second connection starts in the middle of the request
			// body: its handshake and request header are not captured.
			file: "midstream.pcap",
			build: func(t testing.TB) []byte {
				return keep(tokenIssue(t), func(n int, _ record) bool { return n <= 10 || n >= 16 }).pcap()
			},
			exit:     exitOK,
			labels:   []string{"GET /v3", "200 OK", "201 Created"},
			noLabels: []string{"POST"},
		},
		{
			file:     "overlapping-segments.pcap",
			build:    buildOverlapping,
			exit:     exitOK,
			labels:   []string{"POST /v3/auth/tokens: password admin@Default", "201 Created: token"},
			noLabels: []string{"GET /v3/auth/tokens"},
		},
		{
			file:   "rst-mid-body.pcap",
			build:  buildRSTMidBody,
			exit:   exitOK,
			labels: []string{"GET /v2/images/2b1e5ca0-6a1c-4e2c-9bb9-7c4d0f1e3a55/file", "200 OK", "GET /v2/images", "reset"},
		},
		{
			file:     "lying-content-length.pcap",
			build:    buildLyingContentLength,
			exit:     exitOK,
			warnings: []string{"not an HTTP request"},
			labels:   []string{"POST /v3/auth/tokens", "401", "GET /v3", "200 OK"},
		},
		{
			file:     "chunk-overflow.pcap",
			build:    buildChunkOverflow,
			exit:     exitOK,
			warnings: []string{"chunk"},
			labels:   []string{"GET /v2/images", "GET /v2/schemas/image", "200 OK"},
		},
		{
			file:     "header-too-long.pcap.gz",
			build:    func(t testing.TB) []byte { return gzipBytes(buildHeaderTooLong(t)) },
			exit:     exitOK,
			warnings: []string{"HTTP request header longer than 65536 bytes"},
			labels:   []string{"GET /v3", "200 OK"},
		},
		{
			// Limits far below what the capture needs: connections are
			// closed early (HTTP bodies are no longer kept past their
			// interpretation, so none is dropped), said with the flag
			// and the count; what fits is analysed, and the exit code
			// says the flow is not whole.
			name:     "max-memory",
			file:     "no-handshake.pcap",
			args:     []string{"--max-memory", "8KiB"},
			exit:     exitPartial,
			warnings: []string{"connections were closed early to stay within --max-memory=8KiB"},
			labels:   []string{"GET /v3", "200 OK", "POST /v3/auth/tokens"},
		},
		{
			name:     "max-events",
			file:     "no-handshake.pcap",
			args:     []string{"--max-events", "3"},
			exit:     exitPartial,
			warnings: []string{"1 messages were dropped to stay within --max-events=3"},
			labels:   []string{"GET /v3", "200 OK", "POST /v3/auth/tokens: password admin@Default"},
			noLabels: []string{"201"},
		},
		{
			file:     "memcached-huge.pcap",
			build:    buildMemcachedHuge,
			args:     []string{"--detail"},
			exit:     exitOK,
			warnings: []string{"memcached"},
			labels:   []string{"get"},
		},
		{
			// Every kind of secret on the wire (TestNoSecretsInOutput
			// checks every output for them).
			file:   "secrets.pcap",
			build:  buildSecrets,
			args:   []string{"--detail", "--memcache-secret", craftedMemcacheSecret},
			exit:   exitOK,
			labels: []string{"POST /v3/auth/tokens: password admin@Default", "201 Created", "404", "CREATE USER", "error 1064"},
		},
		{
			file:     "mysql-huge.pcap",
			build:    buildMySQLHuge,
			args:     []string{"--detail"},
			exit:     exitOK,
			warnings: []string{"mysql"},
			labels:   []string{"login as keystone", "SELECT VERSION()"},
		},
	}
}

// buildOverlapping sends the real POST /v3/auth/tokens in overlapping,
// conflicting and out-of-order segments: the first copy of each byte must
// win, as in the receiver's stack.
func buildOverlapping(t testing.TB) []byte {
	real := tokenIssue(t)
	var req, resp []byte
	for _, s := range payloads(real, 5000, 1, 10) { // the second connection: POST and 201
		if s.fromServer {
			resp = append(resp, s.data...)
		} else {
			req = append(req, s.data...)
		}
	}
	f := newCapFile()
	c := newConn(f, "198.18.0.100:60504", keystone)
	c.handshake()
	base := c.cseq
	at := func(off int, data []byte) { c.emit(c.frame(false, base+uint32(off), flags{ack: true}, data)) }
	at(0, req[:10])
	conflict := bytes.Clone(req[:40])
	copy(conflict, "GET ") // conflicts with the bytes already sent
	at(0, conflict)
	at(300, req[300:])    // out of order: ahead of a hole
	at(40, req[40:200])   // fills part of the hole
	at(150, req[150:320]) // overlaps both sides
	at(300, req[300:])    // a retransmission of what is buffered
	bad := bytes.Clone(req[200:300])
	for i := range bad {
		bad[i] = 'X'
	}
	at(200, req[200:300])
	at(200, bad) // a conflicting retransmission of delivered bytes
	c.cseq = base + uint32(len(req))
	c.seg(true, flags{ack: true}, nil)
	c.send(true, resp)
	c.close()
	return f.pcap()
}

const imageID = "2b1e5ca0-6a1c-4e2c-9bb9-7c4d0f1e3a55"

// buildRSTMidBody: a download reset by the server 6000 bytes into a
// 1 MiB body, then an image list on another connection.
func buildRSTMidBody(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:44604", "198.18.0.11:9292")
	c.handshake()
	c.sendString(false, "GET /v2/images/"+imageID+"/file HTTP/1.1\r\nHost: 198.18.0.11:9292\r\nAccept: */*\r\nX-Auth-Token: gAAAAABhostiletoken\r\n\r\n")
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n")
	c.send(true, bytes.Repeat([]byte{0xa5}, 6000))
	c.seg(true, flags{rst: true, ack: true}, nil)
	d := newConn(f, "198.18.0.100:44606", "198.18.0.11:9292")
	d.handshake()
	d.sendString(false, "GET /v2/images HTTP/1.1\r\nHost: 198.18.0.11:9292\r\nX-Auth-Token: gAAAAABhostiletoken\r\n\r\n")
	d.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"images\": []}")
	d.close()
	return f.pcap()
}

// buildLyingContentLength: on one keep-alive connection a request and a
// response whose Content-Length is shorter than the body sent, then a
// good exchange; on another, a response whose Content-Length promises a
// megabyte the server never sends before closing.
func buildLyingContentLength(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:60510", keystone)
	c.handshake()
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}}`
	c.sendString(false, "POST /v3/auth/tokens HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"+body)
	c.sendString(true, "HTTP/1.1 401 UNAUTHORIZED\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{\"error\": {\"code\": 401}}")
	c.sendString(false, "GET /v3 HTTP/1.1\r\nHost: 198.18.0.11:5000\r\n\r\n")
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	c.close()
	d := newConn(f, "198.18.0.100:60512", keystone)
	d.handshake()
	d.sendString(false, "GET /v3 HTTP/1.1\r\nHost: 198.18.0.11:5000\r\n\r\n")
	d.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"version\": ")
	d.close()
	return f.pcap()
}

// buildChunkOverflow: a chunked response whose chunk size overflows 64
// bits, then another exchange on the same connection.
func buildChunkOverflow(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:44610", "198.18.0.11:9292")
	c.handshake()
	c.sendString(false, "GET /v2/images HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n\r\n")
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"fffffffffffffffffffffffff\r\n{\"images\": []}\r\n0\r\n\r\n")
	c.sendString(false, "GET /v2/schemas/image HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n\r\n")
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	c.close()
	return f.pcap()
}

// buildHeaderTooLong: a request whose header block is 100 KiB, then a
// good exchange on the same connection.
func buildHeaderTooLong(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:60520", keystone)
	c.handshake()
	var b strings.Builder
	b.WriteString("GET /v3/auth/tokens HTTP/1.1\r\nHost: 198.18.0.11:5000\r\n")
	for b.Len() < 100<<10 {
		b.WriteString("X-Padding: " + strings.Repeat("a", 100) + "\r\n")
	}
	b.WriteString("\r\n")
	c.sendString(false, b.String())
	c.sendString(true, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n")
	c.sendString(false, "GET /v3 HTTP/1.1\r\nHost: 198.18.0.11:5000\r\n\r\n")
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	c.close()
	return f.pcap()
}

// buildMemcachedHuge: memcached commands and replies whose lengths claim
// gigabytes (text set, text VALUE, binary header), then a normal lookup.
func buildMemcachedHuge(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.11:41000", "198.18.0.11:11211")
	c.handshake()
	c.sendString(false, "get tokens/0123456789abcdef\r\n")
	c.sendString(true, "VALUE tokens/0123456789abcdef 0 3000000000\r\n"+strings.Repeat("v", 200))
	c.close()
	d := newConn(f, "198.18.0.11:41002", "198.18.0.11:11211")
	d.handshake()
	d.sendString(false, "set tokens/fedcba9876543210 0 300 4294967295\r\n"+strings.Repeat("s", 200))
	d.close()
	e := newConn(f, "198.18.0.11:41004", "198.18.0.11:11211")
	e.handshake()
	hdr := make([]byte, 24)
	hdr[0], hdr[1] = 0x80, 0x00 // binary GET request
	binary.BigEndian.PutUint16(hdr[2:], 6)
	binary.BigEndian.PutUint32(hdr[8:], 0xfffffff0)
	e.send(false, append(hdr, "tokens"...))
	e.close()
	g := newConn(f, "198.18.0.11:41006", "198.18.0.11:11211")
	g.handshake()
	g.sendString(false, "get tokens/aaaabbbbccccdddd\r\n")
	g.sendString(true, "END\r\n")
	g.close()
	return f.pcap()
}

// buildMySQLHuge replays the start of keystone's real MySQL connection
// (greeting, login, the first queries), then a result set whose column
// count claims 2^63 columns and a packet header claiming 16 MiB.
func buildMySQLHuge(t testing.TB) []byte {
	real := readCapture(t, "token-issue", "lo.pcap.gz")
	segs := payloads(real, 3306, 0, 14) // up to the answer to SELECT VERSION()
	f := newCapFile()
	c := newConn(f, "198.18.0.11:34186", "198.18.0.11:3306")
	c.handshake()
	c.replay(segs)
	q := "SELECT token.id FROM token"
	c.send(false, append([]byte{byte(len(q) + 1), 0, 0, 0, 3}, q...))
	c.send(true, []byte{9, 0, 0, 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	c.send(true, append([]byte{0xff, 0xff, 0xff, 2}, bytes.Repeat([]byte{0x5a}, 100)...))
	c.close()
	return f.pcap()
}

// hostileFile returns the path of a corpus file, rewriting it first with
// -update-hostile.
func hostileFile(t *testing.T, hc hostileCase) string {
	t.Helper()
	path := filepath.Join(hostileDir, hc.file)
	if *updateHostile && hc.build != nil {
		if err := os.MkdirAll(hostileDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, hc.build(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestHostileCorpus runs analyze on every hostile input and checks the
// exit code, the warnings and errors, and what survives of the flow.
func TestHostileCorpus(t *testing.T) {
	for _, hc := range hostileCases() {
		name := hc.file
		if hc.name != "" {
			name = hc.name
		}
		t.Run(name, func(t *testing.T) {
			path := hostileFile(t, hc)
			checkHostile(t, hc, path)
		})
	}
}

// TestHostileCorpusUpToDate checks that the committed corpus is what the
// builders write.
func TestHostileCorpusUpToDate(t *testing.T) {
	for _, hc := range hostileCases() {
		if hc.build == nil {
			continue
		}
		got, err := os.ReadFile(filepath.Join(hostileDir, hc.file))
		if err != nil {
			t.Fatal(err)
		}
		want := hc.build(t)
		if strings.HasSuffix(hc.file, ".gz") {
			// Compressors change between Go versions: compare what they
			// compressed, as far as both go (a file may be cut).
			got, want = gunzipPrefix(got), gunzipPrefix(want)
			n := min(len(got), len(want))
			if n == 0 {
				t.Errorf("%s: nothing to decompress", hc.file)
			}
			got, want = got[:n], want[:n]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what its builder writes: go test ./cmd/authflow -run TestHostile -update-hostile", hc.file)
		}
	}
}

// gunzipPrefix returns what can be decompressed of b.
func gunzipPrefix(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(zr)
	return out
}

// checkHostile runs analyze -f json on path and checks hc's expectations.
func checkHostile(t *testing.T, hc hostileCase, paths ...string) *sequence.Flow {
	t.Helper()
	args := append([]string{"analyze", "-f", "json"}, hc.args...)
	out, stderr, code := runCLI(t, append(args, paths...)...)
	t.Logf("exit %d, stderr:\n%s", code, stderr)
	if code != hc.exit {
		t.Errorf("exit code %d, want %d", code, hc.exit)
	}
	for _, s := range hc.stderr {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not contain %q", s)
		}
	}
	// Warnings are "authflow: …" lines; runCLI appends the error that ends
	// the run without the prefix main adds.
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitOK && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		if line != "" && !strings.HasPrefix(line, "authflow: ") {
			t.Errorf("stderr line without the authflow: prefix: %q", line)
		}
	}
	if code == exitFailure || code == exitUsage {
		if out != "" {
			t.Errorf("output on failure: %.200q", out)
		}
		return nil
	}
	var flow sequence.Flow
	if err := json.Unmarshal([]byte(out), &flow); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for i, w := range flow.Warnings {
		if i < 10 {
			t.Logf("warning: %s", w)
		}
		if strings.Contains(w, "decoder failed") || strings.Contains(w, "panic") {
			t.Errorf("a decoder panicked: %s", w)
		}
	}
	var labels []string
	for _, m := range flow.Messages {
		labels = append(labels, m.Label)
	}
	t.Logf("%d messages:\n%s", len(labels), strings.Join(labels[:min(len(labels), 40)], "\n"))
	for _, w := range hc.warnings {
		if !containsAny(flow.Warnings, w) {
			t.Errorf("no warning contains %q", w)
		}
	}
	for _, l := range hc.labels {
		if !containsAny(labels, l) {
			t.Errorf("no message label contains %q", l)
		}
	}
	for _, l := range hc.noLabels {
		if containsAny(labels, l) {
			t.Errorf("a message label contains %q", l)
		}
	}
	return &flow
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestHostileHalfOpen: 100 000 connections that never finish (6 000 with
// -short, with a lower limit). The connections beyond --max-connections
// are closed early with a warning, and the complete exchanges among them
// are all in the flow. BenchmarkMemory measures the memory this takes.
func TestHostileHalfOpen(t *testing.T) {
	n, limit := 100000, 16384
	if testing.Short() {
		n, limit = 6000, 500
	}
	path := filepath.Join(t.TempDir(), "half-open.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	complete, err := halfOpen(w, n)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	hc := hostileCase{
		args:     []string{"--max-connections", fmt.Sprint(limit)},
		exit:     exitOK,
		warnings: []string{fmt.Sprintf("closed early to stay within --max-connections=%d", limit)},
	}
	flow := checkHostile(t, hc, path)
	// Each complete validation is answered; the requests cut short are not.
	got := 0
	for _, m := range flow.Messages {
		if m.Status == 200 {
			got++
		}
	}
	if got != complete {
		t.Errorf("%d validations answered in the flow, want %d", got, complete)
	}
	// Connections closed early are stopped, not ended: only those still
	// open at the end of the capture are cut off by it.
	cut := 0
	for _, w := range flow.Warnings {
		if strings.Contains(w, "cut off by the end of the capture") {
			cut++
		}
	}
	if cut == 0 || cut > limit {
		t.Errorf("%d requests cut off by the end of the capture, want 1 to %d", cut, limit)
	}
}
