package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence"
)

// TestTLSSameShapeAsPlain: each scenario recorded behind HAProxy's TLS
// front draws the same flow as its plain-HTTP recording, but for the
// HAProxy hop and the TLS note: the same requests, token lineage, cache
// hits and misses and database bursts, in the same order. Tokens, ids and
// query counts differ between recordings, so the shapes are compared:
// (kind, from role, to role, method, target with ids replaced, status,
// cache hit). What differs for reasons outside authflow is left out of
// both and said below.
func TestTLSSameShapeAsPlain(t *testing.T) {
	for _, name := range []string{"token-issue", "image-list-cold", "image-list-warm", "bad-password"} {
		t.Run(name, func(t *testing.T) {
			plain := flowOf(t, filepath.Join(capturesDir, name), "")
			tlsDir := filepath.Join(tlsCapturesDir, "tls-"+name)
			tls := flowOf(t, tlsDir, filepath.Join(tlsDir, "keys.txt"))
			skip := map[int]bool{}
			if name == "image-list-warm" {
				// In the plain recording glance had no token of its own
				// yet and authenticated itself during the first listing
				// (GET / and POST /v3/auth/tokens from glance to keystone,
				// one more burst of keystone queries: 7 bursts against 6
				// behind TLS); behind TLS the second glance-api already
				// had one. The lo captures show it: the plain one has
				// glance's POST /v3/auth/tokens, the TLS one has none.
				skip = selfAuth(plain)
				if len(skip) == 0 {
					t.Fatal("the plain recording's self-authentication of glance is not found")
				}
				if len(selfAuth(tls)) != 0 {
					t.Error("glance authenticates itself behind TLS too: drop the exception")
				}
			}
			want, got := shape(plain, skip), shape(tls, nil)
			if !slices.Equal(got, want) {
				t.Errorf("behind TLS:\n%s\nin the clear:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The TLS note is there, once per client–HAProxy pair.
			notes := 0
			for _, m := range tls.Messages {
				for _, n := range m.Notes {
					if strings.HasSuffix(n.Text, ", decrypted with the key log") {
						notes++
					}
				}
			}
			if notes == 0 {
				t.Error("no TLS note")
			}
		})
	}
}

func flowOf(t *testing.T, dir, keys string) *sequence.Flow {
	t.Helper()
	args := []string{"analyze", "-f", "json"}
	if keys != "" {
		args = append(args, "--tls-keylog", keys)
	}
	args = append(args, filepath.Join(dir, "ens.pcap.gz"), filepath.Join(dir, "lo.pcap.gz"))
	out, stderr, code := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var f sequence.Flow
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// selfAuth returns the seqs of glance's own authentication (its GET / and
// token request to keystone) and of everything serving or answering them.
func selfAuth(f *sequence.Flow) map[int]bool {
	role := roles(f)
	s := map[int]bool{}
	for _, m := range f.Messages {
		if role[m.From] == sequence.RoleGlance && role[m.To] == sequence.RoleKeystone && m.Method != "" &&
			(m.Target == "/" || m.Kind == sequence.KindTokenIssue) {
			s[m.Seq] = true
		}
	}
	for _, m := range f.Messages {
		if s[m.Cause] || s[m.ReplyTo] {
			s[m.Seq] = true
		}
	}
	return s
}

func roles(f *sequence.Flow) map[string]string {
	r := map[string]string{}
	for _, p := range f.Participants {
		r[p.ID] = p.Role
	}
	return r
}

var idPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{32}`)

// shape lists the messages of a flow without what differs between two
// recordings of the same scenario: proxy hops are collapsed (the front
// request and answer dropped, the backend's carry the front caller),
// connection resets of the proxy (HAProxy closes its connections its own
// way) and database logins (whether a pooled connection was open) are
// dropped, and so are file reads (traced in the plain lab only).
func shape(f *sequence.Flow, skip map[int]bool) []string {
	role := roles(f)
	bySeq := map[int]*sequence.Message{}
	for _, m := range f.Messages {
		bySeq[m.Seq] = m
	}
	var out []string
	for _, m := range f.Messages {
		from, to := role[m.From], role[m.To]
		switch {
		case skip[m.Seq], strings.HasPrefix(string(m.Kind), "file."), m.Kind == sequence.KindMySQLLogin:
			continue
		case from == sequence.RoleProxy || to == sequence.RoleProxy:
			if strings.HasPrefix(string(m.Kind), "tcp.") {
				continue
			}
			req := bySeq[m.ReplyTo]
			if m.ReplyTo == 0 && to == sequence.RoleProxy {
				continue // the front request
			}
			if req != nil && from == sequence.RoleProxy && role[req.From] != sequence.RoleProxy {
				continue // the front answer
			}
			if from == sequence.RoleProxy {
				from = role[bySeq[m.Cause].From]
			}
			if to == sequence.RoleProxy {
				to = role[bySeq[req.Cause].From]
			}
		}
		hit := ""
		if m.Hit != nil {
			hit = fmt.Sprint(*m.Hit)
		}
		out = append(out, fmt.Sprintf("%s %s→%s %s %s %d %s", m.Kind, from, to, m.Method, idPattern.ReplaceAllString(m.Target, "ID"), m.Status, hit))
	}
	return out
}
