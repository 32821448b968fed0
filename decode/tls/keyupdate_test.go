package tls

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// seal13 makes a TLS 1.3 record of inner type typ holding content.
func seal13(t *testing.T, k *keys, typ uint8, content []byte) []byte {
	t.Helper()
	inner := append(append([]byte{}, content...), typ)
	hdr := []byte{TypeApplicationData, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+k.aead.Overhead()))
	rec := k.aead.Seal(hdr, k.nonce(), inner, hdr)
	k.seq++
	return rec
}

// collect gathers what the inner handler reads from the client.
type collect struct{ client *strings.Builder }

func (c collect) Client(r *stream.Reader) {
	for {
		b, err := r.Peek(1)
		if err != nil && !stream.IsGap(err) {
			return
		}
		c.client.Write(b)
		r.Discard(len(b))
	}
}
func (c collect) Server(r *stream.Reader) { c.Client(r) }

// A TLS 1.3 client that updates its keys (KeyUpdate) mid-connection, and
// whose server asked for a second ClientHello (HelloRetryRequest), is
// decrypted throughout.
func TestKeyUpdateAndHelloRetry(t *testing.T) {
	s := SuiteByID(0x1301)
	var random [32]byte
	random[0] = 7
	hs := func(typ uint8, body []byte) []byte {
		m := []byte{typ, 0, byte(len(body) >> 8), byte(len(body))}
		return append(m, body...)
	}
	record := func(typ uint8, p []byte) []byte {
		return append([]byte{typ, 3, 3, byte(len(p) >> 8), byte(len(p))}, p...)
	}
	clientHello := record(TypeHandshake, hs(HandshakeClientHello, append(append([]byte{3, 3}, random[:]...), 0, 0, 2, 0x13, 1, 1, 0)))
	serverHello := func(r []byte) []byte {
		body := append(append([]byte{3, 3}, r...), 0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4)
		return record(TypeHandshake, hs(HandshakeServerHello, body))
	}
	secret := func(b byte) []byte { return []byte(strings.Repeat(string(rune(b)), 32)) }
	var log KeyLog
	log.Add(LabelClientHandshakeSecret, random, secret('a'))
	log.Add(LabelServerHandshakeSecret, random, secret('b'))
	log.Add(LabelClientTrafficSecret0, random, secret('c'))
	log.Add(LabelServerTrafficSecret0, random, secret('d'))
	chs, _ := keys13(s, secret('a'))
	cap0, _ := keys13(s, secret('c'))
	next, _ := ExpandLabel(sha256.New, secret('c'), "traffic upd", 32)
	cap1, _ := keys13(s, next)

	var got strings.Builder
	var warns []string
	ctx := stream.NewContext(&event.Conn{}, event.SinkFunc(func(e *event.Event) {
		if e.Kind == event.Warning {
			warns = append(warns, e.Data.(string))
		}
	}))
	p := stream.NewPipe(ctx, Wrap(ctx, collect{&got}, Options{Keys: &log}))
	var pos event.Position
	p.Feed(false, 0, clientHello, pos)
	p.Feed(true, 0, serverHello(helloRetryRandom), pos)
	p.Feed(false, 0, clientHello, pos)
	p.Feed(true, 0, serverHello(make([]byte, 32)), pos)
	p.Feed(false, 0, record(TypeChangeCipherSpec, []byte{1}), pos)
	p.Feed(false, 0, seal13(t, chs, TypeHandshake, hs(HandshakeFinished, make([]byte, 32))), pos)
	p.Feed(false, 0, seal13(t, cap0, TypeApplicationData, []byte("GET / HTTP/1.1\r\n")), pos)
	p.Feed(false, 0, seal13(t, cap0, TypeHandshake, hs(HandshakeKeyUpdate, []byte{0})), pos)
	p.Feed(false, 0, seal13(t, cap1, TypeApplicationData, []byte("Host: x\r\n\r\n")), pos)
	p.Close()
	if got.String() != "GET / HTTP/1.1\r\nHost: x\r\n\r\n" || len(warns) != 0 {
		t.Errorf("decrypted %q, warnings %q", got.String(), warns)
	}
}
