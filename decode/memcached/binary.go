package memcached

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// Binary protocol framing.
const (
	magicRequest  = 0x80
	magicResponse = 0x81
	headerLen     = 24
)

// Binary status codes the decoder gives meaning to.
const (
	statusOK          = 0x0000
	statusKeyNotFound = 0x0001
)

var statusNames = map[uint16]string{
	0x0000: "NO_ERROR",
	0x0001: "KEY_NOT_FOUND",
	0x0002: "KEY_EXISTS",
	0x0003: "VALUE_TOO_LARGE",
	0x0004: "INVALID_ARGUMENTS",
	0x0005: "ITEM_NOT_STORED",
	0x0006: "NON_NUMERIC_VALUE",
	0x0007: "VBUCKET_ELSEWHERE",
	0x0008: "AUTH_ERROR",
	0x0009: "AUTH_CONTINUE",
	0x0081: "UNKNOWN_COMMAND",
	0x0082: "OUT_OF_MEMORY",
	0x0083: "NOT_SUPPORTED",
	0x0084: "INTERNAL_ERROR",
	0x0085: "BUSY",
	0x0086: "TEMPORARY_FAILURE",
}

func statusName(s uint16) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("STATUS_0x%04x", s)
}

// keyUse says whether a binary request carries a key.
type keyUse uint8

const (
	keyNone keyUse = iota
	keyRequired
	keyOptional
)

// binOp describes a binary opcode.
type binOp struct {
	name   string
	quiet  bool
	key    keyUse
	extras int  // request extras length (-1: 0 or 4, for flush)
	value  bool // the request carries a value
}

var binOps = map[byte]binOp{
	0x00: {name: "get", key: keyRequired},
	0x01: {name: "set", key: keyRequired, extras: 8, value: true},
	0x02: {name: "add", key: keyRequired, extras: 8, value: true},
	0x03: {name: "replace", key: keyRequired, extras: 8, value: true},
	0x04: {name: "delete", key: keyRequired},
	0x05: {name: "incr", key: keyRequired, extras: 20},
	0x06: {name: "decr", key: keyRequired, extras: 20},
	0x07: {name: "quit"},
	0x08: {name: "flush_all", extras: -1},
	0x09: {name: "get", quiet: true, key: keyRequired},
	0x0a: {name: "noop"},
	0x0b: {name: "version"},
	0x0c: {name: "get", key: keyRequired},              // getk
	0x0d: {name: "get", quiet: true, key: keyRequired}, // getkq
	0x0e: {name: "append", key: keyRequired, value: true},
	0x0f: {name: "prepend", key: keyRequired, value: true},
	0x10: {name: "stats", key: keyOptional},
	0x11: {name: "set", quiet: true, key: keyRequired, extras: 8, value: true},
	0x12: {name: "add", quiet: true, key: keyRequired, extras: 8, value: true},
	0x13: {name: "replace", quiet: true, key: keyRequired, extras: 8, value: true},
	0x14: {name: "delete", quiet: true, key: keyRequired},
	0x15: {name: "incr", quiet: true, key: keyRequired, extras: 20},
	0x16: {name: "decr", quiet: true, key: keyRequired, extras: 20},
	0x17: {name: "quit", quiet: true},
	0x18: {name: "flush_all", quiet: true, extras: -1},
	0x19: {name: "append", quiet: true, key: keyRequired, value: true},
	0x1a: {name: "prepend", quiet: true, key: keyRequired, value: true},
	0x1b: {name: "verbosity", extras: 4},
	0x1c: {name: "touch", key: keyRequired, extras: 4},
	0x1d: {name: "gat", key: keyRequired, extras: 4},
	0x1e: {name: "gat", quiet: true, key: keyRequired, extras: 4},
	0x20: {name: "sasl_list_mechs"},
	0x21: {name: "sasl_auth", key: keyRequired, value: true},
	0x22: {name: "sasl_step", key: keyRequired, value: true},
	0x23: {name: "gat", key: keyRequired, extras: 4},              // gatk
	0x24: {name: "gat", quiet: true, key: keyRequired, extras: 4}, // gatkq
}

