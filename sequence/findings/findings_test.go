package findings

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// flowBuilder writes synthetic flows: a client C, keystone K and its
// database KD, glance G and its database GD, memcached M.
type flowBuilder struct {
	flow  *sequence.Flow
	seq   int
	frame int
}

func newFlow(withCache bool) *flowBuilder {
	f := &sequence.Flow{Participants: []*sequence.Participant{
		{ID: "C", Name: "OpenStackClient", Role: sequence.RoleClient, Endpoints: []string{"198.18.0.100"}},
		{ID: "K", Name: "keystone", Role: sequence.RoleKeystone, Endpoints: []string{"198.18.0.11:5000"}},
		{ID: "KD", Name: "keystone DB", Role: sequence.RoleMySQL, Endpoints: []string{"127.0.0.1:3306"}},
		{ID: "G", Name: "glance", Role: sequence.RoleGlance, Endpoints: []string{"198.18.0.11:9292"}},
		{ID: "GD", Name: "glance DB", Role: sequence.RoleMySQL, Endpoints: []string{"127.0.0.1:3306"}},
	}}
	if withCache {
		f.Participants = append(f.Participants, &sequence.Participant{ID: "M", Name: "memcached", Role: sequence.RoleMemcached, Endpoints: []string{"127.0.0.1", "127.0.0.1:11211"}})
	}
	return &flowBuilder{flow: f}
}

// msg adds a message at ms milliseconds.
func (b *flowBuilder) msg(ms int, from, to string, kind sequence.Kind, set func(m *sequence.Message)) *sequence.Message {
	b.seq++
	b.frame++
	m := &sequence.Message{Seq: b.seq, Time: t0.Add(time.Duration(ms) * time.Millisecond), From: from, To: to, Kind: kind,
		Frames: []sequence.Frame{{File: "lo.pcap", Number: b.frame}}}
	if set != nil {
		set(m)
	}
	b.flow.Messages = append(b.flow.Messages, m)
	return m
}

// answer adds the answer to req, took ms after it.
func (b *flowBuilder) answer(req *sequence.Message, took int, kind sequence.Kind, status int, set func(m *sequence.Message)) *sequence.Message {
	at := int(req.Time.Sub(t0)/time.Millisecond) + took
	return b.msg(at, req.To, req.From, kind, func(m *sequence.Message) {
		m.ReplyTo, m.Cause, m.Status, m.Response = req.Seq, req.Cause, status, true
		m.Duration = time.Duration(took) * time.Millisecond
		if set != nil {
			set(m)
		}
	})
}

// issue adds a token request from who and keystone's answer; status 201
// issues token, expiring at expires (ms).
func (b *flowBuilder) issue(at, took int, who string, cause int, status int, token string, expires int) (*sequence.Message, *sequence.Message) {
	req := b.msg(at, who, "K", sequence.KindTokenIssue, func(m *sequence.Message) { m.Method, m.Target, m.Cause = "POST", "/v3/auth/tokens", cause })
	b.queries(at+1, took-2, "K", "KD", req.Seq, 110)
	kind := sequence.KindTokenIssued
	if status >= 400 {
		kind = sequence.KindTokenDenied
	}
	ans := b.answer(req, took, kind, status, func(m *sequence.Message) {
		if status < 300 {
			m.Token = token
			m.Expires = t0.Add(time.Duration(expires) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
		}
	})
	return req, ans
}

// queries adds a summed-up run of n statements and its result.
func (b *flowBuilder) queries(at, took int, from, to string, cause, n int) {
	q := b.msg(at, from, to, sequence.KindMySQLQuery, func(m *sequence.Message) { m.Cause, m.Count = cause, n })
	rows := 10
	b.answer(q, took, sequence.KindMySQLResult, 0, func(m *sequence.Message) { m.Cause, m.Rows = cause, &rows })
}

// request adds a client request to glance with token, answered status
// after took ms; serve adds what glance did meanwhile.
func (b *flowBuilder) request(at, took int, token string, status int, serve func(req *sequence.Message)) *sequence.Message {
	req := b.msg(at, "C", "G", "glance.image.list", func(m *sequence.Message) { m.Method, m.Target, m.Token = "GET", "/v2/images", token })
	if serve != nil {
		serve(req)
	}
	b.answer(req, took, "http.response", status, nil)
	return req
}

// lookup adds a cache get of token and its answer.
func (b *flowBuilder) lookup(at int, cause int, token string, hit bool) {
	key := "tokens/" + strings.Repeat(token, 6)[:64]
	g := b.msg(at, "G", "M", sequence.KindMemcachedGet, func(m *sequence.Message) { m.Cause, m.Key, m.Token = cause, key, token })
	b.answer(g, 1, sequence.KindMemcachedResult, 0, func(m *sequence.Message) { m.Cause, m.Key, m.Token, m.Hit = cause, key, token, &hit })
}

// store adds a cache set of token and its answer.
func (b *flowBuilder) store(at int, cause int, token string, stored bool, errText string) {
	key := "tokens/" + strings.Repeat(token, 6)[:64]
	s := b.msg(at, "G", "M", sequence.KindMemcachedSet, func(m *sequence.Message) { m.Cause, m.Key, m.Token = cause, key, token })
	b.answer(s, 1, sequence.KindMemcachedResult, 0, func(m *sequence.Message) {
		m.Cause, m.Key, m.Token, m.Stored, m.Error = cause, key, token, &stored, errText
	})
}

// validate adds glance's validation of token with its own service token;
// status 200 (valid) or 404 (invalid).
func (b *flowBuilder) validate(at, took int, cause int, token, service string, status int, queries int) {
	v := b.msg(at, "G", "K", sequence.KindTokenValidate, func(m *sequence.Message) {
		m.Method, m.Target, m.Cause, m.Token, m.AuthToken = "GET", "/v3/auth/tokens", cause, token, service
	})
	b.queries(at+1, took-2, "K", "KD", v.Seq, queries)
	kind := sequence.KindTokenValid
	if status >= 400 {
		kind = sequence.KindTokenInvalid
	}
	b.answer(v, took, kind, status, func(m *sequence.Message) {
		m.Cause = cause
		if status < 300 {
			m.Token = token
		}
	})
}

func kindsOf(fs []sequence.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind+"/"+f.Severity)
	}
	slices.Sort(out)
	return out
}

