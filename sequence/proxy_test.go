package sequence

import (
	"strings"
	"testing"
)

// A request relayed by HAProxy (X-Forwarded-For naming the client) is
// drawn client → HAProxy → keystone, the backend request caused by the
// client's and noted with the backend and the time the proxy added; a
// request without X-Forwarded-For is not taken for a relay.
func TestProxyHop(t *testing.T) {
	for _, c := range []struct {
		name    string
		xff     string
		aliases map[string]string
		proxy   string // the front's callee, "" when no relay
	}{
		{"relayed", "198.18.0.100", nil, "HAProxy"},
		{"relayed, several hops", "198.18.0.100, 10.1.1.1", nil, "HAProxy"},
		{"aliased", "198.18.0.100", map[string]string{"198.18.0.12:13000": "lb"}, "lb"},
		{"another client", "198.18.0.101", nil, ""},
		{"no header", "", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s script
			front := s.conn("198.18.0.100:40000", "198.18.0.12:13000")
			s.http(front, 0, 10, "GET", "/v3", 200, nil, nil, "")
			back := s.conn("127.0.0.1:50000", "127.0.0.1:5000")
			hdr := map[string]string{}
			if c.xff != "" {
				hdr["X-Forwarded-For"] = c.xff
			}
			s.http(back, 1, 8, "GET", "/v3", 200, hdr, nil, "")
			f := Build(s.evs, Options{Aliases: c.aliases})
			if len(f.Messages) != 4 {
				t.Fatalf("%d messages: %+v", len(f.Messages), f.Messages)
			}
			fr, br := f.Messages[0], f.Messages[1]
			if c.proxy == "" {
				if fr.To == br.From || br.Cause == fr.Seq {
					t.Errorf("taken for a relay: %s → %s, %s → %s", name(f, fr.From), name(f, fr.To), name(f, br.From), name(f, br.To))
				}
				return
			}
			if name(f, fr.From) != "OpenStackClient" || name(f, fr.To) != c.proxy || fr.To != br.From || name(f, br.To) != "keystone" {
				t.Errorf("drawn %s → %s, %s → %s", name(f, fr.From), name(f, fr.To), name(f, br.From), name(f, br.To))
			}
			if f.Participant(fr.To).Role != RoleProxy {
				t.Errorf("role %q", f.Participant(fr.To).Role)
			}
			if br.Cause != fr.Seq {
				t.Errorf("backend request caused by %d, want %d", br.Cause, fr.Seq)
			}
			if len(br.Notes) != 1 || !strings.Contains(br.Notes[0].Text, "backend 127.0.0.1:5000 (adds 3.0 ms)") {
				t.Errorf("notes %+v", br.Notes)
			}
		})
	}
}
