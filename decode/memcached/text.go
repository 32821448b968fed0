package memcached

import (
	"bytes"
	"errors"
	"math"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// maxText bounds the text kept from a reply line (error messages,
// versions, meta flags).
const maxText = 256

// tokens splits a line on spaces, as memcached does (runs of spaces
// count as one: python-memcached ends its set lines with a space). The
// result is reused by the next call.
func (h *half) tokens(line []byte) [][]byte {
	t := h.toks[:0]
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j > i {
			t = append(t, line[i:j])
		}
		i = j
	}
	h.toks = t
	return t
}

// retrieval tells whether the buffered bytes start a get/gets/gat/gats
// line, whose key lists may be longer than MaxLine.
func (h *half) retrieval() bool {
	b, _ := h.r.Peek(5)
	for _, p := range []string{"get ", "gets ", "gat ", "gats "} {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// command decodes one client message at pos.
func (h *half) command(pos event.Position) error {
	if b, _ := h.r.Peek(1); len(b) == 1 && b[0] == magicRequest {
		return h.binaryRequest(pos)
	}
	line, err := h.peekLine(MaxLine)
	var pe *protoError
	if errors.As(err, &pe) && h.retrieval() {
		line, err = h.peekLine(stream.BufferSize)
	}
	if err != nil {
		return err
	}
	c, data, err := h.parseCommand(trimEOL(line))
	if c == nil {
		if err != nil {
			return err
		}
		if !printable(trimEOL(line)) {
			return protoErrorf("not a memcached command")
		}
		// memcached answers ERROR to a command it does not know.
		c = &Command{Op: "unknown", Error: "unknown command"}
	}
	h.r.Discard(len(line))
	h.d.next(c)
	if !c.NoReply && c.Op != "quit" {
		h.d.expect(&pending{cmd: c, quiet: c.Quiet, opaque: c.Opaque})
	}
	if err != nil {
		// The command line is readable but where its data block ends
		// is not.
		h.emitCommand(c, pos)
		return err
	}
	if data >= 0 {
		ok, err := h.skipData(data)
		if err != nil {
			if !errors.Is(err, stream.ErrStopped) {
				c.Error = "data block cut short"
				if stream.IsGap(err) {
					c.Error = "data block incomplete in the capture"
				}
				h.emitCommand(c, pos)
			}
			return err
		}
		if !ok {
			// memcached reads the block and its two terminating bytes
			// whatever they are, answers CLIENT_ERROR bad data chunk
			// and goes on after them: so do we.
			c.Error = "bad data chunk"
		}
	}
	h.emitCommand(c, pos)
	return nil
}

// parseCommand parses a command line (without its line end). It returns
// a nil Command for an unknown command name; a Command with Error set
// for a known command memcached would reject (with data -1: no data block
// follows, as memcached does not read one then); data is the length of
// the data block that follows, -1 for none. err is set when the line
// declares a data block the decoder will not believe.
func (h *half) parseCommand(line []byte) (c *Command, data int64, err error) {
	t := h.tokens(line)
	if len(t) == 0 {
		return nil, -1, nil
	}
	c = &Command{Op: commandName(t[0])}
	if c.Op == "" {
		return nil, -1, nil
	}
	args := t[1:]
	bad := func(msg string) (*Command, int64, error) {
		c.Error = msg
		return c, -1, nil
	}
	const badFormat = "bad command line format"
	switch c.Op {
	case "get", "gets", "gat", "gats":
		if c.Op == "gat" || c.Op == "gats" {
			if len(args) < 1 {
				return bad(badFormat)
			}
			exp, ok := parseInt(args[0])
			if !ok {
				return bad("invalid exptime argument")
			}
			c.Exptime = exp
			args = args[1:]
		}
		if len(args) == 0 {
			return bad(badFormat)
		}
		c.Keys = make([]string, len(args))
		for i, k := range args {
			c.Keys[i] = string(k)
			if !validKey(k) {
				c.Error = badFormat
			}
		}
		return c, -1, nil
	case "set", "add", "replace", "append", "prepend", "cas":
		n := 4
		if c.Op == "cas" {
			n = 5
		}
		if len(args) != n && len(args) != n+1 {
			return bad(badFormat)
		}
		c.Keys = []string{string(args[0])}
		c.NoReply = len(args) == n+1 && string(args[n]) == "noreply"
		flags, ok1 := parseUint(args[1], 32)
		exp, ok2 := parseInt(args[2])
		vlen, ok3 := parseInt(args[3])
		if !ok1 || !ok2 || !ok3 || vlen < 0 || !validKey(args[0]) {
			return bad(badFormat)
		}
		if c.Op == "cas" {
			cas, ok := parseUint(args[4], 64)
			if !ok {
				return bad(badFormat)
			}
			c.CAS = cas
		}
		c.Flags, c.Exptime = uint32(flags), exp
		if vlen > MaxValueLen {
			c.Error = "data block too large"
			return c, -1, protoErrorf("%s declares a %d-byte data block (more than %d)", c.Op, vlen, MaxValueLen)
		}
		c.ValueLen = int(vlen)
		return c, vlen, nil
	case "delete":
		if len(args) < 1 || len(args) > 3 {
			return bad(badFormat)
		}
		c.Keys = []string{string(args[0])}
		c.NoReply = len(args) > 1 && string(args[len(args)-1]) == "noreply"
		rest := args[1:]
		if c.NoReply {
			rest = rest[:len(rest)-1]
		}
		if len(rest) > 1 || (len(rest) == 1 && string(rest[0]) != "0") || !validKey(args[0]) {
			return bad("bad command line format.  Usage: delete <key> [noreply]")
		}
		return c, -1, nil
	case "incr", "decr":
		if len(args) != 2 && len(args) != 3 {
			return bad(badFormat)
		}
		c.Keys = []string{string(args[0])}
		c.NoReply = len(args) == 3 && string(args[2]) == "noreply"
		delta, ok := parseUint(args[1], 64)
		if !ok {
			return bad("invalid numeric delta argument")
		}
		c.Delta = delta
		if !validKey(args[0]) {
			return bad(badFormat)
		}
		return c, -1, nil
	case "touch":
		if len(args) != 2 && len(args) != 3 {
			return bad(badFormat)
		}
		c.Keys = []string{string(args[0])}
		c.NoReply = len(args) == 3 && string(args[2]) == "noreply"
		exp, ok := parseInt(args[1])
		if !ok {
			return bad("invalid exptime argument")
		}
		c.Exptime = exp
		if !validKey(args[0]) {
			return bad(badFormat)
		}
		return c, -1, nil
	case "mg", "ms", "md", "ma", "me":
		if len(args) < 1 {
			return bad(badFormat)
		}
		c.Keys = []string{string(args[0])}
		if !validKey(args[0]) {
			return bad(badFormat)
		}
		data = -1
		flags := args[1:]
		if c.Op == "ms" {
			if len(flags) < 1 {
				return bad(badFormat)
			}
			vlen, ok := parseInt(flags[0])
			if !ok || vlen < 0 {
				return bad("bad data chunk")
			}
			if vlen > MaxValueLen {
				c.Error = "data block too large"
				return c, -1, protoErrorf("ms declares a %d-byte data block (more than %d)", vlen, MaxValueLen)
			}
			data = vlen
			c.ValueLen = int(vlen)
			flags = flags[1:]
		}
		if c.Op == "ma" {
			c.Delta = 1
		}
		if c.Op != "me" && !h.metaFlags(c, flags) {
			return bad("invalid flag")
		}
		return c, data, nil
	case "mn", "version", "quit", "misbehave":
		if len(args) != 0 {
			return bad(badFormat)
		}
		return c, -1, nil
	case "flush_all", "verbosity", "cache_memlimit":
		c.NoReply = len(args) > 0 && string(args[len(args)-1]) == "noreply"
		rest := args
		if c.NoReply {
			rest = rest[:len(rest)-1]
		}
		if len(rest) > 1 || (c.Op != "flush_all" && len(rest) != 1) {
			return bad(badFormat)
		}
		if len(rest) == 1 {
			if _, ok := parseInt(rest[0]); !ok {
				return bad(badFormat)
			}
		}
		return c, -1, nil
	}
	// stats, shutdown, slabs, lru, lru_crawler, watch, …: arguments
	// are not checked.
	return c, -1, nil
}

// commandName returns the name of a known command, "" otherwise.
func commandName(verb []byte) string {
	return commands[string(verb)]
}

var commands = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{"get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas",
		"delete", "incr", "decr", "touch", "mg", "ms", "md", "ma", "mn", "me",
		"flush_all", "version", "stats", "verbosity", "quit", "shutdown", "cache_memlimit",
		"slabs", "lru", "lru_crawler", "watch", "misbehave", "debugtime", "extstore"} {
		m[s] = s
	}
	return m
}()

// metaFlags records the flags of a meta command; false when one is not
// a flag.
func (h *half) metaFlags(c *Command, flags [][]byte) bool {
	for _, f := range flags {
		if !isLetter(f[0]) {
			return false
		}
		tok := f[1:]
		switch f[0] {
		case 'q':
			c.Quiet = true
		case 'O':
			if len(tok) > 32 {
				return false
			}
			c.Opaque = string(tok)
		case 'T':
			if v, ok := parseInt(tok); ok {
				c.Exptime = v
			}
		case 'F':
			if v, ok := parseUint(tok, 32); ok {
				c.Flags = uint32(v)
			}
		case 'C':
			if v, ok := parseUint(tok, 64); ok {
				c.CAS = v
			}
		case 'D':
			if v, ok := parseUint(tok, 64); ok && c.Op == "ma" {
				c.Delta = v
			}
		}
	}
	if len(flags) > 0 {
		c.Meta = string(bytes.Join(flags, []byte{' '}))
	}
	return true
}

func isLetter(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }

// validKey tells whether k can be a memcached key: 1 to 250 bytes, no
// control characters.
func validKey(k []byte) bool {
	if len(k) == 0 || len(k) > MaxKeyLen {
		return false
	}
	for _, b := range k {
		if b < 0x21 || b == 0x7f {
			return false
		}
	}
	return true
}

// printable tells whether line is plain ASCII text.
func printable(line []byte) bool {
	for _, b := range line {
		if (b < 0x20 && b != '\t') || b >= 0x7f {
			return false
		}
	}
	return true
}

// cleanText returns at most maxText bytes of b, with anything but
// printable ASCII replaced.
func cleanText(b []byte) string {
	if len(b) > maxText {
		b = b[:maxText]
	}
	out := []byte(string(b))
	for i, c := range out {
		if c < 0x20 || c >= 0x7f {
			out[i] = '?'
		}
	}
	return string(out)
}

func parseUint(b []byte, bits int) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if bits < 64 && v >= 1<<bits {
		return 0, false
	}
	return v, true
}