// header is a binary request or response header.
type header struct {
	magic    byte
	opcode   byte
	keyLen   int
	extLen   int
	datatype byte
	status   uint16 // vbucket id in requests
	bodyLen  int64
	opaque   uint32
	cas      uint64
}

func parseHeader(b []byte) header {
	return header{
		magic:    b[0],
		opcode:   b[1],
		keyLen:   int(binary.BigEndian.Uint16(b[2:])),
		extLen:   int(b[4]),
		datatype: b[5],
		status:   binary.BigEndian.Uint16(b[6:]),
		bodyLen:  int64(binary.BigEndian.Uint32(b[8:])),
		opaque:   binary.BigEndian.Uint32(b[12:]),
		cas:      binary.BigEndian.Uint64(b[16:]),
	}
}

// valueLen is the length of the value after extras and key, checked
// against the limits.
func (f *header) valueLen(what string) (int64, error) {
	v := f.bodyLen - int64(f.extLen) - int64(f.keyLen)
	if v < 0 {
		return 0, protoErrorf("binary %s: body of %d bytes shorter than its extras and key", what, f.bodyLen)
	}
	if v > MaxValueLen {
		return 0, protoErrorf("binary %s declares a %d-byte value (more than %d)", what, v, MaxValueLen)
	}
	return v, nil
}

// validHeader tells whether hdr is a plausible binary header of this
// direction: the test for resynchronising.
func (h *half) validHeader(hdr []byte) bool {
	f := parseHeader(hdr)
	op, known := binOps[f.opcode]
	if !known || f.datatype != 0 || f.keyLen > MaxKeyLen {
		return false
	}
	what := "request"
	if h.server {
		what = "response"
	}
	v, err := f.valueLen(what)
	if err != nil {
		return false
	}
	if h.server {
		_, ok := statusNames[f.status]
		return ok && (f.extLen == 0 || f.extLen == 4)
	}
	switch op.extras {
	case -1:
		if f.extLen != 0 && f.extLen != 4 {
			return false
		}
	default:
		if f.extLen != op.extras {
			return false
		}
	}
	switch op.key {
	case keyNone:
		if f.keyLen != 0 {
			return false
		}
	case keyRequired:
		if f.keyLen == 0 {
			return false
		}
	}
	return op.value || v == 0
}

// binaryRequest decodes one binary request at pos.
func (h *half) binaryRequest(pos event.Position) error {
	hdr, err := h.r.Peek(headerLen)
	if err != nil {
		return unexpected(err)
	}
	f := parseHeader(hdr)
	vlen, err := f.valueLen("request")
	if err != nil {
		return err
	}
	op, known := binOps[f.opcode]
	c := &Command{Op: op.name, Binary: true, Quiet: op.quiet, Opaque: opaqueString(f.opaque), CAS: f.cas}
	if !known {
		c.Op, c.Error = "unknown", fmt.Sprintf("unknown opcode 0x%02x", f.opcode)
	}
	skip := vlen
	if f.keyLen > MaxKeyLen {
		// memcached refuses the key and skips the body: so do we.
		c.Error = "key too long"
		h.r.Discard(headerLen)
		skip = f.bodyLen
	} else {
		b, err := h.r.Peek(headerLen + f.extLen + f.keyLen)
		if err != nil {
			return unexpected(err)
		}
		ext := b[headerLen : headerLen+f.extLen]
		switch {
		case f.extLen == 8 && op.extras == 8:
			c.Flags = binary.BigEndian.Uint32(ext)
			c.Exptime = int64(binary.BigEndian.Uint32(ext[4:]))
		case f.extLen == 20 && op.extras == 20:
			c.Delta = binary.BigEndian.Uint64(ext)
			c.Exptime = int64(binary.BigEndian.Uint32(ext[16:]))
		case f.extLen == 4 && (op.extras == 4 || op.extras == -1) && op.name != "verbosity":
			c.Exptime = int64(binary.BigEndian.Uint32(ext))
		}
		if f.keyLen > 0 {
			c.Keys = []string{string(b[headerLen+f.extLen:])}
		}
		h.r.Discard(len(b))
	}
	if op.value {
		c.ValueLen = int(vlen)
	}
	h.d.next(c)
	if c.Op != "quit" || !c.Quiet {
		h.d.expect(&pending{cmd: c, quiet: c.Quiet, opaque: c.Opaque, opcode: f.opcode, binary: true})
	}
	if skip > 0 {
		if _, _, err := h.r.Skip(skip); err != nil {
			if !errors.Is(err, stream.ErrStopped) {
				c.Error = "data block cut short"
				if stream.IsGap(err) {
					c.Error = "data block incomplete in the capture"
				}
				h.emitCommand(c, pos)
			}
			return unexpected(err)
		}
	}
	h.emitCommand(c, pos)
	return nil
}

