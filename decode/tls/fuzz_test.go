package tls

import (
	"strings"
	"testing"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

func FuzzRecordHeader(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 200})
	f.Add([]byte{23, 3, 3, 0x48, 0x11})
	f.Add([]byte{20, 3, 3, 0, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseRecordHeader(b)
		if err == nil && (h.Length > MaxRecordPayload || h.Type < TypeChangeCipherSpec || h.Type > TypeHeartbeat) {
			t.Fatalf("accepted %+v", h)
		}
	})
}

func FuzzHandshake(f *testing.F) {
	hello := append([]byte{2, 0, 0, 0x2e, 3, 3}, make([]byte, 32)...)
	hello = append(hello, 0, 0x13, 0x02, 0, 0, 6, 0, 43, 0, 2, 3, 4)
	f.Add(hello)
	f.Add(append([]byte{1, 0, 0, 0x22, 3, 3}, make([]byte, 32)...))
	f.Add([]byte{20, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			typ, body, n, err := SplitHandshake(b)
			if err != nil || n == 0 {
				return
			}
			if n > len(b) || len(body) != n-4 {
				t.Fatalf("message of %d bytes from %d", n, len(b))
			}
			switch typ {
			case HandshakeClientHello:
				if h, err := ParseClientHello(body); err == nil && len(h.Random) != 32 {
					t.Fatalf("random of %d bytes", len(h.Random))
				}
			case HandshakeServerHello:
				if h, err := ParseServerHello(body); err == nil && len(h.Random) != 32 {
					t.Fatalf("random of %d bytes", len(h.Random))
				}
			}
			b = b[n:]
		}
	})
}

func FuzzKeyLog(f *testing.F) {
	f.Add("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 48) + "\n# x\n")
	f.Add("SERVER_TRAFFIC_SECRET_0 zz 00\n")
	f.Fuzz(func(t *testing.T, s string) {
		var k KeyLog
		_ = k.Read(strings.NewReader(s), "fuzz")
		if k.Len() > strings.Count(s, "\n")+1 {
			t.Fatalf("%d secrets from %d lines", k.Len(), strings.Count(s, "\n")+1)
		}
	})
}

// nopHandler reads both directions to their end.
type nopHandler struct{ n *int }

func (h nopHandler) read(r *stream.Reader) {
	for {
		b, err := r.Peek(1)
		if err != nil && !stream.IsGap(err) {
			return
		}
		*h.n += len(b)
		r.Discard(len(b))
	}
}
func (h nopHandler) Client(r *stream.Reader) { h.read(r) }
func (h nopHandler) Server(r *stream.Reader) { h.read(r) }

// FuzzConn runs the decoder on a connection whose client and server send
// the fuzzed bytes (split at cut), with a key log holding a secret for
// an all-zero client random: it must neither panic nor hang.
func FuzzConn(f *testing.F) {
	ch := append([]byte{22, 3, 1, 0, 0x26, 1, 0, 0, 0x22, 3, 3}, make([]byte, 32)...)
	ch = append(ch, 0, 0)
	sh := append([]byte{22, 3, 3, 0, 0x2e, 2, 0, 0, 0x2a, 3, 3}, make([]byte, 32)...)
	sh = append(sh, 0, 0xc0, 0x30, 0, 0, 0)
	f.Add(append(ch, []byte{20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 30}...), append(sh, 20, 3, 3, 0, 1, 1), uint8(3))
	sh13 := append([]byte{22, 3, 3, 0, 0x34, 2, 0, 0, 0x30, 3, 3}, make([]byte, 32)...)
	sh13 = append(sh13, 0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4, 23, 3, 3, 0, 20)
	f.Add(ch, sh13, uint8(1))
	var keys KeyLog
	var zero [32]byte
	keys.Add(LabelClientRandom, zero, make([]byte, 48))
	for _, l := range []string{LabelClientHandshakeSecret, LabelServerHandshakeSecret, LabelClientTrafficSecret0, LabelServerTrafficSecret0} {
		keys.Add(l, zero, make([]byte, 32))
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint8) {
		var n int
		ctx := stream.NewContext(&event.Conn{}, event.SinkFunc(func(*event.Event) {}))
		p := stream.NewPipe(ctx, Wrap(ctx, nopHandler{&n}, Options{Keys: &keys}))
		c := min(int(cut), len(client))
		p.Feed(false, 0, client[:c], event.Position{})
		p.Feed(true, 0, server, event.Position{})
		p.Feed(false, 0, client[c:], event.Position{})
		p.Close()
	})
}
