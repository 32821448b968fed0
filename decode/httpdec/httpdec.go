// Package httpdec decodes HTTP/1.x on a reassembled TCP connection with
// net/http's own readers: requests and responses (keep-alive, pipelining,
// Content-Length, chunked and close-delimited bodies, HEAD, 1xx, 204, 304).
// Bodies are streamed: only a bounded prefix is kept, the rest is counted.
package httpdec

import (
	"bufio"
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

// maxLine bounds a line looked at while resynchronising: a start line
// may be as long as a header block.
const maxLine = maxHeaderBytes

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
	// Meaning, if set, is what decode/openstack made of the message when
	// it was decoded (a *openstack.Call on a request, a *openstack.Result
	// on a response). Header and Body then keep only what the flow still
	// reads from them (see decode.Options.Interpret).
	Meaning any
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

// framer finds the header blocks of one direction of a connection: it
// skips blank lines between messages, resynchronises on the next start
// line after bytes it cannot frame, and emits what was captured of a
// message whose header is cut short.
type framer struct {
	h       *handler
	r       *stream.Reader
	noun    string                       // "request" or "response", for warnings
	isStart func([]byte) bool            // a request line or a status line
	partial func(event.Position, []byte) // emits a message whose header is cut short
	sniff   bool                         // give up on a connection whose first message is not HTTP
	resync  bool                         // look for the next start line before decoding
	first   bool                         // no message seen yet
}

// nextHead returns the position and the header block of the next message,
// left unread in the reader; ok is false when this direction is done.
func (f *framer) nextHead() (pos event.Position, head []byte, ok bool) {
	h, r := f.h, f.r
	for !h.notHTTP {
		if f.resync {
			pos, cut, err := h.sync(r, f.isStart)
			switch {
			case err == nil:
				f.resync = false
			case errors.Is(err, errNotHTTP):
				if f.sniff {
					h.notHTTP = true
				}
				return pos, nil, false
			case errors.Is(err, errCut):
				f.first = false
				f.partial(pos, cut)
				continue
			default:
				if cut != nil && errors.Is(err, io.EOF) {
					h.ctx.Warn(pos, "HTTP %s header cut off by the end of the capture", f.noun)
					f.partial(pos, cut)
				}
				return pos, nil, false
			}
		}
		if err := skipBlankLines(r); err != nil {
			if stream.IsGap(err) {
				f.resync = true
				continue
			}
			return pos, nil, false
		}
		pos, err := r.Begin()
		if err != nil {
			if stream.IsGap(err) {
				f.resync = true
				continue
			}
			return pos, nil, false
		}
		head, err := r.PeekMatch(headerEnd, maxHeaderBytes)
		isStart := f.isStart(head)
		if err == nil && isStart {
			f.first = false
			return pos, head, true
		}
		if h.notHTTP {
			return pos, nil, false
		}
		switch {
		case f.first && f.sniff && !isStart && (err == nil || errors.Is(err, stream.ErrTooLong) || stream.IsGap(err)):
			h.notHTTP = true
			return pos, nil, false
		case err == nil:
			h.ctx.Warn(pos, "not an HTTP %s: %q", f.noun, quotedLine(head))
		case errors.Is(err, stream.ErrTooLong):
			h.ctx.Warn(pos, "HTTP %s header longer than %d bytes", f.noun, maxHeaderBytes)
			// Look for the next message after this one's first line.
			r.Discard(lineLen(head))
		case stream.IsGap(err):
			// The header is cut short by bytes missing from the capture
			// (a snap length, a lost segment): what was captured of it
			// is the message; what comes after the gap is not its rest.
			if isStart {
				f.first = false
				f.partial(pos, head)
			}
			r.Discard(len(head))
		default:
			if isStart && errors.Is(err, io.EOF) {
				h.ctx.Warn(pos, "HTTP %s header cut off by the end of the capture", f.noun)
				f.partial(pos, head)
			}
			return pos, nil, false
		}
		f.resync = true
	}
	return pos, nil, false
}

// Client decodes the requests.
func (h *handler) Client(r *stream.Reader) {
	f := &framer{h: h, r: r, noun: "request", isStart: isRequestLine, partial: h.partialRequest,
		sniff: h.opts.Sniff, resync: h.ctx.Conn.Midstream, first: true}
	for {
		pos, _, ok := f.nextHead()
		if !ok {
			return
		}
		req, err := http.ReadRequest(r.Reader)
		if err != nil {
			h.ctx.Warn(pos, "bad HTTP request: %v", err)
			f.resync = true
			continue
		}
		ev, m := h.request(req, pos)
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
			f.resync = true
		}
	}
}