// TestSynthetic covers what the recorded scenarios do not show.
func TestSynthetic(t *testing.T) {
	const hour = 3600_000
	tests := []struct {
		name  string
		build func(b *flowBuilder)
		opts  Options
		// want are "kind/severity" of the findings, sorted.
		want  []string
		check func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding)
	}{
		{
			name: "expired token accepted from cache",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", 10_000)
				b.request(1000, 300, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(1001, r.Seq, "aaaa11112222", false)
					b.validate(1005, 150, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 40)
					b.store(1200, r.Seq, "aaaa11112222", true, "")
				})
				b.request(20_000, 20, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(20_001, r.Seq, "aaaa11112222", true)
				})
			},
			want: []string{"cache-hit/info", "cache-unprotected/warning", "token-used-after-expiry/error"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				f := fs[KindExpiredTokenUsed]
				k := citedKinds(t, flow, f)
				if f.Count != 1 || k["glance.image.list"] != 1 || k["http.response"] != 1 || k[sequence.KindMemcachedResult] != 1 {
					t.Errorf("expiry: count %d, cites %v; want the late request, its hit and its 200", f.Count, k)
				}
			},
		},
		{
			name: "expired token refused",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", 10_000)
				b.request(20_000, 200, "aaaa11112222", 401, func(r *sequence.Message) {
					b.lookup(20_001, r.Seq, "aaaa11112222", false)
					b.validate(20_005, 150, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 404, 40)
				})
			},
			want: []string{"auth-failures/warning", "token-used-after-expiry/info"},
		},
		{
			name: "burst of password failures",
			build: func(b *flowBuilder) {
				for i := range 6 {
					b.issue(i*5000, 300, "C", 0, 401, "", 0)
				}
			},
			want: []string{"auth-failure-burst/warning", "auth-failures/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				if f := fs[KindAuthFailureBurst]; f.Count != 6 || citedKinds(t, flow, f)[sequence.KindTokenDenied] != 6 {
					t.Errorf("burst: count %d, want 6 denials cited", f.Count)
				}
				if f := fs[KindAuthFailures]; f.Count != 6 {
					t.Errorf("auth-failures: count %d, want 6", f.Count)
				}
			},
		},
		{
			name: "failures spread out are no burst",
			build: func(b *flowBuilder) {
				for i := range 6 {
					b.issue(i*120_000, 300, "C", 0, 401, "", 0)
				}
			},
			want: []string{"auth-failures/warning"},
		},
		{
			name: "burst threshold from options",
			build: func(b *flowBuilder) {
				for i := range 3 {
					b.issue(i*1000, 300, "C", 0, 403, "", 0)
				}
			},
			opts: Options{BurstCount: 3, BurstWindow: 5 * time.Second},
			want: []string{"auth-failure-burst/warning", "auth-failures/warning"},
		},
		{
			name: "service credentials refused",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 400, "aaaa11112222", 503, func(r *sequence.Message) {
					b.lookup(1001, r.Seq, "aaaa11112222", false)
					b.issue(1005, 300, "G", r.Seq, 401, "", 0)
				})
			},
			want: []string{"auth-failures/error"},
		},
		{
			name: "slow validation",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 2000, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(1001, r.Seq, "aaaa11112222", false)
					b.validate(1005, 1800, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
					b.store(2900, r.Seq, "aaaa11112222", true, "")
				})
			},
			want: []string{"cache-unprotected/warning", "slow-validation/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				f := fs[KindSlowValidation]
				k := citedKinds(t, flow, f)
				if f.Count != 1 || k[sequence.KindTokenValidate] != 1 || k[sequence.KindTokenValid] != 1 || k[sequence.KindMySQLQuery] != 1 || k[sequence.KindMySQLResult] != 1 {
					t.Errorf("slow-validation: count %d, cites %v; want the validation, its answer and keystone's queries", f.Count, k)
				}
				if !strings.Contains(f.Summary, "1.8 s") || !strings.Contains(f.Summary, "60 DB queries") {
					t.Errorf("slow-validation summary %q: want the time and the queries", f.Summary)
				}
			},
		},
		{
			name: "slow threshold from options",
			build: func(b *flowBuilder) {
				b.issue(0, 1500, "C", 0, 201, "aaaa11112222", hour)
			},
			opts: Options{SlowThreshold: 2 * time.Second},
			want: nil,
		},
		{
			name: "slow issue",
			build: func(b *flowBuilder) {
				b.issue(0, 1500, "C", 0, 201, "aaaa11112222", hour)
			},
			want: []string{"slow-token-issue/warning"},
		},
		{
			// A port probe by a program that is no service was an error
			// blaming "OpenStackClient 127.0.0.1" and its config file,
			// ranked above glance's outage: findings blame services only,
			// and a peer refused is at most info.
			name: "a peer refused by the cache is info, the service's outage comes first",
			build: func(b *flowBuilder) {
				b.flow.Participants = append(b.flow.Participants, &sequence.Participant{ID: "P", Name: "127.0.0.1:51234", Role: sequence.RolePeer, Endpoints: []string{"127.0.0.1"}})
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 500, "aaaa11112222", 200, func(r *sequence.Message) {
					b.msg(1001, "G", "M", sequence.KindTCPRefused, func(m *sequence.Message) { m.Cause = r.Seq })
					b.validate(1005, 200, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
				})
				b.msg(3000, "P", "M", sequence.KindTCPRefused, nil)
				b.request(5000, 50, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(5001, r.Seq, "aaaa11112222", true)
				})
			},
			// glance's outage cost a validation: an error, though the
			// cache came back (it was a warning, ranked below the probe).
			want: []string{"cache-hit/info", "cache-unreachable/error", "cache-unreachable/info"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				all := Analyze(flow, Options{ManyQueries: 1000})
				var unreachable []sequence.Finding
				for _, f := range all {
					if f.Kind == KindCacheUnreachable {
						unreachable = append(unreachable, f)
					}
				}
				if len(unreachable) != 2 || !strings.HasPrefix(unreachable[0].Summary, "glance ") || unreachable[1].Severity != SeverityInfo {
					t.Fatalf("want glance's outage first, then the peer's as info: %+v", unreachable)
				}
				peer := unreachable[1]
				for _, bad := range []string{"OpenStackClient", ".conf", "keystone_authtoken", "validated"} {
					if strings.Contains(peer.Summary+peer.Detail, bad) {
						t.Errorf("the peer's finding mentions %q: %s %s", bad, peer.Summary, peer.Detail)
					}
				}
				if !strings.Contains(peer.Summary, "127.0.0.1:51234") {
					t.Errorf("the peer is not named: %s", peer.Summary)
				}
			},
		},
		{
			// A host alias labels a service ("nova (controller)"); its
			// configuration file is still nova's.
			name: "an aliased service's config file",
			build: func(b *flowBuilder) {
				b.flow.Participants[3] = &sequence.Participant{ID: "G", Name: "nova (controller)", Role: sequence.RoleService, Endpoints: []string{"198.18.0.11:8774"}}
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				for i := range 3 {
					at := 1000 + i*2000
					tok := fmt.Sprintf("bbbb%08d", i)
					user := fmt.Sprintf("cccc%08d", i)
					b.request(at, 900, user, 200, func(r *sequence.Message) {
						b.lookup(at+1, r.Seq, user, false)
						b.issue(at+5, 300, "G", r.Seq, 201, tok, hour)
						b.validate(at+400, 200, r.Seq, user, tok, 200, 60)
					})
				}
			},
			want: []string{"cache-never-hit/info", "service-reauth-every-request/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				if d := fs[KindServiceReauth].Detail; !strings.Contains(d, " nova.conf") {
					t.Errorf("want nova.conf: %s", d)
				}
			},
		},
		{
			// A policy refusal is no failed authentication: the user was
			// authenticated (the lab's policy-403).
			name: "403s are refusals, not failed authentications",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 50, "aaaa11112222", 403, nil)
				b.request(2000, 50, "aaaa11112222", 403, nil)
			},
			opts: Options{SlowThreshold: -1},
			want: []string{"auth-failures/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				if s := fs[KindAuthFailures].Summary; s != "2 requests were refused: 2 forbidden (403)" {
					t.Errorf("summary %q", s)
				}
			},
		},
		{
			// The detail listed the first five slow issues; it lists the
			// five slowest, slowest first, and counts the rest.
			name: "slow issues: the slowest are listed",
			build: func(b *flowBuilder) {
				for i, took := range []int{1100, 1200, 1300, 1400, 1500, 1600, 3000, 2500} {
					b.issue(i*5000, took, "C", 0, 201, fmt.Sprintf("aaaa%08d", i), i*5000+4500) // each expired before the next
				}
			},
			want: []string{"slow-token-issue/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				f := fs[KindSlowTokenIssue]
				if f.Count != 8 {
					t.Errorf("count %d, want 8", f.Count)
				}
				// Issues are seq 1, 5, 9, …: the slowest are 25 (3 s), 29
				// (2.5 s), 21, 17, 13; 1, 5 and 9 are left out.
				var order []string
				for _, part := range strings.Split(f.Detail, "; ") {
					if seq, _, ok := strings.Cut(part, " ("); ok && strings.HasPrefix(seq, "seq ") {
						order = append(order, seq)
					}
				}
				want := []string{"seq 25", "seq 29", "seq 21", "seq 17", "seq 13"}
				if !slices.Equal(order, want) || !strings.Contains(f.Detail, "3 more") {
					t.Errorf("detail lists %v, want %v and 3 more:\n%s", order, want, f.Detail)
				}
			},
		},
		{
			name: "service re-authenticates for every request",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				for i := range 3 {
					at := 1000 + i*2000
					tok := fmt.Sprintf("bbbb%08d", i)
					user := fmt.Sprintf("cccc%08d", i)
					b.request(at, 900, user, 200, func(r *sequence.Message) {
						b.lookup(at+1, r.Seq, user, false)
						b.issue(at+5, 300, "G", r.Seq, 201, tok, hour)
						b.validate(at+400, 200, r.Seq, user, tok, 200, 60)
					})
				}
			},
			want: []string{"cache-never-hit/info", "service-reauth-every-request/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				f := fs[KindServiceReauth]
				if k := citedKinds(t, flow, f); f.Count != 3 || k[sequence.KindTokenIssue] != 3 || k[sequence.KindTokenValidate] != 3 {
					t.Errorf("service-reauth: count %d, cites %v", f.Count, k)
				}
			},
		},
		{
			name: "cache misses an entry stored before",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				for i := range 2 {
					at := 1000 + i*10_000
					b.request(at, 500, "aaaa11112222", 200, func(r *sequence.Message) {
						b.lookup(at+1, r.Seq, "aaaa11112222", false)
						b.validate(at+5, 200, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
						b.store(at+300, r.Seq, "aaaa11112222", true, "")
					})
				}
			},
			want: []string{"cache-miss-after-store/warning", "cache-never-hit/warning", "cache-unprotected/warning", "token-validated-repeatedly/warning"},
			check: func(t *testing.T, flow *sequence.Flow, fs map[string]sequence.Finding) {
				f := fs[KindCacheMissAfterStore]
				if k := citedKinds(t, flow, f); f.Count != 1 || k[sequence.KindMemcachedSet] != 1 || k[sequence.KindMemcachedGet] != 1 || k[sequence.KindMemcachedResult] != 2 {
					t.Errorf("miss-after-store: count %d, cites %v; want the store and the later miss", f.Count, k)
				}
				if f := fs[KindTokenRevalidated]; f.Count != 2 {
					t.Errorf("revalidated: count %d, want 2", f.Count)
				}
			},
		},
		{
			name: "no cache traffic at all",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				for i := range 2 {
					at := 1000 + i*10_000
					b.request(at, 500, "aaaa11112222", 200, func(r *sequence.Message) {
						b.validate(at+5, 200, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
					})
				}
			},
			want: []string{"cache-not-seen/info", "token-validated-repeatedly/warning"},
		},
		{
			name: "cache refuses to store",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 500, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(1001, r.Seq, "aaaa11112222", false)
					b.validate(1005, 200, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
					b.store(1300, r.Seq, "aaaa11112222", false, "SERVER_ERROR out of memory storing object")
				})
			},
			want: []string{"cache-errors/warning", "cache-unprotected/warning"},
		},
		{
			name: "many queries threshold from options",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				b.request(1000, 500, "aaaa11112222", 200, func(r *sequence.Message) {
					b.queries(1010, 30, "G", "GD", r.Seq, 16)
				})
			},
			opts: Options{ManyQueries: 16},
			want: []string{"many-queries/info", "many-queries/info"},
		},
		{
			name: "revoked token validated by keystone",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				rv := b.msg(500, "C", "K", sequence.KindTokenRevoke, func(m *sequence.Message) { m.Token = "aaaa11112222" })
				b.answer(rv, 100, "http.response", 204, nil)
				b.request(1000, 500, "aaaa11112222", 200, func(r *sequence.Message) {
					b.validate(1005, 200, r.Seq, "aaaa11112222", "5e5e5e5e5e5e", 200, 60)
				})
			},
			want: []string{"cache-not-seen/info", "token-used-after-revocation/error"},
		},
		{
			name: "failed revocation revokes nothing",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				rv := b.msg(500, "C", "K", sequence.KindTokenRevoke, func(m *sequence.Message) { m.Token = "aaaa11112222" })
				b.answer(rv, 100, "http.response", 403, nil)
				b.request(1000, 50, "aaaa11112222", 200, func(r *sequence.Message) {
					b.lookup(1001, r.Seq, "aaaa11112222", true)
				})
			},
			want: []string{"auth-failures/warning", "cache-hit/info"},
		},
		{
			name: "client reusing its token is fine",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", hour)
				for i := range 3 {
					b.request(1000+i*1000, 50, "aaaa11112222", 200, func(r *sequence.Message) {
						b.lookup(1001+i*1000, r.Seq, "aaaa11112222", i > 0)
					})
				}
			},
			want: []string{"cache-hit/info"},
		},
		{
			name: "new token after expiry is no re-authentication",
			build: func(b *flowBuilder) {
				b.issue(0, 200, "C", 0, 201, "aaaa11112222", 5000)
				b.issue(10_000, 200, "C", 0, 201, "dddd11112222", hour)
			},
			want: nil,
		},
		{
			name: "disabled by options",
			build: func(b *flowBuilder) {
				for i := range 6 {
					b.issue(i*1000, 1500, "C", 0, 401, "", 0)
				}
			},
			opts: Options{SlowThreshold: -1, ManyQueries: -1, BurstCount: -1},
			want: []string{"auth-failures/warning"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFlow(!strings.Contains(tt.name, "no cache") && !strings.Contains(tt.name, "validated by keystone"))
			tt.build(b)
			opts := tt.opts
			if opts.ManyQueries == 0 {
				opts.ManyQueries = 1000 // keep keystone's query runs out of the way
			}
			fs := Analyze(b.flow, opts)
			checkInvariants(t, b.flow, fs, true)
			if got := kindsOf(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				got := map[string]sequence.Finding{}
				for _, f := range fs {
					got[f.Kind] = f
				}
				tt.check(t, b.flow, got)
			}
		})
	}
}

