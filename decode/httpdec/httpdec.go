// Package httpdec decodes HTTP/1.x on a reassembled TCP connection with
// net/http's own readers: requests and responses (keep-alive, pipelining,
// Content-Length, chunked and close-delimited bodies, HEAD, 1xx, 204, 304).
// Bodies are streamed: only a bounded prefix is kept, the rest is counted.
package httpdec

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// DefaultBodyLimit is how much of each body is kept by default: enough for
// a JSON auth request or a token response with a large catalog.
const DefaultBodyLimit = 64 << 10

// maxHeaderBytes bounds a request or response header block.
const maxHeaderBytes = stream.BufferSize

// maxLine bounds a line looked at while resynchronising.
const maxLine = 8 << 10

// Message is what requests and responses have in common.
type Message struct {
	Proto  string
	Header http.Header
	// Body is the first bytes of the body, at most the body limit.
	Body []byte
	// BodyLen is the number of body bytes the message had, counting
	// bytes missing from the capture.
	BodyLen int64
	// Lost is the number of body bytes missing from the capture.
	Lost int64
	// Complete is false when the capture ended, or lost bytes, before the
	// message's end.
	Complete bool
}

// Request is an HTTP request.
type Request struct {
	Message
	Method string
	// Target is the request target as sent (path and query).
	Target string
	// Seq numbers the requests of a connection from 1.
	Seq int
}

// Response is an HTTP response.
type Response struct {
	Message
	Status int
	// Reason is the reason phrase as sent (e.g. "CREATED").
	Reason string
	// Request is the request event this response answers, or nil when the
	// request is not in the capture.
	Request *event.Event
}

// Options configure the decoder.
type Options struct {
	// BodyLimit is how many bytes of each body are kept (0: the default).
	BodyLimit int
	// Sniff makes the decoder give up on a connection whose first bytes
	// are not HTTP, for connections on ports not known to carry HTTP.
	Sniff bool
}

type handler struct {
	ctx     *stream.Context
	opts    Options
	pending []*event.Event // requests awaiting a response, oldest first
	seq     int
	notHTTP bool
}

// New returns a Handler that decodes one HTTP connection.
func New(ctx *stream.Context, opts Options) stream.Handler {
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	return &handler{ctx: ctx, opts: opts}
}

var errNotHTTP = errors.New("not HTTP")

// Client decodes the requests.
func (h *handler) Client(r *stream.Reader) {
	resync := h.ctx.Conn.Midstream
	first := true
	for !h.notHTTP {
		if resync {
			if err := h.sync(r, isRequestLine, first); err != nil {
				if errors.Is(err, errNotHTTP) {
					h.notHTTP = true
				}
				return
			}
			resync = false
		}
		if err := skipBlankLines(r); err != nil {
			if stream.IsGap(err) {
				resync = true
				continue
			}
			return
		}
		pos, err := r.Begin()
		if err != nil {
			if stream.IsGap(err) {
				resync = true
				continue
			}
			return
		}
		head, err := r.PeekMatch(headerEnd, maxHeaderBytes)
		if err != nil || !isRequestLine(head) {
			if err == nil || errors.Is(err, stream.ErrTooLong) || stream.IsGap(err) {
				if first && h.opts.Sniff && !isRequestLine(head) {
					h.notHTTP = true
					return
				}
				if errors.Is(err, stream.ErrTooLong) {
					h.ctx.Warn(pos, "HTTP request header longer than %d bytes", maxHeaderBytes)
				} else if err == nil {
					h.ctx.Warn(pos, "not an HTTP request: %q", firstLine(head))
				}
				resync = true
				continue
			}
			if len(head) > 0 && isRequestLine(head) {
				h.ctx.Warn(pos, "HTTP request header cut off by the end of the capture")
			}
			return
		}
		first = false
		req, err := http.ReadRequest(r.Reader)
		if err != nil {
			h.ctx.Warn(pos, "bad HTTP request: %v", err)
			resync = true
			continue
		}
		h.seq++
		m := &Request{
			Message: Message{Proto: req.Proto, Header: req.Header},
			Method:  req.Method,
			Target:  req.RequestURI,
			Seq:     h.seq,
		}
		ev := &event.Event{Kind: event.HTTPRequest, Start: pos, Data: m}
		h.pending = append(h.pending, ev)
		if len(h.pending) > 1024 { // a server that never answers
			h.pending = h.pending[1:]
		}
		var bodyErr error
		switch {
		case isChunked(req.TransferEncoding):
			bodyErr = h.readStreamBody(r, req.Body, &m.Message)
		case req.ContentLength > 0:
			bodyErr = h.readLengthBody(r, req.ContentLength, &m.Message)
		default:
			m.Complete = true
		}
		ev.End = r.LastPos().Time
		h.ctx.Emit(ev)
		if bodyErr != nil {
			if !stream.IsGap(bodyErr) && !errors.Is(bodyErr, errResync) {
				return
			}
			resync = true
		}
	}
}