func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := parseUint(b, 64)
	if !ok || u > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// reply decodes one server message at pos.
func (h *half) reply(pos event.Position) error {
	if b, _ := h.r.Peek(1); len(b) == 1 && b[0] == magicResponse {
		return h.binaryResponse(pos)
	}
	line, err := h.peekLine(MaxLine)
	if err != nil {
		return err
	}
	t := h.tokens(trimEOL(line))
	if len(t) == 0 {
		return protoErrorf("empty reply line")
	}
	code := string(t[0])
	switch code {
	case "VALUE", "END":
		return h.valueReply(pos)
	case "STAT":
		return h.statReply(pos)
	case "VA":
		return h.metaValue(pos, t, len(line))
	}
	rep := &Reply{}
	var id identity
	switch code {
	case "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK", "RESET", "ERROR",
		"BUSY", "BADCLASS", "NOSPARE", "NOTFULL", "UNSAFE", "SAME":
		rep.Status = code
		if len(t) > 1 {
			rep.Error = cleanText(bytes.TrimSpace(trimEOL(line)[len(t[0]):]))
		}
	case "CLIENT_ERROR", "SERVER_ERROR":
		rep.Status = code
		rep.Error = cleanText(bytes.TrimSpace(trimEOL(line)[len(t[0]):]))
	case "VERSION":
		rep.Status = code
		if len(t) > 1 {
			rep.Version = cleanText(t[1])
		}
	case "HD", "EN", "NS", "EX", "NF", "MN":
		rep.Status = code
		id = metaReplyFlags(rep, nil, t[1:])
	case "ME":
		rep.Status = code
		if len(t) > 1 {
			id = identity{meta: true, key: string(t[1]), hasKey: true}
		}
	default:
		n, ok := parseUint(t[0], 64)
		if !ok || len(t) > 1 {
			return protoErrorf("unrecognised reply line")
		}
		rep.Status = "NUMBER"
		rep.Number = &n
	}
	h.r.Discard(len(line))
	h.emitReply(rep, id, pos)
	return nil
}