// TestOddFlows: flows missing parts never make Analyze fail.
func TestOddFlows(t *testing.T) {
	hit := true
	flows := map[string]*sequence.Flow{
		"nil":   nil,
		"empty": {},
		"nils":  {Participants: []*sequence.Participant{nil}, Messages: []*sequence.Message{nil}},
		"answers without requests": {Messages: []*sequence.Message{
			{Seq: 1, Kind: sequence.KindTokenValid, ReplyTo: 9, Status: 200, Token: "x"},
			{Seq: 2, Kind: sequence.KindMemcachedResult, ReplyTo: 8, Hit: &hit, From: "M", To: "G"},
			{Seq: 3, Kind: sequence.KindTokenInvalid, ReplyTo: 3, Cause: 3, Status: 404},
			{Seq: 4, Kind: sequence.KindTCPRefused, From: "G", To: "M"},
			{Seq: 5, Kind: sequence.KindTCPReset, From: "M", To: "G"},
		}, Participants: []*sequence.Participant{{ID: "M", Role: sequence.RoleMemcached}}},
		"requests without answers": {Messages: []*sequence.Message{
			{Seq: 1, Kind: sequence.KindTokenIssue, From: "C", To: "K"},
			{Seq: 2, Kind: sequence.KindTokenValidate, From: "G", To: "K", Token: "t"},
			{Seq: 3, Kind: sequence.KindTokenRevoke, From: "C", To: "K", Token: "t"},
			{Seq: 4, Kind: "glance.image.list", From: "C", To: "G", Token: "t"},
			{Seq: 5, Kind: sequence.KindMySQLQuery, From: "K", To: "KD", Count: 500},
		}, Participants: []*sequence.Participant{
			{ID: "C", Role: sequence.RoleClient}, {ID: "G", Role: sequence.RoleGlance},
			{ID: "K", Role: sequence.RoleKeystone}, {ID: "KD", Role: sequence.RoleMySQL},
		}},
		"bad expiry": {Messages: []*sequence.Message{
			{Seq: 1, Kind: sequence.KindTokenIssued, Token: "t", Expires: "soon", ReplyTo: 1},
		}},
	}
	for name, flow := range flows {
		t.Run(name, func(t *testing.T) {
			fs := Analyze(flow, Options{})
			if flow != nil {
				checkInvariants(t, flow, fs, false)
			}
			if err := Write(&strings.Builder{}, fs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	a := newAnalysis(&sequence.Flow{Participants: []*sequence.Participant{
		{ID: "A", Endpoints: []string{"::1", "[::1]:11211"}},
		{ID: "B", Endpoints: []string{"127.0.0.1", "cache.example:11211"}},
		{ID: "C", Endpoints: []string{"127.0.0.1"}},
	}}, Options{}.withDefaults())
	for id, want := range map[string]string{"A": "[::1]:11211", "B": "cache.example:11211", "C": "", "D": ""} {
		if got := a.endpoint(id); got != want {
			t.Errorf("endpoint(%s) = %q, want %q", id, got, want)
		}
	}
}

func TestParseExpires(t *testing.T) {
	for _, s := range []string{"2026-11-22T13:32:31.000000Z", "2026-11-22T13:32:31Z", "2026-11-22T13:32:31.000000", "2026-11-22T14:32:31+01:00"} {
		got, ok := parseExpires(s)
		if !ok || !got.Equal(time.Date(2026, 11, 22, 13, 32, 31, 0, time.UTC)) {
			t.Errorf("parseExpires(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := parseExpires("tomorrow"); ok {
		t.Error("parseExpires accepted tomorrow")
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		4200 * time.Microsecond:    "4.2 ms",
		376 * time.Millisecond:     "376 ms",
		1003773 * time.Microsecond: "1.004 s",
		time.Second:                "1 s",
		300 * time.Second:          "300 s",
	} {
		if got := dur(d); got != want {
			t.Errorf("dur(%v) = %q, want %q", d, got, want)
		}
	}
}

// Two users taking turns on one client host each keep their token: that
// is not re-authenticating per command; the same user getting a second
// token while the first is valid is.
func TestClientReauthByIdentity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users [3]string
		flags bool
	}{
		{"two users in turn", [3]string{"admin@Default", "demo@Default", "admin@Default"}, true},
		{"one user, two users' tokens interleaved", [3]string{"admin@Default", "demo@Default", "demo@Default"}, true},
		{"two users, once each", [3]string{"admin@Default", "demo@Default", "alt@Default"}, false},
	} {
		b := newFlow(false)
		for i, u := range tc.users {
			req, _ := b.issue(i*1000, 100, "C", 0, 201, fmt.Sprintf("tok%d", i), 3600_000)
			req.User, req.Scope = u, "project admin@Default"
		}
		got := slices.Contains(kindsOf(Analyze(b.flow, Options{})), KindClientReauth+"/"+SeverityWarning)
		if got != tc.flags {
			t.Errorf("%s: client-reauth reported %v, want %v", tc.name, got, tc.flags)
		}
	}
}
