package findings

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

// TestTexts writes every text of the findings over combinations of facts
// that take every branch, in every language, and checks that each language
// has every text and every text takes its arguments (no "%!" from fmt).
// With AUTHFLOW_TEXTS=FILE it also writes them there, to compare two
// versions byte for byte.
func TestTexts(t *testing.T) {
	if m := texts.Missing(); len(m) > 0 {
		t.Errorf("texts missing a language: %v", m)
	}
	var b strings.Builder
	emit := func(name string, s, d string) { fmt.Fprintf(&b, "== %s\n%s\n%s\n", name, s, d) }
	ns := []int{0, 1, 2, 7}
	bs := []bool{false, true}
	tok := []string{"aaaa11112222", "bbbb33334444", "cccc55556666", "dddd77778888", "eeee99990000", "ffff12121212"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, l := range []lang{langEN, langZH} {
		emit("list", list(l, tok, 4), list(l, tok, 6)+list(l, nil, 3)+list(l, tok[:1], 1))
		for _, n := range ns {
			for _, m := range ns {
				for _, b1 := range bs {
					for _, b2 := range bs {
						cf := cacheFailureFacts{Service: "glance", Cache: "memcached", Endpoint: "", Refused: n, Resets: m, Validations: m, Queries: 40, Recovered: b1, Config: "glance-api.conf"}
						if b2 {
							cf.Endpoint = "127.0.0.1:11211"
						}
						s, d := peerCacheFailureFacts{Peer: "127.0.0.1:5555", Cache: "memcached", Endpoint: cf.Endpoint, Refused: n, Resets: m}.text(l)
						emit("peer", s, d)
						s, d = cf.unreachable(l)
						emit("unreachable", s, d)
						s, d = cf.reset(l)
						emit("reset", s, d)
						first := ""
						if b1 {
							first = "SERVER_ERROR out of memory"
						}
						s, d = cacheErrorFacts{Service: "glance", Cache: "memcached", Count: n, First: first}.text(l)
						emit("errors", s, d)
						s, d = cacheHitFacts{Service: "glance", Cache: "memcached", Hits: n, Lookups: m, Tokens: tok[:n%6]}.text(l)
						emit("hit", s, d)
						s, d = cacheNeverHitFacts{Service: "glance", Cache: "memcached", Lookups: n, Stores: m, AllNew: b1, ClientReauth: b2}.text(l)
						emit("neverhit", s, d)
						s, d = missAfterStoreFacts{Service: "glance", Count: n, Token: "aaaa11112222", Age: time.Duration(m) * time.Second, CacheTime: 300 * time.Second}.text(l)
						emit("miss", s, d)
						s, d = protectedFacts{Service: "glance", Cache: "memcached", Keys: n, BytesRepr: b1}.text(l)
						emit("protected", s, d)
						s, d = unprotectedFacts{Service: "glance", Cache: "memcached", Endpoint: cf.Endpoint, Entries: n, Config: "glance-api.conf"}.text(l)
						emit("unprotected", s, d)
						s, d = notSeenFacts{Service: "glance", Validations: n, Config: "glance-api.conf"}.text(l)
						emit("notseen", s, d)
						sa := serviceAuthFacts{Service: "glance", Issues: n, IssueTime: time.Duration(m) * 37 * time.Millisecond, Queries: 80, Tokens: tok[:m%6+1], Preexisting: m, Validations: n + 1, Config: "glance-api.conf"}
						s, d = sa.text(l)
						emit("serviceauth", s, d)
						s, d = sa.reauth(l)
						emit("reauth", s, d)
						s, d = clientReauthFacts{Client: "OpenStackClient", Tokens: tok[:n%6+1], Uses: []int{1, 2, 3, 4, 5, 6, 7}[:m%7], Span: time.Duration(n) * time.Second, IssueTime: time.Duration(m) * time.Second, Queries: 99}.text(l)
						emit("clientreauth", s, d)
						s, d = revalidatedFacts{Token: "aaaa11112222", Count: n, Span: time.Duration(m) * time.Second, Services: []string{"glance", "nova", "cinder", "swift"}[:m%4]}.text(l)
						emit("revalidated", s, d)
						var items []slowItem
						for i := 0; i < n; i++ {
							items = append(items, slowItem{Seq: i + 3, Who: "glance", Token: tok[i%6][:12*(i%2)], Took: time.Duration(i*97+m*13+200) * time.Millisecond, Status: 200, Queries: 40 + i, Rows: 3, DBBusy: time.Duration(i*50+m*40) * time.Millisecond, Exact: b1 != (i%2 == 0), NewConn: b2 && i == 0})
						}
						if len(items) > 0 {
							s, d = slowFacts{Issue: b1, Items: items, Threshold: time.Second}.text(l)
							emit("slow", s, d)
							s, d = slowFacts{Issue: !b1, Items: items, Threshold: time.Second}.text(l)
							emit("slow2", s, d)
						}
						var steps []queryStep
						kinds := []sequence.Kind{sequence.KindTokenValidate, sequence.KindTokenIssue, sequence.KindTokenRevoke, "glance.image.list", "x"}
						for i := 0; i < n+1; i++ {
							req := "GET /v2/images"
							if i%2 == 1 {
								req = " "
							}
							steps = append(steps, queryStep{Seq: i + 1, Kind: kinds[(i+m)%5], Request: req, Queries: 30 + i*m})
						}
						s, d = manyQueriesFacts{Service: "keystone", IsKeystone: b1, Threshold: 30, Steps: steps}.text(l)
						emit("many", s, d)
						var c byCategory
						for i := range c {
							c[i] = (n + i*m) % 3
						}
						s, d = authFailureFacts{Count: n, Span: time.Second, ByCategory: c}.text(l)
						emit("authfail", s, d)
						s, d = burstFacts{Count: n, Span: time.Duration(m) * time.Second, Window: time.Minute, ByCategory: c}.text(l)
						emit("burst", s, d)
						tu := tokenUseFacts{Token: "aaaa11112222", Uses: n, Accepted: m % 2 * n, Status: 200, Delay: time.Duration(m) * time.Second, Service: "glance", FromCache: b1, Validated: b2, At: at, CacheTime: 300 * time.Second}
						if n == 2 {
							tu.CacheUntil = at.Add(time.Minute)
						}
						s, d = tu.revoked(l)
						emit("revoked", s, d)
						s, d = tu.expired(l)
						emit("expired", s, d)
					}
				}
			}
		}
	}
	if i := strings.Index(b.String(), "%!"); i >= 0 {
		t.Errorf("a text does not take its arguments: %q", b.String()[max(i-200, 0):min(i+100, b.Len())])
	}
	if out := os.Getenv("AUTHFLOW_TEXTS"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