// valueReply decodes the reply to a text lookup: VALUE lines with their
// data blocks, then END.
func (h *half) valueReply(pos event.Position) error {
	rep := &Reply{}
	var id identity
	for {
		line, err := h.peekLine(MaxLine)
		if err != nil {
			return err
		}
		t := h.tokens(trimEOL(line))
		if len(t) == 0 {
			return protoErrorf("empty line in a get reply")
		}
		switch string(t[0]) {
		case "END":
			h.r.Discard(len(line))
			rep.Status = "END"
			h.emitReply(rep, id, pos)
			return nil
		case "VALUE":
			it, vlen, err := parseValueLine(t)
			if err != nil {
				return err
			}
			h.r.Discard(len(line))
			ok, err := h.skipData(vlen)
			if err != nil {
				return err
			}
			if !ok {
				return protoErrorf("value of %d bytes not followed by \\r\\n", vlen)
			}
			if !id.hasKey {
				id = identity{key: it.Key, hasKey: true}
			}
			if len(rep.Items) < MaxItems {
				rep.Items = append(rep.Items, it)
			}
		case "SERVER_ERROR", "CLIENT_ERROR":
			// memcached can fail in the middle of a get reply.
			h.r.Discard(len(line))
			rep.Status = string(t[0])
			rep.Error = cleanText(bytes.TrimSpace(trimEOL(line)[len(t[0]):]))
			h.emitReply(rep, id, pos)
			return nil
		default:
			return protoErrorf("unexpected line in a get reply")
		}
	}
}

