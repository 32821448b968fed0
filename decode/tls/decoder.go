package tls

import (
	"encoding/hex"
	"fmt"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// NoKey is how a connection whose TLS authflow could not decrypt is
// named in warnings and drawn.
const NoKey = "TLS (no key)"

// Wrap returns a Handler for a connection that may carry TLS: when the
// client starts with a TLS handshake, the records are decrypted with the
// secrets of keys and the plaintext is handed to inner as if it were the
// connection's bytes; otherwise inner reads the connection itself. A TLS
// connection that cannot be decrypted (no secret for it, or a wrong one)
// gets one warning naming it, its frames and why.
func Wrap(ctx *stream.Context, inner stream.Handler, opts Options) stream.Handler {
	return &conn{ctx: ctx, inner: inner, keys: opts.Keys, noKey: opts.NoKey}
}

// Options say how TLS is decrypted.
type Options struct {
	// Keys are the secrets to decrypt with; nil for none.
	Keys *KeyLog
	// NoKey, if set, is called once for each TLS connection some of whose
	// records could not be decrypted (when its warning is emitted).
	NoKey func()
}

type mode int

const (
	undecided mode = iota
	plain
	encrypted
)

// conn is the state of one connection, shared by its two directions
// (which never run at once).
type conn struct {
	ctx   *stream.Context
	inner stream.Handler
	keys  *KeyLog
	noKey func()
	mode  mode
	pipe  *stream.Pipe

	clientRandom []byte
	version      uint16
	suite        *Suite
	client       dir
	server       dir
	// pending12 are the TLS 1.2 keys of each direction, in use from its
	// ChangeCipherSpec on.
	pending12 [2]*keys

	running int
	warned  bool
	// why a record could not be decrypted, the first and last frames of
	// such records, and how many.
	why       string
	first     event.Position
	last      event.FrameRef
	failed    int
	decrypted int
	// told is set once the connection's TLSDecrypted event is emitted.
	told bool
}

// dir is one direction's record state.
type dir struct {
	fromServer bool
	hs         []byte // handshake bytes not yet parsed
	protected  bool   // records are encrypted from here on
	keys       *keys
	// TLS 1.3: the application traffic secret, used after the Finished.
	appSecret []byte
	secret    []byte // the current application secret (for KeyUpdate)
	dead      bool   // the stream cannot be followed any more
}

func (c *conn) Client(r *stream.Reader) {
	if c.mode == undecided {
		b, err := r.Peek(3)
		if err == nil && c.mode == undecided && LooksLikeTLS(b) {
			c.mode = encrypted
			c.pipe = stream.NewPipe(c.ctx, c.inner)
		} else if c.mode == undecided {
			c.mode = plain
		}
	}
	if c.mode == plain {
		c.inner.Client(r)
		return
	}
	c.client.fromServer = false
	c.records(r, &c.client)
}

func (c *conn) Server(r *stream.Reader) {
	if c.mode == undecided {
		c.mode = plain // the server spoke first: not TLS
	}
	if c.mode == plain {
		c.inner.Server(r)
		return
	}
	c.server.fromServer = true
	c.records(r, &c.server)
}

// records reads one direction's records until it ends.
func (c *conn) records(r *stream.Reader, d *dir) {
	c.running++
	defer func() {
		c.pipe.End(d.fromServer)
		c.running--
		if c.running == 0 {
			c.warn()
		}
	}()
	for {
		pos, err := r.Begin()
		if err != nil {
			if stream.IsGap(err) {
				c.lost(r, d, pos, err)
				return
			}
			return
		}
		b, err := r.Peek(RecordHeaderLen)
		if err != nil {
			if stream.IsGap(err) {
				c.lost(r, d, pos, err)
			}
			return
		}
		hdr, err := ParseRecordHeader(b)
		if err != nil {
			c.ctx.Warn(pos, "frame %d: %v: the rest of this direction is not decoded", pos.Frame.Number, err)
			drain(r)
			return
		}
		rec, err := r.Peek(RecordHeaderLen + hdr.Length)
		if err != nil {
			if stream.IsGap(err) {
				c.lost(r, d, pos, err)
			}
			return
		}
		rec = append([]byte(nil), rec...)
		r.Discard(len(rec))
		if !d.dead {
			c.record(d, hdr, rec, pos)
		}
	}
}

// lost gives up a direction after bytes missing from the capture: the
// records after them cannot be found or decrypted reliably.
func (c *conn) lost(r *stream.Reader, d *dir, pos event.Position, err error) {
	c.ctx.Warn(pos, "%v inside TLS: the rest of this direction is not decrypted", err)
	c.pipe.Feed(d.fromServer, -1, nil, pos)
	drain(r)
}

// drain reads a direction to its end.
func drain(r *stream.Reader) {
	for {
		if _, _, err := r.Skip(1 << 30); err != nil && !stream.IsGap(err) {
			return
		}
	}
}

// record handles one whole record.
func (c *conn) record(d *dir, hdr RecordHeader, rec []byte, pos event.Position) {
	p := rec[RecordHeaderLen:]
	switch {
	case hdr.Type == TypeChangeCipherSpec:
		if c.version != VersionTLS13 {
			d.protected = true
			d.keys = c.pending12[dirIndex(d)]
		}
		return
	case !d.protected:
		if hdr.Type == TypeHandshake {
			c.handshake(d, p, pos)
		}
		return
	}
	// A protected record.
	if d.keys == nil {
		c.fail(pos, c.why)
		return
	}
	if c.version != VersionTLS13 {
		out, err := d.keys.open12(hdr, p)
		if err != nil {
			c.fail(pos, "the key log's secret for this session does not decrypt it")
			return
		}
		c.decrypted++
		if hdr.Type == TypeApplicationData {
			c.tell(pos)
			c.pipe.Feed(d.fromServer, 0, out, pos)
		}
		return
	}
	if hdr.Type != TypeApplicationData {
		return // e.g. a middlebox-compatibility ChangeCipherSpec
	}
	typ, out, err := d.keys.open13(rec[:RecordHeaderLen], p)
	if err != nil && d.appSecret != nil {
		// The handshake's end was not seen: try the application keys.
		if c.useApp(d, pos) {
			typ, out, err = d.keys.open13(rec[:RecordHeaderLen], p)
		}
	}
	if err != nil {
		c.fail(pos, "the key log's secret for this session does not decrypt it")
		return
	}
	c.decrypted++
	switch typ {
	case TypeApplicationData:
		c.tell(pos)
		c.pipe.Feed(d.fromServer, 0, out, pos)
	case TypeHandshake:
		c.handshake13(d, out, pos)
	}
}

// tell emits, once, that the connection is decrypted: its version and
// cipher suite, before the first plaintext is handed on.
func (c *conn) tell(pos event.Position) {
	if c.told {
		return
	}
	c.told = true
	c.ctx.Emit(&event.Event{Kind: event.TLSDecrypted, Start: pos, End: pos.Time, Conn: c.ctx.Conn,
		Data: Describe(c.version, c.suite)})
}

// Describe names a version and cipher suite, e.g. "TLS 1.3
// TLS_AES_256_GCM_SHA384".
func Describe(version uint16, s *Suite) string {
	v := fmt.Sprintf("TLS version %#04x", version)
	switch version {
	case VersionTLS12:
		v = "TLS 1.2"
	case VersionTLS13:
		v = "TLS 1.3"
	}
	if s == nil {
		return v
	}
	return v + " " + s.Name
}

func dirIndex(d *dir) int {
	if d.fromServer {
		return 1
	}
	return 0
}

// fail counts a record that could not be decrypted.
func (c *conn) fail(pos event.Position, why string) {
	if c.failed == 0 {
		c.first = pos
		if c.why == "" || why != "" {
			c.why = why
		}
	}
	c.last = pos.Frame
	c.failed++
}

// nextHandshake takes the next whole handshake message off the direction's
// buffer. ok is false when no whole message is there yet, or when the buffer
// cannot be parsed: then the direction is given up, with a warning.
func (c *conn) nextHandshake(d *dir, pos event.Position) (typ uint8, body []byte, ok bool) {
	typ, body, n, err := SplitHandshake(d.hs)
	if err != nil {
		c.ctx.Warn(pos, "frame %d: %v", pos.Frame.Number, err)
		d.hs, d.dead = nil, true
		return 0, nil, false
	}
	if n == 0 {
		return 0, nil, false
	}
	d.hs = d.hs[n:]
	return typ, body, true
}

// handshake parses the plaintext handshake messages of a direction.
func (c *conn) handshake(d *dir, p []byte, pos event.Position) {
	d.hs = append(d.hs, p...)
	for {
		typ, body, ok := c.nextHandshake(d, pos)
		if !ok {
			return
		}
		switch typ {
		case HandshakeClientHello:
			h, err := ParseClientHello(body)
			if err != nil {
				c.ctx.Warn(pos, "frame %d: %v", pos.Frame.Number, err)
				continue
			}
			if c.clientRandom == nil {
				// After a HelloRetryRequest the random stays the same.
				c.clientRandom = h.Random
			}
		case HandshakeServerHello:
			h, err := ParseServerHello(body)
			if err != nil {
				c.ctx.Warn(pos, "frame %d: %v", pos.Frame.Number, err)
				continue
			}
			if !h.Retry {
				c.serverHello(h)
				if c.version == VersionTLS13 {
					d.hs = nil
					return
				}
			}
		}
		if len(d.hs) == 0 {
			d.hs = nil
		}
	}
}

// serverHello sets up the keys of the session.
func (c *conn) serverHello(h Hello) {
	c.version = h.Version
	c.suite = SuiteByID(h.Suite)
	cr := hex.EncodeToString(c.clientRandom)
	switch {
	case c.suite == nil:
		c.why = fmt.Sprintf("cipher suite %#04x is not one authflow decrypts", h.Suite)
	case c.clientRandom == nil:
		c.why = "its ClientHello is not in the capture"
	case c.version == VersionTLS13:
		c.client.protected, c.server.protected = true, true
		chs := c.keys.Lookup(LabelClientHandshakeSecret, c.clientRandom)
		shs := c.keys.Lookup(LabelServerHandshakeSecret, c.clientRandom)
		c.client.appSecret = c.keys.Lookup(LabelClientTrafficSecret0, c.clientRandom)
		c.server.appSecret = c.keys.Lookup(LabelServerTrafficSecret0, c.clientRandom)
		if c.client.appSecret == nil || c.server.appSecret == nil {
			c.why = "no TLS 1.3 traffic secrets for client random " + cr + " in the key log"
			return
		}
		var err error
		if chs != nil && shs != nil {
			c.client.keys, err = keys13(c.suite, chs)
			if err == nil {
				c.server.keys, err = keys13(c.suite, shs)
			}
		} else {
			// Without the handshake secrets, start with the application
			// keys: the handshake records fail to decrypt and are skipped.
			c.useApp(&c.client, event.Position{})
			c.useApp(&c.server, event.Position{})
		}
		if err != nil {
			c.why = err.Error()
		}
	default:
		ms := c.keys.Lookup(LabelClientRandom, c.clientRandom)
		if ms == nil {
			c.why = "no CLIENT_RANDOM " + cr + " in the key log"
			return
		}
		ck, sk, err := keys12(c.suite, ms, c.clientRandom, h.Random)
		if err != nil {
			c.why = err.Error()
			return
		}
		c.pending12 = [2]*keys{ck, sk}
	}
}

// useApp switches a TLS 1.3 direction to its application keys.
func (c *conn) useApp(d *dir, pos event.Position) bool {
	if d.appSecret == nil {
		return false
	}
	k, err := keys13(c.suite, d.appSecret)
	if err != nil {
		return false
	}
	d.keys, d.secret, d.appSecret = k, d.appSecret, nil
	return true
}

// handshake13 handles the encrypted handshake messages of TLS 1.3: the
// Finished ends the handshake keys, a KeyUpdate moves to the next secret.
func (c *conn) handshake13(d *dir, p []byte, pos event.Position) {
	d.hs = append(d.hs, p...)
	for {
		typ, _, ok := c.nextHandshake(d, pos)
		if !ok {
			return
		}
		switch typ {
		case HandshakeFinished:
			c.useApp(d, pos)
		case HandshakeKeyUpdate:
			if d.secret != nil {
				next, err := nextSecret13(c.suite, d.secret)
				if err == nil {
					if k, err := keys13(c.suite, next); err == nil {
						d.keys, d.secret = k, next
					}
				}
			}
		}
		if len(d.hs) == 0 {
			d.hs = nil
		}
	}
}

// warn says once what of the connection could not be decrypted.
func (c *conn) warn() {
	if c.warned || c.failed == 0 {
		return
	}
	c.warned = true
	if c.noKey != nil {
		c.noKey()
	}
	why := c.why
	if why == "" {
		why = "no key for it in the key log"
	}
	frames := fmt.Sprintf("frame %d", c.first.Frame.Number)
	if c.last != c.first.Frame {
		frames = fmt.Sprintf("frames %d-%d", c.first.Frame.Number, c.last.Number)
	}
	text := fmt.Sprintf("%s: %s: %d records not decrypted (%s): %s", c.ctx.Conn, NoKey, c.failed, frames, why)
	c.ctx.Emit(&event.Event{Kind: event.Warning, Start: c.first, Conn: c.ctx.Conn, Data: text})
	c.ctx.Emit(&event.Event{Kind: event.TLSNoKey, Start: c.first, Conn: c.ctx.Conn, Data: text})
}