// Server decodes the responses.
func (h *handler) Server(r *stream.Reader) {
	resync := h.ctx.Conn.Midstream
	for !h.notHTTP {
		if resync {
			if err := h.sync(r, isStatusLine, false); err != nil {
				return
			}
			resync = false
		}
		if err := skipBlankLines(r); err != nil {
			if stream.IsGap(err) {
				resync = true
				continue
			}
			return
		}
		pos, err := r.Begin()
		if err != nil {
			if stream.IsGap(err) {
				resync = true
				continue
			}
			return
		}
		head, err := r.PeekMatch(headerEnd, maxHeaderBytes)
		if err != nil || !isStatusLine(head) {
			if h.notHTTP {
				return
			}
			if err == nil || errors.Is(err, stream.ErrTooLong) || stream.IsGap(err) {
				if errors.Is(err, stream.ErrTooLong) {
					h.ctx.Warn(pos, "HTTP response header longer than %d bytes", maxHeaderBytes)
				} else if err == nil {
					h.ctx.Warn(pos, "not an HTTP response: %q", firstLine(head))
				}
				resync = true
				continue
			}
			if len(head) > 0 && isStatusLine(head) {
				h.ctx.Warn(pos, "HTTP response header cut off by the end of the capture")
			}
			return
		}
		var reqEv *event.Event
		method := http.MethodGet
		if len(h.pending) > 0 {
			reqEv = h.pending[0]
			method = reqEv.Data.(*Request).Method
		}
		resp, err := http.ReadResponse(r.Reader, &http.Request{Method: method})
		if err != nil {
			h.ctx.Warn(pos, "bad HTTP response: %v", err)
			resync = true
			continue
		}
		m := &Response{
			Message: Message{Proto: resp.Proto, Header: resp.Header},
			Status:  resp.StatusCode,
			Reason:  reason(resp.Status),
		}
		informational := resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols
		if !informational && reqEv != nil {
			h.pending = h.pending[1:]
		}
		m.Request = reqEv
		ev := &event.Event{Kind: event.HTTPResponse, Start: pos, FromServer: true, Data: m}
		var bodyErr error
		switch {
		case !bodyAllowed(method, resp.StatusCode):
			m.Complete = true
		case isChunked(resp.TransferEncoding):
			bodyErr = h.readStreamBody(r, resp.Body, &m.Message)
		case resp.ContentLength >= 0:
			bodyErr = h.readLengthBody(r, resp.ContentLength, &m.Message)
		default:
			// Delimited by the end of the connection (keystone under uwsgi).
			bodyErr = h.readLengthBody(r, -1, &m.Message)
		}
		ev.End = r.LastPos().Time
		if ev.End.Before(pos.Time) {
			ev.End = pos.Time
		}
		h.ctx.Emit(ev)
		if resp.StatusCode == http.StatusSwitchingProtocols || (method == http.MethodConnect && resp.StatusCode/100 == 2) {
			h.notHTTP = true // a tunnel or another protocol follows
			return
		}
		if bodyErr != nil {
			if !stream.IsGap(bodyErr) && !errors.Is(bodyErr, errResync) {
				return
			}
			resync = true
		}
	}
}

var errResync = errors.New("lost track of message boundaries")