// parseValueLine parses "VALUE <key> <flags> <bytes> [<cas>]".
func parseValueLine(t [][]byte) (Item, int64, error) {
	if len(t) != 4 && len(t) != 5 {
		return Item{}, 0, protoErrorf("malformed VALUE line")
	}
	flags, ok1 := parseUint(t[2], 32)
	vlen, ok2 := parseInt(t[3])
	if !ok1 || !ok2 || vlen < 0 || len(t[1]) == 0 || len(t[1]) > MaxKeyLen {
		return Item{}, 0, protoErrorf("malformed VALUE line")
	}
	if vlen > MaxValueLen {
		return Item{}, 0, protoErrorf("VALUE declares a %d-byte data block (more than %d)", vlen, MaxValueLen)
	}
	it := Item{Key: string(t[1]), Flags: uint32(flags), Len: int(vlen)}
	if len(t) == 5 {
		cas, ok := parseUint(t[4], 64)
		if !ok {
			return Item{}, 0, protoErrorf("malformed VALUE line")
		}
		it.CAS = cas
	}
	return it, vlen, nil
}

// statReply decodes the reply to stats: STAT lines, then END.
func (h *half) statReply(pos event.Position) error {
	rep := &Reply{}
	for {
		line, err := h.peekLine(MaxLine)
		if err != nil {
			return err
		}
		t := h.tokens(trimEOL(line))
		if len(t) == 0 {
			return protoErrorf("empty line in a stats reply")
		}
		h.r.Discard(len(line))
		switch string(t[0]) {
		case "STAT":
			rep.Lines++
		case "END":
			rep.Status = "END"
			h.emitReply(rep, identity{}, pos)
			return nil
		default:
			return protoErrorf("unexpected line in a stats reply")
		}
	}
}

