package sequence

import (
	"testing"

	"github.com/authflow/authflow/decode/event"
)

// TestTLSNote: messages of a decrypted connection carry its version and
// suite; the first request between two parties gets one note saying so
// (not one per connection), in the flow's language; a connection in the
// clear gets neither.
func TestTLSNote(t *testing.T) {
	const suite = "TLS 1.3 TLS_AES_256_GCM_SHA384"
	for _, c := range []struct{ lang, note string }{
		{"en", suite + ", decrypted with the key log"},
		{"zh", suite + ", 已用密钥日志解密"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			var s script
			tls1 := s.conn("198.18.0.100:40000", "198.18.0.11:5000")
			tls2 := s.conn("198.18.0.100:40002", "198.18.0.11:5000")
			clear := s.conn("198.18.0.100:40004", "198.18.0.11:5000")
			for i, conn := range []*event.Conn{tls1, tls2} {
				at := s.at(i * 100)
				s.evs = append(s.evs, &event.Event{Kind: event.TLSDecrypted, Start: at, End: at.Time, Conn: conn, Data: suite})
			}
			s.http(tls1, 1, 10, "GET", "/v3", 200, nil, nil, "")
			s.http(tls2, 101, 110, "GET", "/v3", 200, nil, nil, "")
			s.http(clear, 201, 210, "GET", "/v3", 200, nil, nil, "")
			f := Build(s.evs, Options{Lang: c.lang})
			if len(f.Messages) != 6 {
				t.Fatalf("%d messages, want 6", len(f.Messages))
			}
			notes := 0
			for i, m := range f.Messages {
				want := suite
				if i >= 4 {
					want = ""
				}
				if m.TLS != want {
					t.Errorf("message %d (%s): tls %q, want %q", m.Seq, m.Label, m.TLS, want)
				}
				for _, n := range m.Notes {
					notes++
					if i != 0 || n.Text != c.note || len(n.Over) != 2 || n.Over[0] != m.From || n.Over[1] != m.To {
						t.Errorf("message %d: note %+v, want %q over %s,%s on the first request only", m.Seq, n, c.note, m.From, m.To)
					}
				}
			}
			if notes != 1 {
				t.Errorf("%d notes, want 1", notes)
			}
		})
	}
}