// readLengthBody consumes a body of n bytes (n < 0: until the end of the
// stream), keeping a prefix. Bytes missing from the capture inside the body
// are counted; a gap that runs past its end returns errResync.
func (h *handler) readLengthBody(r *stream.Reader, n int64, m *Message) error {
	untilClose := n < 0
	if untilClose {
		n = 1<<63 - 1
	}
	keep := min(int64(h.opts.BodyLimit), n)
	var err error
	if keep > 0 {
		buf := make([]byte, 0, min(keep, 4096))
		for int64(len(buf)) < keep {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			want := min(int64(cap(buf)), keep)
			k, rerr := r.Read(buf[len(buf):want])
			buf = buf[:len(buf)+k]
			if rerr != nil {
				err = rerr
				break
			}
		}
		m.Body = buf
		m.BodyLen = int64(len(buf))
	}
	for err != nil && stream.IsGap(err) {
		// A gap inside the kept prefix: the rest is still counted.
		var g *stream.GapError
		errors.As(err, &g)
		if g.Bytes < 0 || int64(g.Bytes) > n-m.BodyLen {
			m.Lost += max(int64(g.Bytes), 0)
			return errResync
		}
		m.BodyLen += int64(g.Bytes)
		m.Lost += int64(g.Bytes)
		err = nil
	}
	if err == nil && m.BodyLen < n {
		skipped, lost, serr := r.Skip(n - m.BodyLen)
		m.BodyLen += skipped
		m.Lost += lost
		err = serr
	}
	switch {
	case err == nil:
		m.Complete = m.Lost == 0
		return nil
	case untilClose && errors.Is(err, io.EOF):
		m.Complete = m.Lost == 0
		return err
	case stream.IsGap(err):
		return errResync
	default:
		return err
	}
}

// readStreamBody consumes a body through net/http's reader (chunked
// encoding), keeping a prefix.
func (h *handler) readStreamBody(r *stream.Reader, body io.Reader, m *Message) error {
	var prefix bytes.Buffer
	buf := make([]byte, 8192)
	for {
		k, err := body.Read(buf)
		if k > 0 {
			if room := h.opts.BodyLimit - prefix.Len(); room > 0 {
				prefix.Write(buf[:min(k, room)])
			}
			m.BodyLen += int64(k)
		}
		if err == io.EOF {
			m.Complete = true
			m.Body = prefix.Bytes()
			return nil
		}
		if err != nil {
			m.Body = prefix.Bytes()
			if stream.IsGap(err) {
				return errResync
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return io.EOF
			}
			// A malformed chunk header: look for the next message.
			return errResync
		}
	}
}

// sync skips to the next line that starts a message, as isStart tells.
// When sniffing, it gives up with errNotHTTP if the stream's first bytes
// are not HTTP.
func (h *handler) sync(r *stream.Reader, isStart func([]byte) bool, first bool) error {
	var scanned int64
	for {
		line, err := r.PeekUntil([]byte("\n"), maxLine)
		if err == nil || errors.Is(err, stream.ErrTooLong) {
			if err == nil && isStart(line) {
				return nil
			}
			if _, derr := r.Discard(len(line)); derr != nil {
				return derr
			}
			scanned += int64(len(line))
			if h.opts.Sniff && scanned > 1<<20 {
				return errNotHTTP
			}
			continue
		}
		if stream.IsGap(err) {
			continue
		}
		return err
	}
}

// skipBlankLines drops CRLFs between messages (RFC 9112 §2.2).
func skipBlankLines(r *stream.Reader) error {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return err
		}
		if b[0] != '\r' && b[0] != '\n' {
			return nil
		}
		r.Discard(1)
	}
}

// headerEnd finds the end of a header block: the first empty line.
func headerEnd(b []byte, scanned int) int {
	from := max(0, scanned-3)
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// isRequestLine reports whether b starts with METHOD SP target SP HTTP/1.x.
func isRequestLine(b []byte) bool {
	line := firstLine(b)
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || sp > 20 {
		return false
	}
	for _, c := range line[:sp] {
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	rest := line[sp+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 <= 0 {
		return false
	}
	return bytes.HasPrefix(rest[sp2+1:], []byte("HTTP/1."))
}

// isStatusLine reports whether b starts with HTTP/1.x SP 3DIGIT.
func isStatusLine(b []byte) bool {
	if len(b) < 12 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' {
		return false
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) == 12 || b[12] == ' ' || b[12] == '\r' || b[12] == '\n'
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) > 80 {
		b = b[:80]
	}
	return b
}

func isChunked(te []string) bool {
	return len(te) > 0 && strings.EqualFold(te[len(te)-1], "chunked")
}

func bodyAllowed(method string, status int) bool {
	switch {
	case method == http.MethodHead:
		return false
	case status >= 100 && status < 200, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

// reason returns the reason phrase of a status line like "201 CREATED".
func reason(status string) string {
	if _, after, ok := strings.Cut(status, " "); ok {
		return after
	}
	return ""
}

// Duration is how long the exchange took, from the first byte of the
// request to the last byte of the response.
func Duration(req, resp *event.Event) time.Duration {
	if req == nil || resp == nil {
		return 0
	}
	return resp.End.Sub(req.Start.Time)
}
