package tls

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Handshake message types.
const (
	HandshakeClientHello      = 1
	HandshakeServerHello      = 2
	HandshakeNewSessionTicket = 4
	HandshakeFinished         = 20
	HandshakeKeyUpdate        = 24
)

// MaxHandshake bounds the length of one handshake message authflow
// reassembles (a certificate chain can be long; more is not TLS as
// deployed).
const MaxHandshake = 256 << 10

// Version numbers.
const (
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

// helloRetryRandom is the ServerHello random of a HelloRetryRequest
// (RFC 8446, 4.1.3).
var helloRetryRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// Hello is what authflow needs of a ClientHello or ServerHello.
type Hello struct {
	Random []byte // 32 bytes
	// Version is the version negotiated (ServerHello: supported_versions
	// if present, else legacy_version).
	Version uint16
	// Suite is the cipher suite the server chose (ServerHello only).
	Suite uint16
	// Retry says a ServerHello is a HelloRetryRequest.
	Retry bool
}

// SplitHandshake returns the first handshake message of b (type and body)
// and its total length, or n == 0 when b does not hold it whole yet.
func SplitHandshake(b []byte) (typ uint8, body []byte, n int, err error) {
	if len(b) < 4 {
		return 0, nil, 0, nil
	}
	l := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	if l > MaxHandshake {
		return b[0], nil, 0, fmt.Errorf("TLS: handshake message of %d bytes is longer than %d", l, MaxHandshake)
	}
	if len(b) < 4+l {
		return b[0], nil, 0, nil
	}
	return b[0], b[4 : 4+l], 4 + l, nil
}

// cursor reads a handshake body with bounds checks.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) take(n int) []byte {
	if c.bad || n < 0 || n > len(c.b) {
		c.bad = true
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8() int {
	v := c.take(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (c *cursor) u16() int {
	v := c.take(2)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

// ParseClientHello parses the body of a ClientHello.
func ParseClientHello(body []byte) (Hello, error) {
	c := cursor{b: body}
	h := Hello{Version: uint16(c.u16())}
	h.Random = c.take(32)
	if c.bad {
		return Hello{}, fmt.Errorf("TLS: ClientHello of %d bytes is too short", len(body))
	}
	return h, nil
}

// ParseServerHello parses the body of a ServerHello.
func ParseServerHello(body []byte) (Hello, error) {
	c := cursor{b: body}
	h := Hello{Version: uint16(c.u16())}
	h.Random = c.take(32)
	c.take(c.u8()) // session id
	h.Suite = uint16(c.u16())
	c.u8() // compression
	if c.bad {
		return Hello{}, fmt.Errorf("TLS: ServerHello of %d bytes is too short", len(body))
	}
	h.Retry = bytes.Equal(h.Random, helloRetryRandom)
	if len(c.b) == 0 {
		return h, nil
	}
	ext := cursor{b: c.take(c.u16())}
	for !ext.bad && len(ext.b) > 0 {
		typ := ext.u16()
		data := ext.take(ext.u16())
		if typ == 43 && len(data) == 2 { // supported_versions
			h.Version = binary.BigEndian.Uint16(data)
		}
	}
	if c.bad || ext.bad {
		return Hello{}, fmt.Errorf("TLS: ServerHello extensions are malformed")
	}
	return h, nil
}
