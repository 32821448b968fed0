package tls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Suite describes a cipher suite authflow can decrypt.
type Suite struct {
	ID     uint16
	Name   string
	KeyLen int
	ChaCha bool // ChaCha20-Poly1305, else AES-GCM
	SHA384 bool // the PRF / HKDF hash is SHA-384, else SHA-256
	TLS13  bool
}

var suites = map[uint16]*Suite{}

func init() {
	for _, s := range []Suite{
		{0x1301, "TLS_AES_128_GCM_SHA256", 16, false, false, true},
		{0x1302, "TLS_AES_256_GCM_SHA384", 32, false, true, true},
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256", 32, true, false, true},
		{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", 16, false, false, false},
		{0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", 32, false, true, false},
		{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 16, false, false, false},
		{0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 32, false, true, false},
		{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 16, false, false, false},
		{0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 32, false, true, false},
		{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 16, false, false, false},
		{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 32, false, true, false},
		{0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 32, true, false, false},
		{0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 32, true, false, false},
		{0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 32, true, false, false},
	} {
		s := s
		suites[s.ID] = &s
	}
}

// SuiteByID returns the suite with that number, or nil if authflow cannot
// decrypt it.
func SuiteByID(id uint16) *Suite { return suites[id] }

func (s *Suite) hash() func() hash.Hash {
	if s.SHA384 {
		return sha512.New384
	}
	return sha256.New
}

func (s *Suite) hashLen() int {
	if s.SHA384 {
		return 48
	}
	return 32
}

// aead makes the AEAD of the suite.
func (s *Suite) aead(key []byte) (cipher.AEAD, error) {
	if s.ChaCha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// PRF12 is the TLS 1.2 pseudorandom function (RFC 5246, 5) with hash h.
func PRF12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, 0, n+64)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}

// ExpandLabel is TLS 1.3's HKDF-Expand-Label (RFC 8446, 7.1) with an
// empty context.
func ExpandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), n)
}

// keys are one direction's record protection.
type keys struct {
	aead cipher.AEAD
	iv   []byte // 12 bytes (TLS 1.3, ChaCha20) or 4 (TLS 1.2 AES-GCM)
	seq  uint64
}

// keys12 derives the record keys of both directions of a TLS 1.2
// session from its master secret (RFC 5246, 6.3).
func keys12(s *Suite, master, clientRandom, serverRandom []byte) (client, server *keys, err error) {
	ivLen := 4
	if s.ChaCha {
		ivLen = 12
	}
	seed := append(append([]byte{}, serverRandom...), clientRandom...)
	kb := PRF12(s.hash(), master, "key expansion", seed, 2*s.KeyLen+2*ivLen)
	ck, sk := kb[:s.KeyLen], kb[s.KeyLen:2*s.KeyLen]
	civ, siv := kb[2*s.KeyLen:2*s.KeyLen+ivLen], kb[2*s.KeyLen+ivLen:]
	ca, err := s.aead(ck)
	if err != nil {
		return nil, nil, err
	}
	sa, err := s.aead(sk)
	if err != nil {
		return nil, nil, err
	}
	return &keys{aead: ca, iv: civ}, &keys{aead: sa, iv: siv}, nil
}

// keys13 derives the record keys of one TLS 1.3 traffic secret.
func keys13(s *Suite, secret []byte) (*keys, error) {
	key, err := ExpandLabel(s.hash(), secret, "key", s.KeyLen)
	if err != nil {
		return nil, err
	}
	iv, err := ExpandLabel(s.hash(), secret, "iv", 12)
	if err != nil {
		return nil, err
	}
	a, err := s.aead(key)
	if err != nil {
		return nil, err
	}
	return &keys{aead: a, iv: iv}, nil
}

// nextSecret13 is the traffic secret after a KeyUpdate.
func nextSecret13(s *Suite, secret []byte) ([]byte, error) {
	return ExpandLabel(s.hash(), secret, "traffic upd", s.hashLen())
}

var errDecrypt = errors.New("TLS: record does not decrypt with the key log's secret")

// open12 decrypts a TLS 1.2 record (header hdr, payload p) and advances
// the sequence number.
func (k *keys) open12(hdr RecordHeader, p []byte) ([]byte, error) {
	var nonce []byte
	if len(k.iv) == 4 { // AES-GCM: explicit nonce in the record
		if len(p) < 8+k.aead.Overhead() {
			return nil, errDecrypt
		}
		nonce = append(append(make([]byte, 0, 12), k.iv...), p[:8]...)
		p = p[8:]
	} else {
		nonce = k.nonce()
	}
	if len(p) < k.aead.Overhead() {
		return nil, errDecrypt
	}
	var ad [13]byte
	binary.BigEndian.PutUint64(ad[:8], k.seq)
	ad[8] = hdr.Type
	binary.BigEndian.PutUint16(ad[9:], hdr.Version)
	binary.BigEndian.PutUint16(ad[11:], uint16(len(p)-k.aead.Overhead()))
	out, err := k.aead.Open(nil, nonce, p, ad[:])
	if err != nil {
		return nil, errDecrypt
	}
	k.seq++
	return out, nil
}

// open13 decrypts a TLS 1.3 record and returns its inner content type and
// content, advancing the sequence number.
func (k *keys) open13(header, p []byte) (uint8, []byte, error) {
	out, err := k.aead.Open(nil, k.nonce(), p, header)
	if err != nil {
		return 0, nil, errDecrypt
	}
	k.seq++
	i := len(out) - 1
	for i >= 0 && out[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, errors.New("TLS: decrypted record has no content type")
	}
	return out[i], out[:i], nil
}

// nonce is the 12-byte IV XORed with the sequence number.
func (k *keys) nonce() []byte {
	n := append([]byte{}, k.iv...)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], k.seq)
	for i := range 8 {
		n[len(n)-8+i] ^= s[i]
	}
	return n
}
