package mysql

import (
	"bytes"
	"compress/zlib"
	"io"
	"unicode/utf8"

	"github.com/authflow/authflow/decode/stream"
)

// Resynchronisation. A direction that lost its packet boundaries (the
// capture starts mid-connection, bytes are missing) only tries to pick up
// again at a place where a message is bound to start, and only if what is
// there looks right. Those places do not depend on how the bytes were cut
// into segments:
//
//   - client: the start of the capture, the first byte after bytes missing
//     from the capture, and the first byte the client sent after the
//     server spoke (a client sends a command once it has the answer). The
//     candidate must be a command packet with sequence id 0, a known
//     command byte and a sane argument (SQL text for COM_QUERY), all sent
//     before the server spoke again.
//   - server: the first byte the server sent after a command the client
//     side decoded (the answer cannot start earlier), if it starts like an
//     answer to that command.
//
// Anything else is dropped unseen.

// fed is how many bytes of the direction the pipeline has handed over,
// gaps included. Called from the other direction's coroutine, while this
// one waits for data (and so has everything it was given buffered).
func (h *half) fed() int64 {
	if h.raw == nil {
		return 0
	}
	return h.raw.Offset() + int64(h.raw.Buffered())
}

// resyncClient looks for the next command. It returns false when the
// stream ends (or stops) first.
func (d *decoder) resyncClient() bool {
	h := &d.client
	r := h.raw
	for {
		if off := r.Offset(); h.anchor >= 0 && h.anchor >= off {
			if h.anchor > off {
				if _, _, err := r.Skip(h.anchor - off); err != nil {
					if !stream.IsGap(err) {
						return false
					}
					h.anchor = r.Offset()
				}
				continue
			}
			h.anchor = -1
			ok, err := d.validateClient()
			if ok {
				h.lost = false
				if h.comp != nil {
					h.comp.reset()
				}
				return true
			}
			if err != nil {
				if !stream.IsGap(err) {
					return false
				}
				r.Discard(r.Buffered()) // the bytes before the gap
				h.anchor = r.Offset()
			}
			continue
		}
		// No place to try ahead: drop what has arrived and wait for more.
		h.anchor = -1
		r.Discard(r.Buffered())
		before := d.server.fed()
		if _, err := r.Peek(1); err != nil {
			if !stream.IsGap(err) {
				return false
			}
			h.anchor = r.Offset()
		} else if d.server.fed() != before {
			h.anchor = r.Offset() // the first byte after the server spoke
		}
	}
}

