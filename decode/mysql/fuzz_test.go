package mysql

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authflow/authflow/decode/event"
)

// The fuzz input is a conversation: a flags byte (bit 0: the capture
// starts mid-connection), then records of a control byte (bit 0: from the
// server; bits 2-7: bytes missing before the record, 63 for an unknown
// number), a length byte and that many bytes.

func encodeFuzz(conv *conversation, limit int) []byte {
	out := []byte{0}
	if conv.conn.Midstream {
		out[0] = 1
	}
	for _, s := range conv.segments {
		gap := s.gap
		data := s.data
		for first := true; first || len(data) > 0; first = false {
			n := min(len(data), 255)
			ctl := byte(0)
			if s.fromServer {
				ctl = 1
			}
			if gap < 0 {
				ctl |= 63 << 2
			} else {
				ctl |= byte(min(gap, 62)) << 2
			}
			gap = 0
			out = append(out, ctl, byte(n))
			out = append(out, data[:n]...)
			data = data[n:]
			if len(out) > limit {
				return out
			}
		}
	}
	return out
}

func decodeFuzz(in []byte) *conversation {
	conv := &newConv(len(in) > 0 && in[0]&1 != 0).conv
	if len(in) > 0 {
		in = in[1:]
	}
	for frame := 1; len(in) >= 2; frame++ {
		ctl, n := in[0], int(in[1])
		in = in[2:]
		n = min(n, len(in))
		gap := int(ctl >> 2)
		if gap == 63 {
			gap = -1
		}
		conv.segments = append(conv.segments, segment{
			fromServer: ctl&1 != 0,
			gap:        gap,
			data:       in[:n],
			pos:        event.Position{Time: time.Unix(1795349774, int64(frame)*1000), Frame: event.FrameRef{Number: frame}},
		})
		in = in[n:]
	}
	return conv
}

// FuzzDecode: any bytes, in any direction, with gaps: no panic, no hang,
// only well-formed events, and the same events however the bytes are cut
// into segments.
func FuzzDecode(f *testing.F) {
	for _, name := range realConvs {
		f.Add(encodeFuzz(loadConv(f, name), 6000))
	}
	for _, c := range syntheticCases() {
		f.Add(encodeFuzz(&c.conv, 6000))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		conv := decodeFuzz(in)
		col := run(conv, whole)
		for _, e := range col.events {
			switch d := e.Data.(type) {
			case string:
				if strings.Contains(d, "decoder failed") {
					t.Fatalf("decoder panicked: %s", d)
				}
			case *Handshake, *Login, *Result:
			case *Command:
				if !utf8.ValidString(d.Statement) || len(d.Statement) > MaxStatement || len(d.Tables) > MaxTables {
					t.Fatalf("bad command %+v", d)
				}
				_ = Redact(d.Statement)
			default:
				t.Fatalf("event %s with data %T", e.Kind, e.Data)
			}
			if _, err := json.Marshal(e.Data); err != nil {
				t.Fatalf("event %s: %v", e.Kind, err)
			}
		}
		if len(in) < 2000 {
			if want, got := col.dump(), run(conv, bytewise).dump(); got != want {
				t.Fatalf("bytewise feeding differs\n got:\n%s\nwant:\n%s", got, want)
			}
		}
	})
}

// FuzzSQL: Redact and Tables end on any text, Redact is idempotent and
// keeps valid UTF-8 valid.
func FuzzSQL(f *testing.F) {
	for _, s := range []string{
		"SELECT project.id AS project_id \nFROM project \nWHERE project.name = 'admin'",
		`SELECT 'it\'s', "a""b", 0x1F, X'0a', 1.5e-3, .5, t1.c2 FROM a, b AS c JOIN d ON x /* c */ -- x`,
		"/*!40101 SET NAMES utf8 */; INSERT INTO t VALUES (N'x', _utf8'y')",
		"SELECT EXTRACT(YEAR FROM d) FROM `we``ird`", "UPDATE a, b SET x = 1", "x..5 .5x ''",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if rr := Redact(r); rr != r {
			t.Fatalf("Redact(%q) = %q, but Redact(%q) = %q", s, r, r, rr)
		}
		if utf8.ValidString(s) && !utf8.ValidString(r) {
			t.Fatalf("Redact(%q) = %q: invalid UTF-8", s, r)
		}
		if tables := Tables(s); len(tables) > MaxTables {
			t.Fatalf("%d tables", len(tables))
		}
	})
}
