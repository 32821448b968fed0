// Package tls decrypts TLS connections with the secrets of NSS key logs
// (SSLKEYLOGFILE) and hands their plaintext to the protocol decoder the
// connection would have had in the clear. It parses TLS records and the
// handshake messages it needs (ClientHello, ServerHello, Finished,
// KeyUpdate) itself, with bounded lengths, and decrypts TLS 1.2 AEAD
// suites (AES-GCM, ChaCha20-Poly1305) and TLS 1.3 (AES-128/256-GCM,
// ChaCha20-Poly1305) with Go's crypto primitives.
package tls

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record content types.
const (
	TypeChangeCipherSpec = 20
	TypeAlert            = 21
	TypeHandshake        = 22
	TypeApplicationData  = 23
	TypeHeartbeat        = 24
)

// RecordHeaderLen is the length of a record header.
const RecordHeaderLen = 5

// MaxRecordPayload bounds the length of a record's payload: 2^14 bytes of
// plaintext plus the 2048 bytes of expansion TLS 1.2 allows.
const MaxRecordPayload = 1<<14 + 2048

// RecordHeader is the header of a TLS record.
type RecordHeader struct {
	Type    uint8
	Version uint16
	Length  int // of the payload that follows
}

// ErrShort says more bytes are needed.
var ErrShort = errors.New("TLS: short")

// ParseRecordHeader parses the header at the start of b.
func ParseRecordHeader(b []byte) (RecordHeader, error) {
	if len(b) < RecordHeaderLen {
		return RecordHeader{}, ErrShort
	}
	h := RecordHeader{Type: b[0], Version: binary.BigEndian.Uint16(b[1:3]), Length: int(binary.BigEndian.Uint16(b[3:5]))}
	if h.Type < TypeChangeCipherSpec || h.Type > TypeHeartbeat {
		return h, fmt.Errorf("TLS: record type %d is not one TLS has", h.Type)
	}
	if h.Version>>8 != 3 || h.Version&0xff > 4 {
		return h, fmt.Errorf("TLS: record version %#04x is not TLS", h.Version)
	}
	if h.Length > MaxRecordPayload {
		return h, fmt.Errorf("TLS: record of %d bytes is longer than the %d TLS allows", h.Length, MaxRecordPayload)
	}
	return h, nil
}

// LooksLikeTLS reports whether b (at least 3 bytes) starts like a TLS
// handshake record.
func LooksLikeTLS(b []byte) bool {
	return len(b) >= 3 && b[0] == TypeHandshake && b[1] == 3 && b[2] <= 4
}