// Server decodes the responses.
func (h *handler) Server(r *stream.Reader) {
	f := &framer{h: h, r: r, noun: "response", isStart: isStatusLine, partial: h.partialResponse,
		resync: h.ctx.Conn.Midstream}
	for {
		pos, _, ok := f.nextHead()
		if !ok {
			return
		}
		reqEv, method := h.nextRequest()
		resp, err := http.ReadResponse(r.Reader, &http.Request{Method: method})
		if err != nil {
			h.ctx.Warn(pos, "bad HTTP response: %v", err)
			f.resync = true
			continue
		}
		m := h.response(resp, reqEv)
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
			f.resync = true
		}
	}
}

// addPending queues a request for the response that answers it.
func (h *handler) addPending(ev *event.Event) {
	h.pending = append(h.pending, ev)
	if len(h.pending) > 1024 { // a server that never answers
		h.pending = h.pending[1:]
	}
}

// nextRequest returns the oldest request awaiting a response, if any, and
// its method (GET if none).
func (h *handler) nextRequest() (*event.Event, string) {
	if len(h.pending) == 0 {
		return nil, http.MethodGet
	}
	return h.pending[0], h.pending[0].Data.(*Request).Method
}

// request makes the Request event of req, starting at pos, numbered next
// on this connection, and adds it to the requests awaiting a response.
func (h *handler) request(req *http.Request, pos event.Position) (*event.Event, *Request) {
	h.seq++
	m := &Request{
		Message: Message{Proto: req.Proto, Header: req.Header},
		Method:  req.Method,
		Target:  req.RequestURI,
		Seq:     h.seq,
	}
	ev := &event.Event{Kind: event.HTTPRequest, Start: pos, Data: m}
	h.addPending(ev)
	return ev, m
}

// response makes the Response of resp, answering reqEv, and takes reqEv
// off the requests awaiting a response unless resp is informational.
func (h *handler) response(resp *http.Response, reqEv *event.Event) *Response {
	m := &Response{
		Message: Message{Proto: resp.Proto, Header: resp.Header},
		Status:  resp.StatusCode,
		Reason:  reason(resp.Status),
		Request: reqEv,
	}
	informational := resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols
	if !informational && reqEv != nil {
		h.pending = h.pending[1:]
	}
	return m
}

// partialRequest emits the request whose header block head was cut short
// by the capture: its request line and the header lines complete in head.
func (h *handler) partialRequest(pos event.Position, head []byte) {
	var req *http.Request
	for _, block := range partialBlocks(head) {
		var err error
		if req, err = http.ReadRequest(bufio.NewReader(bytes.NewReader(block))); err == nil {
			break
		}
	}
	if req == nil {
		return
	}
	ev, _ := h.request(req, pos)
	h.ctx.Emit(ev)
}

// partialResponse emits the response whose header block head was cut
// short by the capture.
func (h *handler) partialResponse(pos event.Position, head []byte) {
	reqEv, method := h.nextRequest()
	var resp *http.Response
	for _, block := range partialBlocks(head) {
		var err error
		if resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(block)), &http.Request{Method: method}); err == nil {
			break
		}
	}
	if resp == nil {
		return
	}
	h.ctx.Emit(&event.Event{Kind: event.HTTPResponse, Start: pos, FromServer: true, Data: h.response(resp, reqEv)})
}