// metaValue decodes "VA <size> <flags>*" and its data block.
func (h *half) metaValue(pos event.Position, t [][]byte, lineLen int) error {
	if len(t) < 2 {
		return protoErrorf("malformed VA line")
	}
	vlen, ok := parseInt(t[1])
	if !ok || vlen < 0 {
		return protoErrorf("malformed VA line")
	}
	if vlen > MaxValueLen {
		return protoErrorf("VA declares a %d-byte data block (more than %d)", vlen, MaxValueLen)
	}
	rep := &Reply{Status: "VA"}
	it := Item{Len: int(vlen)}
	id := metaReplyFlags(rep, &it, t[2:])
	h.r.Discard(lineLen)
	var num []byte
	if vlen <= 20 {
		// Small enough to be the number of an ma; kept only then.
		b, err := h.readSmall(int(vlen) + 2)
		if err != nil {
			return err
		}
		if b != nil {
			if !bytes.HasSuffix(b, []byte("\r\n")) {
				return protoErrorf("value of %d bytes not followed by \\r\\n", vlen)
			}
			num = b[:vlen]
		}
	} else {
		ok, err := h.skipData(vlen)
		if err != nil {
			return err
		}
		if !ok {
			return protoErrorf("value of %d bytes not followed by \\r\\n", vlen)
		}
	}
	rep.Items = []Item{it}
	h.d.answer(rep, id, pos)
	if rep.Op == "ma" {
		rep.Items = nil
		if v, ok := parseUint(num, 64); ok {
			rep.Number = &v
		}
	} else if rep.Items[0].Key == "" && len(rep.Keys) > 0 {
		rep.Items[0].Key = rep.Keys[0]
	}
	h.d.emitReply(&event.Event{Kind: event.MemcacheReply, Start: pos, End: h.r.LastPos().Time, FromServer: true, Data: rep})
	return nil
}

// metaReplyFlags records the flags of a meta reply and returns what
// they say about the command answered.
func metaReplyFlags(rep *Reply, it *Item, flags [][]byte) identity {
	id := identity{meta: true}
	for _, f := range flags {
		tok := f[1:]
		switch f[0] {
		case 'O':
			id.opaque, id.hasOpaque = string(tok), true
			rep.Opaque = id.opaque
		case 'k':
			id.key, id.hasKey = string(tok), true
			if it != nil {
				it.Key = id.key
			}
		case 'f':
			if v, ok := parseUint(tok, 32); ok && it != nil {
				it.Flags = uint32(v)
			}
		case 'c':
			if v, ok := parseUint(tok, 64); ok && it != nil {
				it.CAS = v
			}
		}
	}
	if len(flags) > 0 {
		j := bytes.Join(flags, []byte{' '})
		rep.Meta = cleanText(j)
	}
	return id
}

// validLine tells whether a line (without its end) can start a message
// of this direction: the test for resynchronising.
func (h *half) validLine(line []byte) bool {
	if !h.server {
		c, _, err := h.parseCommand(line)
		return c != nil && err == nil && c.Error == ""
	}
	t := h.tokens(line)
	if len(t) == 0 {
		return false
	}
	switch string(t[0]) {
	case "END", "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK", "RESET", "MN":
		return len(t) == 1
	case "ERROR", "CLIENT_ERROR", "SERVER_ERROR":
		return printable(line)
	case "VERSION":
		return len(t) == 2 && printable(line)
	case "STAT":
		return len(t) >= 3 && printable(line)
	case "VALUE":
		_, _, err := parseValueLine(t)
		return err == nil && validKey(t[1])
	case "VA":
		if len(t) < 2 {
			return false
		}
		if v, ok := parseInt(t[1]); !ok || v < 0 || v > MaxValueLen {
			return false
		}
		return flagTokens(t[2:])
	case "HD", "EN", "NS", "EX", "NF":
		return flagTokens(t[1:])
	case "ME":
		return len(t) >= 2 && printable(line)
	}
	if _, ok := parseUint(t[0], 64); ok && len(t) == 1 {
		// A bare number is an incr/decr result only if one is awaited.
		for _, p := range h.d.pending {
			if !p.quiet {
				return p.cmd.Op == "incr" || p.cmd.Op == "decr"
			}
		}
	}
	return false
}

func flagTokens(t [][]byte) bool {
	for _, f := range t {
		if !isLetter(f[0]) || !printable(f) {
			return false
		}
	}
	return true
}