// validateClient reports whether a command starts at the client's next
// byte. The bytes it looks at must have been sent before the server spoke
// again.
func (d *decoder) validateClient() (bool, error) {
	r := d.client.raw
	before := d.server.fed()
	peek := func(n int) ([]byte, bool, error) {
		b, err := r.Peek(n)
		if d.server.fed() != before {
			return nil, false, nil
		}
		return b, err == nil, err
	}
	_, knownCaps := d.caps()
	if !d.compress {
		b, ok, err := peek(5)
		if !ok {
			return false, err
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if !plausibleCommandHeader(b) {
			b = nil
		} else if b, ok, err = peek(4 + min(n, 513)); !ok {
			return false, err
		}
		if b != nil && plausibleCommand(b) {
			return true, nil
		}
	}
	if d.compress || !knownCaps {
		b, ok, err := peek(12)
		if !ok {
			return false, err
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if !plausibleFrameHeader(b) {
			return false, nil
		}
		if b, ok, err = peek(7 + min(n, 1024)); !ok {
			return false, err
		}
		if plausibleFrame(b, plausibleCommand) {
			d.compress = true
			return true, nil
		}
	}
	return false, nil
}

// resyncServer looks for the answer to the oldest pending command, at the
// offset where the server stream stood when it was sent. Bytes before
// are dropped, and so is a command whose answer does not look right. It
// returns false when it needs more data (or the stream ended).
func (d *decoder) resyncServer() bool {
	h := &d.server
	r := h.raw
	for {
		for len(d.pending) > 0 && d.pending[0].unknown {
			d.pop(d.pending[0])
		}
		if len(d.pending) == 0 {
			r.Discard(r.Buffered())
			return false
		}
		pc := d.pending[0]
		off := r.Offset()
		if off > pc.serverOff {
			d.pop(pc)
			continue
		}
		if off < pc.serverOff {
			if _, _, err := r.Skip(pc.serverOff - off); err != nil && !stream.IsGap(err) {
				return false
			}
			continue
		}
		ok, err := d.validateServer(pc)
		if ok {
			h.lost = false
			if h.comp != nil {
				h.comp.reset()
			}
			if d.phase < phaseCommand {
				d.phase = phaseCommand
			}
			return true
		}
		d.pop(pc)
		if err != nil && !stream.IsGap(err) {
			return false
		}
		if r.Buffered() > 0 {
			r.Discard(1) // so that commands sent with it are dropped too
		}
	}
}

// validateServer reports whether the server's next bytes start the answer
// to pc.
func (d *decoder) validateServer(pc *pending) (bool, error) {
	r := d.server.raw
	if d.compress {
		b, err := r.Peek(12)
		if err != nil {
			return false, err
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if b, err = r.Peek(7 + min(n, 1024)); err != nil {
			return false, err
		}
		return plausibleFrame(b, func(b []byte) bool { return d.plausibleReply(b, pc) }), nil
	}
	b, err := r.Peek(5)
	if err != nil {
		return false, err
	}
	if b[3] != pc.seq+1 {
		return false, nil
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	need := 4 + min(n, 1024)
	if n < 10 && returnsResultSet(pc.cmd) && b[4] != 0x00 && b[4] != 0xff && b[4] != 0xfe {
		need += 8 // the first column definition's start
	}
	if b, err = r.Peek(need); err != nil {
		return false, err
	}
	return d.plausibleReply(b, pc), nil
}

// header splits a packet header off b: the payload length, the sequence
// id and the payload bytes at hand.
func header(b []byte) (length int, seq byte, payload []byte, ok bool) {
	if len(b) < 5 {
		return 0, 0, nil, false
	}
	length = int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	payload = b[4:]
	if len(payload) > length {
		payload = payload[:length]
	}
	return length, b[3], payload, length > 0
}

// plausibleCommandHeader reports whether the first 5 bytes of b can start
// a command packet: sequence id 0 and a command byte whose argument
// length fits.
func plausibleCommandHeader(b []byte) bool {
	if len(b) < 5 || b[3] != 0 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 - 1 // argument length
	switch b[4] {
	case comQuery, comStmtPrepare:
		return n >= 1
	case comInitDB, comCreateDB, comDropDB:
		return n >= 1 && n <= 256
	case comPing, comQuit, comStatistics, comProcessInfo, comDebug, comResetConnection:
		return n == 0
	case comStmtClose, comStmtReset, comProcessKill:
		return n == 4
	case comStmtFetch:
		return n == 8
	case comSetOption:
		return n == 2
	case comStmtExecute:
		return n >= 9
	}
	return false
}

// plausibleFrameHeader reports whether the first 12 bytes of b can start
// a compressed frame holding a command: sequence id 0, stored (then the
// command's header follows) or zlib.
func plausibleFrameHeader(b []byte) bool {
	if len(b) < 12 || b[3] != 0 {
		return false
	}
	clen := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	ulen := int(b[4]) | int(b[5])<<8 | int(b[6])<<16
	if ulen == 0 {
		return clen >= 5 && plausibleCommandHeader(b[7:])
	}
	return clen >= 2 && ulen >= 5 && b[7]&0x0f == 8 && (int(b[7])<<8|int(b[8]))%31 == 0
}

// plausibleCommand reports whether b starts with a client command packet.
func plausibleCommand(b []byte) bool {
	length, seq, arg, ok := header(b)
	if !ok || seq != 0 {
		return false
	}
	cmd := arg[0]
	arg = arg[1:]
	n := length - 1 // argument length
	switch cmd {
	case comQuery, comStmtPrepare:
		if n < 1 {
			return false
		}
		if !plausibleSQL(arg) {
			return false
		}
	case comInitDB, comCreateDB, comDropDB:
		if n < 1 || n > 256 || !printable(arg) || bytes.ContainsAny(arg, " \t\r\n") {
			return false
		}
	case comPing, comQuit, comStatistics, comProcessInfo, comDebug, comResetConnection:
		if n != 0 {
			return false
		}
	case comStmtClose, comStmtReset, comProcessKill:
		if n != 4 {
			return false
		}
	case comStmtFetch:
		if n != 8 {
			return false
		}
	case comSetOption:
		if n != 2 || len(arg) == 2 && (arg[0] > 1 || arg[1] != 0) {
			return false
		}
	case comStmtExecute:
		// id, flags, iteration count (always 1).
		if n < 9 || len(arg) >= 9 && (arg[4] > 0x0f || arg[5] != 1 || arg[6] != 0 || arg[7] != 0 || arg[8] != 0) {
			return false
		}
	default:
		return false
	}
	return true
}

// plausibleSQL reports whether a statement's first bytes look like SQL
// text: a word, a parenthesis or a comment first, no control characters,
// valid UTF-8 (but for a character cut at the end).
func plausibleSQL(b []byte) bool {
	b = b[:min(len(b), 512)]
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return false
	}
	c := b[i]
	if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '(' || c == '/' || c == '-' || c == '#') {
		return false
	}
	if !printable(b) {
		return false
	}
	// Allow a UTF-8 sequence cut by the 512-byte window.
	for k := 0; k < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); k++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// printable reports whether b has no control characters but whitespace.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// plausibleReply reports whether b starts with the first packet of the
// answer to pc (the sequence id is checked by the caller).
func (d *decoder) plausibleReply(b []byte, pc *pending) bool {
	length, _, payload, ok := header(b)
	if !ok {
		return false
	}
	switch first := payload[0]; {
	case first == 0x00 && pc.cmd == comStmtPrepare:
		return length == 12 || length == 9
	case first == 0x00 && pc.cmd != comStmtFetch:
		if length < 7 || length > 1<<16 {
			return false
		}
		if len(payload) == length {
			_, ok := parseOK(payload, true, d.has(CapSessionTrack))
			return ok
		}
		return true
	case first == 0xff:
		if length < 3 || length > 1<<12 || len(payload) < 3 {
			return false
		}
		code := int(payload[1]) | int(payload[2])<<8
		return code >= 1000 && code < 10000 && (len(payload) < 4 || payload[3] == '#' || !d.protocol41())
	case first == 0xfe:
		return length == 5 && pc.cmd != comStmtFetch
	case returnsResultSet(pc.cmd):
		c := cursor{b: payload}
		n, null := c.lenenc()
		if c.bad || null || n == 0 || n > MaxColumns || length != lenencSize(first) && length != lenencSize(first)+1 {
			return false
		}
		// The first column definition, when it is here.
		if rest := b[min(len(b), 4+length):]; len(rest) >= 8 {
			return rest[3] == b[3]+1 && bytes.Equal(rest[4:8], []byte("\x03def"))
		}
		return true
	}
	return false
}

// plausibleFrame reports whether b starts with a compressed-protocol frame
// whose first packet passes check.
func plausibleFrame(b []byte, check func([]byte) bool) bool {
	if len(b) < 7+5 {
		return false
	}
	clen := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	ulen := int(b[4]) | int(b[5])<<8 | int(b[6])<<16
	body := b[7:min(len(b), 7+clen)]
	if ulen == 0 {
		return clen >= 5 && check(body)
	}
	if clen < 2 || ulen < 5 || body[0]&0x0f != 8 || (int(body[0])<<8|int(body[1]))%31 != 0 {
		return false
	}
	zr, err := zlib.NewReader(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var out [512]byte
	n, _ := io.ReadFull(zr, out[:min(ulen, len(out))])
	return n >= 5 && check(out[:n])
}