// partialBlocks returns header blocks to try parsing for a header cut
// short: its complete lines, then its first line alone.
func partialBlocks(head []byte) [][]byte {
	first := append(bytes.Clone(firstLine(head)), "\r\n\r\n"...)
	i := bytes.LastIndexByte(head, '\n')
	if i < 0 {
		return [][]byte{first}
	}
	return [][]byte{append(bytes.Clone(head[:i+1]), "\r\n"...), first}
}

// lineLen is the length of the first line of b, with its newline.
func lineLen(b []byte) int {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return i + 1
	}
	return len(b)
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
			// The gap runs past the end of the body: the rest of the body
			// is in it, and the next message starts somewhere in it.
			if !untilClose {
				m.Lost += n - m.BodyLen
				m.BodyLen = n
			}
			return errResync
		}
		m.BodyLen += int64(g.Bytes)
		m.Lost += int64(g.Bytes)
		err = nil
	}
	if err == nil && m.BodyLen < n {
		want := n - m.BodyLen
		skipped, lost, serr := r.Skip(want)
		var g *stream.GapError
		if errors.As(serr, &g) {
			// The gap that stopped Skip runs past the end of the body: of
			// its bytes, only the rest of the body counts.
			lost -= max(int64(g.Bytes), 0)
			if !untilClose {
				lost += want - skipped
				skipped = want
			}
		}
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
				// What is buffered came before the gap: drop it.
				r.Discard(r.Buffered())
				return errResync
			}
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return io.EOF
			}
			if errors.Is(err, stream.ErrStopped) {
				return err
			}
			// A malformed chunk header: look for the next message.
			h.ctx.Warn(r.Pos(), "bad chunked HTTP body: %v", err)
			return errResync
		}
	}
}

// errCut is returned by sync for a line that starts a message but is cut
// short by bytes missing from the capture.
var errCut = errors.New("message start cut short")

// sync skips to the next line that starts a message, as isStart tells.
// When sniffing, it gives up with errNotHTTP if the stream's first bytes
// are not HTTP. A start line cut short by a gap (errCut) or by the end of
// the stream (io.EOF) is returned with its position: what was captured
// of a message.
func (h *handler) sync(r *stream.Reader, isStart func([]byte) bool) (event.Position, []byte, error) {
	var scanned int64
	for {
		line, err := r.PeekUntil([]byte("\n"), maxLine)
		if err == nil || errors.Is(err, stream.ErrTooLong) {
			if err == nil && isStart(line) {
				return event.Position{}, nil, nil
			}
			if _, derr := r.Discard(len(line)); derr != nil {
				return event.Position{}, nil, derr
			}
			scanned += int64(len(line))
			if h.opts.Sniff && scanned > 1<<20 {
				return event.Position{}, nil, errNotHTTP
			}
			continue
		}
		var pos event.Position
		if len(line) > 0 {
			pos = r.Pos()
		}
		if stream.IsGap(err) {
			// The bytes buffered are those before the gap: a line cut short.
			cut := bytes.Clone(line)
			r.Discard(r.Buffered())
			if isStart(cut) {
				return pos, cut, errCut
			}
			continue
		}
		if !isStart(line) {
			line = nil
		}
		return pos, line, err
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

// isStatusLine reports whether b starts with HTTP/1.x SP 3DIGIT, a status
// code from 100 on.
func isStatusLine(b []byte) bool {
	if len(b) < 12 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' || b[9] == '0' {
		return false
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) == 12 || b[12] == ' ' || b[12] == '\r' || b[12] == '\n'
}

// firstLine is the first line of b, without its line end.
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r"))
}

// quotedLine is the first line of b cut to 80 bytes, for a warning.
func quotedLine(b []byte) []byte {
	b = firstLine(b)
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