// binaryResponse decodes one binary response at pos; the response to a
// stat is the series of packets up to an empty one.
func (h *half) binaryResponse(pos event.Position) error {
	rep := &Reply{Binary: true}
	var f header
	for {
		hdr, err := h.r.Peek(headerLen)
		if err != nil {
			return unexpected(err)
		}
		f = parseHeader(hdr)
		vlen, err := f.valueLen("response")
		if err != nil {
			return err
		}
		op := binOps[f.opcode]
		rep.Status = statusName(f.status)
		rep.Opaque = opaqueString(f.opaque)
		var key string
		var flags uint32
		if f.keyLen > MaxKeyLen {
			// Not a key memcached would send: skip the body.
			h.r.Discard(headerLen)
			if _, _, err := h.r.Skip(f.bodyLen); err != nil {
				return unexpected(err)
			}
			rep.Error = "key too long"
			break
		}
		b, err := h.r.Peek(headerLen + f.extLen + f.keyLen)
		if err != nil {
			return unexpected(err)
		}
		if f.extLen == 4 {
			flags = binary.BigEndian.Uint32(b[headerLen:])
		}
		key = string(b[headerLen+f.extLen:])
		h.r.Discard(len(b))
		switch {
		case f.status != statusOK && vlen <= maxText:
			b, err := h.readSmall(int(vlen))
			if err != nil {
				return unexpected(err)
			}
			rep.Error = cleanText(b)
		case (op.name == "incr" || op.name == "decr") && vlen == 8:
			b, err := h.readSmall(8)
			if err != nil {
				return unexpected(err)
			}
			if b != nil {
				n := binary.BigEndian.Uint64(b)
				rep.Number = &n
			}
		case op.name == "version" && vlen <= maxText:
			b, err := h.readSmall(int(vlen))
			if err != nil {
				return unexpected(err)
			}
			rep.Version = cleanText(b)
		default:
			if _, _, err := h.r.Skip(vlen); err != nil {
				return unexpected(err)
			}
		}
		if op.name == "stats" && f.status == statusOK {
			if f.keyLen == 0 && vlen == 0 {
				break
			}
			rep.Lines++
			continue
		}
		if f.status == statusOK && (op.name == "get" || op.name == "gat") {
			rep.Items = []Item{{Key: key, Flags: flags, Len: int(vlen), CAS: f.cas}}
		}
		break
	}
	id := identity{binary: true, opcode: f.opcode, opaque: rep.Opaque, hasOpaque: true}
	h.d.answer(rep, id, pos)
	if len(rep.Items) == 1 && rep.Items[0].Key == "" && len(rep.Keys) > 0 {
		rep.Items[0].Key = rep.Keys[0]
	}
	h.d.emitReply(&event.Event{Kind: event.MemcacheReply, Start: pos, End: h.r.LastPos().Time, FromServer: true, Data: rep})
	return nil
}

// unexpected turns the end of the stream inside a message into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// opaqueString formats a binary opaque.
func opaqueString(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
