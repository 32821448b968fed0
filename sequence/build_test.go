package sequence

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/openstack"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// script builds events of synthetic exchanges.
type script struct {
	evs    []*event.Event
	nextID uint64
	frame  int
}

func (s *script) conn(client, server string) *event.Conn {
	s.nextID++
	return &event.Conn{ID: s.nextID, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server)}
}

func (s *script) at(ms int) event.Position {
	s.frame++
	return event.Position{Time: t0.Add(time.Duration(ms) * time.Millisecond), Frame: event.FrameRef{Number: s.frame}}
}

// http adds a request at start ms and its response at end ms.
func (s *script) http(c *event.Conn, start, end int, method, target string, status int, hdr map[string]string, respHdr map[string]string, body string) *event.Event {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	req := &event.Event{Kind: event.HTTPRequest, Start: s.at(start), Conn: c, Data: &httpdec.Request{Method: method, Target: target, Message: httpdec.Message{Header: h, Complete: true}}}
	req.End = req.Start.Time
	rh := http.Header{}
	for k, v := range respHdr {
		rh.Set(k, v)
	}
	resp := &event.Event{Kind: event.HTTPResponse, Start: s.at(end), Conn: c, FromServer: true,
		Data: &httpdec.Response{Status: status, Request: req, Message: httpdec.Message{Header: rh, Body: []byte(body), BodyLen: int64(len(body)), Complete: true}}}
	resp.End = resp.Start.Time
	s.evs = append(s.evs, req, resp)
	return req
}

func (s *script) get(c *event.Conn, seq uint64, start int, key string, hit bool) {
	cmd := &event.Event{Kind: event.MemcacheCommand, Start: s.at(start), Conn: c, Data: &memcached.Command{Seq: seq, Op: "get", Keys: []string{key}}}
	r := &memcached.Reply{Seq: seq, Op: "get", Keys: []string{key}, Status: "END", Results: []memcached.KeyResult{{Key: key, Hit: hit}}}
	if hit {
		r.Hits = 1
		r.Items = []memcached.Item{{Key: key, Len: 1986}}
	} else {
		r.Misses = 1
	}
	reply := &event.Event{Kind: event.MemcacheReply, Start: s.at(start + 1), Conn: c, FromServer: true, Data: r}
	cmd.End, reply.End = cmd.Start.Time, reply.Start.Time
	s.evs = append(s.evs, cmd, reply)
}

func find(f *Flow, pred func(*Message) bool) *Message {
	for _, m := range f.Messages {
		if pred(m) {
			return m
		}
	}
	return nil
}

func name(f *Flow, id string) string {
	if p := f.Participant(id); p != nil {
		return p.Name
	}
	return "?" + id
}

// A service calling another with the user's token (nova → glance) is
// stitched to the request it serves, and named by its port.
func TestServiceToServiceWithUserToken(t *testing.T) {
	var s script
	userTok := "gAAAAABuser"
	nova := s.conn("10.0.0.100:40000", "10.0.0.11:8774")
	s.http(nova, 0, 900, "POST", "/v2.1/servers", 202, map[string]string{"X-Auth-Token": userTok}, nil, "")
	glance := s.conn("10.0.0.11:50000", "10.0.0.12:9292")
	s.http(glance, 100, 200, "GET", "/v2/images/abc", 200, map[string]string{"X-Auth-Token": userTok, "User-Agent": "python-glanceclient"}, nil, `{"id":"abc"}`)
	f := Build(s.evs, Options{})
	g := find(f, func(m *Message) bool { return m.Kind == openstack.ImageShow })
	n := find(f, func(m *Message) bool { return m.Target == "/v2.1/servers" })
	if g == nil || n == nil {
		t.Fatalf("messages missing: %+v", f.Messages)
	}
	if name(f, g.From) != "nova" || name(f, g.To) != "glance" || name(f, n.From) != "OpenStackClient" {
		t.Errorf("participants: %s → %s, %s → nova", name(f, g.From), name(f, g.To), name(f, n.From))
	}
	if g.Cause != n.Seq {
		t.Errorf("glance call cause %d, want the nova request %d", g.Cause, n.Seq)
	}
	if g.Token != openstack.Fingerprint(userTok) {
		t.Errorf("token %q", g.Token)
	}
}

// Two users' requests served at once by glance: each cache lookup and
// validation is tied to the request whose token it concerns, whatever the
// order in time.
func TestConcurrentRequestsStitchedByToken(t *testing.T) {
	var s script
	a, b := "gAAAAABaaaa", "gAAAAABbbbb"
	c1 := s.conn("10.0.0.100:40001", "10.0.0.11:9292")
	c2 := s.conn("10.0.0.101:40002", "10.0.0.11:9292")
	reqA := s.http(c1, 0, 500, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": a}, nil, `{"images":[]}`)
	reqB := s.http(c2, 10, 400, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": b}, nil, `{"images":[]}`)
	mc := s.conn("127.0.0.1:45000", "127.0.0.1:11211")
	s.get(mc, 1, 20, openstack.CacheKeys(a, "")[0], false) // A's lookup while B started last
	s.get(mc, 2, 30, openstack.CacheKeys(b, "")[0], true)
	ks := s.conn("10.0.0.11:50000", "10.0.0.11:5000")
	s.http(ks, 40, 300, "GET", "/v3/auth/tokens", 200, map[string]string{"X-Subject-Token": a, "X-Auth-Token": "gAAAAABglance"}, nil, "")
	f := Build(s.evs, Options{})
	seqOf := func(e *event.Event) int {
		for _, m := range f.Messages {
			if m.Time.Equal(e.Start.Time) && m.Method != "" {
				return m.Seq
			}
		}
		return -1
	}
	sa, sb := seqOf(reqA), seqOf(reqB)
	for _, m := range f.Messages {
		switch {
		case m.Kind == "memcached.get" && m.Token == openstack.Fingerprint(a), m.Kind == openstack.TokenValidate:
			if m.Cause != sa {
				t.Errorf("%s: cause %d, want A's request %d", m.Label, m.Cause, sa)
			}
		case m.Kind == "memcached.get" && m.Token == openstack.Fingerprint(b):
			if m.Cause != sb {
				t.Errorf("%s: cause %d, want B's request %d", m.Label, m.Cause, sb)
			}
		}
	}
	if v := find(f, func(m *Message) bool { return m.Kind == openstack.TokenValidate }); v == nil || name(f, v.From) != "glance" {
		t.Errorf("validation not drawn from glance: %+v", v)
	}
	if m := find(f, func(m *Message) bool { return m.Kind == "memcached.result" && m.Hit != nil && *m.Hit }); m == nil || !strings.HasPrefix(m.Label, "hit") {
		t.Errorf("no hit drawn")
	}
}

// A service on a port authflow has no rule for is named from the catalog
// of a token response.
func TestCatalogNamesUnknownPort(t *testing.T) {
	var s script
	tok := "gAAAAABcat"
	ks := s.conn("10.0.0.100:40000", "10.0.0.11:5000")
	s.http(ks, 0, 100, "POST", "/v3/auth/tokens", 201, nil, map[string]string{"X-Subject-Token": tok},
		`{"token":{"methods":["password"],"user":{"name":"u"},"catalog":[{"type":"key-manager","name":"","endpoints":[{"interface":"public","url":"http://10.0.0.11:9311/"}]}]}}`)
	bc := s.conn("10.0.0.100:40001", "10.0.0.11:9311")
	s.http(bc, 200, 300, "GET", "/v1/secrets", 200, map[string]string{"X-Auth-Token": tok}, nil, "")
	f := Build(s.evs, Options{})
	m := find(f, func(m *Message) bool { return m.Target == "/v1/secrets" })
	if m == nil || name(f, m.To) != "barbican" {
		t.Errorf("the service on 9311 is %q, want barbican from the catalog", name(f, m.To))
	}
}

func TestSelectAndTimings(t *testing.T) {
	var s script
	a := "gAAAAABaaaa"
	c1 := s.conn("10.0.0.100:40001", "10.0.0.11:9292")
	s.http(c1, 0, 500, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": a}, nil, "")
	ks := s.conn("10.0.0.11:50000", "10.0.0.11:5000")
	s.http(ks, 100, 400, "GET", "/v3/auth/tokens", 200, map[string]string{"X-Subject-Token": a, "X-Auth-Token": "gAAAAABglance"}, nil, "")
	c2 := s.conn("10.0.0.100:40002", "10.0.0.11:5000")
	s.http(c2, 600, 700, "GET", "/v3", 200, nil, nil, "")
	f := Build(s.evs, Options{})
	sel := Select(f, Selection{Token: openstack.Fingerprint(a)[:6]})
	if len(sel.Messages) != 4 {
		t.Fatalf("token selection kept %d messages, want 4: %+v", len(sel.Messages), sel.Messages)
	}
	for i, m := range sel.Messages {
		if m.Seq != i+1 || (m.Cause != 0 && m.Cause >= m.Seq) {
			t.Errorf("renumbering: %+v", m)
		}
	}
	if got := Select(f, Selection{Since: t0.Add(550 * time.Millisecond)}); len(got.Messages) != 2 {
		t.Errorf("since: %d messages", len(got.Messages))
	}
	tm := Timings(f)
	if len(tm) != 2 || tm[0].TotalMS != 500 || tm[0].Spent[SpentValidation] != 300 {
		t.Errorf("timings: %+v", tm)
	}
}

// Repeated identical cache lookups for one request are drawn once.
func TestRepeatedLookupsSummarised(t *testing.T) {
	var s script
	a := "gAAAAABaaaa"
	c1 := s.conn("10.0.0.100:40001", "10.0.0.11:9292")
	s.http(c1, 0, 500, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": a}, nil, "")
	mc := s.conn("127.0.0.1:45000", "127.0.0.1:11211")
	for i := range 3 {
		s.get(mc, uint64(i+1), 10+10*i, openstack.CacheKeys(a, "")[0], true)
	}
	f := Build(s.evs, Options{})
	gets := 0
	for _, m := range f.Messages {
		if m.Kind == "memcached.get" {
			gets++
			if m.Count != 3 || !strings.Contains(m.Label, "×3") {
				t.Errorf("summary %q count %d", m.Label, m.Count)
			}
		}
	}
	if gets != 1 {
		t.Errorf("%d get arrows, want 1", gets)
	}
	if f := Build(s.evs, Options{DetailLevel: 1}); len(f.Messages) != 8 {
		t.Errorf("--detail: %d messages, want 8", len(f.Messages))
	}
}

// Token requests by other methods than a password say what they are and
// what keystone answered: an application credential's token is scoped to
// the credential's project (the request names no scope); a re-scope names
// the token once.
func TestAuthMethodLabels(t *testing.T) {
	const issued = `{"token":{"methods":["%s"],"user":{"domain":{"id":"default","name":"Default"},"id":"u1","name":"myuser"},` +
		`"project":{"domain":{"id":"default","name":"Default"},"id":"p1","name":"myproject"},"expires_at":"2026-11-22T13:00:00.000000Z"}}`
	tests := []struct {
		name, body, answer string
		status             int
		wantReq, wantScope string
		wantResp           string
	}{
		{
			name:      "application credential",
			body:      `{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"a3c1a9c2f6e84f0c9d8e7f6a5b4c3d2e","secret":"s3cr3t"}}}}`,
			answer:    strings.ReplaceAll(issued, "%s", "application_credential"),
			status:    201,
			wantReq:   "POST /v3/auth/tokens: application credential a3c1a9c2f6e84f0c9d8e7f6a5b4c3d2e → project myproject@Default",
			wantScope: "project myproject@Default",
			wantResp:  "201 Created: token " + openstack.Fingerprint("gAAAAABissued") + " (myuser@Default, project myproject@Default)",
		},
		{
			name:      "application credential refused",
			body:      `{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"name":"ci","secret":"s3cr3t","user":{"name":"myuser","domain":{"name":"Default"}}}}}}`,
			answer:    `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`,
			status:    401,
			wantReq:   "POST /v3/auth/tokens: application credential ci of myuser@Default → the credential's project",
			wantScope: "",
			wantResp:  "401 Unauthorized: authentication failed",
		},
		{
			name:      "re-scope",
			body:      `{"auth":{"identity":{"methods":["token"],"token":{"id":"gAAAAABold"}},"scope":{"project":{"name":"myproject","domain":{"name":"Default"}}}}}`,
			answer:    strings.ReplaceAll(issued, "%s", "token"),
			status:    201,
			wantReq:   "POST /v3/auth/tokens: token " + openstack.Fingerprint("gAAAAABold") + " → project myproject@Default",
			wantScope: "project myproject@Default",
			wantResp:  "201 Created: token " + openstack.Fingerprint("gAAAAABissued") + " (myuser@Default, project myproject@Default)",
		},
		{
			name:      "password, unchanged",
			body:      `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"myuser","domain":{"name":"Default"},"password":"x"}}},"scope":{"project":{"name":"myproject","domain":{"name":"Default"}}}}}`,
			answer:    strings.ReplaceAll(issued, "%s", "password"),
			status:    201,
			wantReq:   "POST /v3/auth/tokens: password myuser@Default → project myproject@Default",
			wantScope: "project myproject@Default",
			wantResp:  "201 Created: token " + openstack.Fingerprint("gAAAAABissued") + " (myuser@Default, project myproject@Default)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s script
			c := s.conn("198.18.0.100:40000", "198.18.0.11:5000")
			req := s.http(c, 0, 100, "POST", "/v3/auth/tokens", tt.status, map[string]string{"Content-Type": "application/json"},
				map[string]string{"X-Subject-Token": "gAAAAABissued"}, tt.answer)
			r := req.Data.(*httpdec.Request)
			r.Body, r.BodyLen = []byte(tt.body), int64(len(tt.body))
			f := Build(s.evs, Options{})
			if len(f.Messages) != 2 {
				t.Fatalf("%d messages: %+v", len(f.Messages), f.Messages)
			}
			q, a := f.Messages[0], f.Messages[1]
			if q.Label != tt.wantReq || q.Scope != tt.wantScope {
				t.Errorf("request: %q scope %q\nwant:    %q scope %q", q.Label, q.Scope, tt.wantReq, tt.wantScope)
			}
			if a.Label != tt.wantResp {
				t.Errorf("answer: %q\nwant:   %q", a.Label, tt.wantResp)
			}
		})
	}
}

// The summary's database time is the time the database was busy, not the
// wall-clock span of the bursts of queries (glance's own work between
// statements is glance's); the span is kept beside it.
func TestTimingsDatabaseIsBusyTime(t *testing.T) {
	ms := func(v float64) *float64 { return &v }
	flow := &Flow{
		Participants: []*Participant{
			{ID: "C", Role: RoleClient}, {ID: "G", Role: RoleGlance}, {ID: "GD", Role: RoleMySQL},
		},
		Messages: []*Message{
			{Seq: 1, From: "C", To: "G", Kind: openstack.ImageList, Method: "GET", Target: "/v2/images"},
			{Seq: 2, From: "G", To: "GD", Kind: "mysql.query", Cause: 1, Count: 40},
			{Seq: 3, From: "GD", To: "G", Kind: "mysql.result", Cause: 1, ReplyTo: 2, Response: true,
				Duration: 1926 * time.Millisecond, DurationMS: ms(1926), BusyMS: ms(72)},
			{Seq: 4, From: "G", To: "GD", Kind: "mysql.query", Cause: 1, Count: 1},
			{Seq: 5, From: "GD", To: "G", Kind: "mysql.result", Cause: 1, ReplyTo: 4, Response: true,
				Duration: 3 * time.Millisecond, DurationMS: ms(3)},
			{Seq: 6, From: "G", To: "C", Kind: "http.response", Status: 200, ReplyTo: 1, Response: true,
				Duration: 1976 * time.Millisecond, DurationMS: ms(1976)},
		},
	}
	tm := Timings(flow)
	if len(tm) != 1 {
		t.Fatalf("%d timings", len(tm))
	}
	if got := tm[0].Spent[SpentDatabase]; got != 75 {
		t.Errorf("database %v ms, want 75 (72 busy in the burst + 3)", got)
	}
	if tm[0].DatabaseSpanMS != 1929 {
		t.Errorf("database span %v ms, want 1929", tm[0].DatabaseSpanMS)
	}
}

// A program that is no known service talking to memcached or MySQL is a
// peer named by its address and port, never an OpenStack client; a
// service's own connection (made while it serves a request, or a database
// login) stays the service's.
func TestUnknownPeersAreNotClients(t *testing.T) {
	var s script
	refused := func(c *event.Conn, ms int) {
		e := &event.Event{Kind: event.TCPRefused, Start: s.at(ms), Conn: c, FromServer: true}
		e.End = e.Start.Time
		s.evs = append(s.evs, e)
	}
	tok := "gAAAAABuser"
	client := s.conn("198.18.0.100:40000", "198.18.0.11:9292")
	s.http(client, 0, 500, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": tok}, nil, `{"images":[]}`)
	refused(s.conn("127.0.0.1:45000", "127.0.0.1:11211"), 10) // glance's, while it serves
	refused(s.conn("127.0.0.1:51234", "127.0.0.1:11211"), 2000)
	probe := s.conn("198.18.0.11:51300", "127.0.0.1:11211")
	s.get(probe, 1, 3000, "stats", false)
	mysqlProbe := s.conn("127.0.0.1:51400", "127.0.0.1:3306")
	refused(mysqlProbe, 4000)
	f := Build(s.evs, Options{})
	byName := map[string]*Participant{}
	for _, p := range f.Participants {
		byName[p.Name] = p
		if strings.HasPrefix(p.Name, "OpenStackClient ") {
			t.Errorf("an unknown peer became a client: %+v", p)
		}
	}
	for _, name := range []string{"127.0.0.1:51234", "198.18.0.11:51300", "127.0.0.1:51400"} {
		if p := byName[name]; p == nil || p.Role != RolePeer {
			t.Errorf("no peer %s: %+v", name, p)
		}
	}
	if p := byName["OpenStackClient"]; p == nil || p.Role != RoleClient {
		t.Errorf("the client: %+v", p)
	}
	first := find(f, func(m *Message) bool { return m.Kind == "tcp.refused" })
	if first == nil || name(f, first.From) != "glance" {
		t.Errorf("glance's refused connection is drawn from %q", name(f, first.From))
	}
}

// The lab's memcached probe: while glance waits for keystone's validation
// (both serving), bash probes memcached (a malformed line) and a closed
// port. Neither is keystone's nor glance's: that both were serving then is
// no evidence. Glance's own cache calls stay glance's, also when the
// request they serve is not in the capture (kernel drops) but glance's
// validation of the same token is.
func TestProbeWhileServicesServe(t *testing.T) {
	var s script
	tok, svc := "gAAAAABuser", "gAAAAABglance"
	key := openstack.CacheKeys(tok, "")[0]
	client := s.conn("198.18.0.100:40000", "198.18.0.11:9292")
	s.http(client, 0, 1000, "GET", "/v2/images", 200, map[string]string{"X-Auth-Token": tok}, nil, `{"images":[]}`)
	mc := s.conn("127.0.0.1:45000", "127.0.0.1:11211")
	s.get(mc, 1, 2, key, false)
	ks := s.conn("127.0.0.1:50000", "127.0.0.1:5000")
	s.http(ks, 5, 900, "GET", "/v3/auth/tokens", 200, map[string]string{"X-Subject-Token": tok, "X-Auth-Token": svc,
		"User-Agent": "glance/25.1.0 keystonemiddleware.auth_token/10.1.0 keystoneauth1/5.0.0 python-requests/2.28.1 CPython/3.11.2"}, nil, "")
	// The probe: a line memcached answers with ERROR, then the probe's
	// reset; then a connection refused on a closed port.
	probe := s.conn("127.0.0.1:57712", "127.0.0.1:11211")
	cmd := &event.Event{Kind: event.MemcacheCommand, Start: s.at(100), Conn: probe, Data: &memcached.Command{Seq: 1, Op: "unknown", Error: "unknown command"}}
	reply := &event.Event{Kind: event.MemcacheReply, Start: s.at(100), Conn: probe, FromServer: true, Data: &memcached.Reply{Seq: 1, Op: "unknown", Status: "ERROR"}}
	reset := &event.Event{Kind: event.TCPReset, Start: s.at(101), Conn: probe}
	closed := s.conn("127.0.0.1:60258", "127.0.0.1:11212")
	refused := &event.Event{Kind: event.TCPRefused, Start: s.at(180), Conn: closed, FromServer: true}
	for _, e := range []*event.Event{cmd, reply, reset, refused} {
		e.End = e.Start.Time
	}
	s.evs = append(s.evs, cmd, reply, reset, refused)
	// Later, glance's cache connection is used with no request of it in
	// the capture.
	mc2 := s.conn("127.0.0.1:35490", "127.0.0.1:11211")
	s.get(mc2, 1, 5000, key, true)

	f := Build(s.evs, Options{})
	byKind := func(kind Kind, label string) *Message {
		return find(f, func(m *Message) bool { return m.Kind == kind && strings.HasPrefix(m.Label, label) })
	}
	for _, c := range []struct {
		m        *Message
		from, to string
	}{
		{byKind(KindMemcachedGet, "get token"), "glance", "memcached"},
		{byKind(KindMemcachedCommand, "unknown"), "127.0.0.1:57712", "memcached"},
		{byKind(KindTCPReset, ""), "127.0.0.1:57712", "memcached"},
		{byKind(KindTCPRefused, ""), "127.0.0.1:60258", "127.0.0.1:11212"},
	} {
		if c.m == nil {
			t.Fatalf("a message is missing: %+v", f.Messages)
		}
		if name(f, c.m.From) != c.from || name(f, c.m.To) != c.to {
			t.Errorf("%s: %s → %s, want %s → %s", c.m.Label, name(f, c.m.From), name(f, c.m.To), c.from, c.to)
		}
	}
	if n := byKind(KindTCPRefused, "").Notes; len(n) != 1 || n[0].Text != "nothing listens on 127.0.0.1:11212" {
		t.Errorf("refused note %+v", n)
	}
	for _, m := range f.Messages {
		if m.Kind == KindMemcachedGet && name(f, m.From) != "glance" {
			t.Errorf("glance's lookup %d drawn from %s", m.Seq, name(f, m.From))
		}
	}
	for _, p := range f.Participants {
		if strings.HasPrefix(p.Name, "127.0.0.1:") && p.Role != RolePeer || strings.HasPrefix(p.Name, "service ") {
			t.Errorf("participant %+v", p)
		}
	}
}

// A request delivered after its answer (its connection lost segments
// before it, so the reassembler held it back) is still the request the
// answer answers: per connection, answers go to the earliest earlier
// request left without one.
func TestLateRequestIsPaired(t *testing.T) {
	var s script
	c := s.conn("198.18.0.100:37176", "198.18.0.11:9292")
	lost := s.http(c, 0, 10, "GET", "/v2/images/cirros", 404, nil, nil, "404 Not Found")
	list := s.http(c, 20, 30, "GET", "/v2/images?name=cirros", 200, map[string]string{"X-Auth-Token": "gAAAAABuser"}, nil, `{"images":[{"id":"x"}]}`)
	// The first request was dropped; the second reached the decoder
	// after its answer.
	var evs []*event.Event
	for _, e := range s.evs {
		if e == lost {
			continue
		}
		if r, ok := e.Data.(*httpdec.Response); ok {
			r.Request = nil
		}
		evs = append(evs, e)
	}
	_ = list
	f := Build(evs, Options{})
	var got []string
	for _, m := range f.Messages {
		got = append(got, fmt.Sprintf("%d %s reply_to=%d", m.Seq, m.Label, m.ReplyTo))
	}
	want := []string{
		"1 404 Not Found reply_to=0",
		"2 GET /v2/images?name=cirros: list images [token " + openstack.Fingerprint("gAAAAABuser") + "] reply_to=0",
		"3 200 OK: 1 image reply_to=2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A message that lost bytes in a capture whose interfaces dropped packets
// says they were lost to kernel drops, with the size the headers
// announced; the flow carries the drops.
func TestKernelDropsOnMessages(t *testing.T) {
	var s script
	c := s.conn("198.18.0.100:37176", "198.18.0.11:9292")
	s.http(c, 0, 10, "GET", "/v2/images/127daaf5-e6b4-4ff9-b826-fc8c8571fffc/file", 200, nil, map[string]string{"Content-Length": "4521984"}, "QFI")
	resp := s.evs[1].Data.(*httpdec.Response)
	resp.BodyLen, resp.Lost, resp.Complete = 4521984, 1572864, false
	cut := s.conn("198.18.0.100:37178", "198.18.0.11:9292")
	s.http(cut, 20, 30, "GET", "/v2/images/127daaf5-e6b4-4ff9-b826-fc8c8571fffc/file", 200, nil, map[string]string{"Content-Length": "4521984"}, "QFI")
	resp2 := s.evs[3].Data.(*httpdec.Response)
	resp2.BodyLen, resp2.Complete = 929075, false
	drops := []Drop{{File: "drops.pcapng.gz", Interface: "veth-ctl", Received: 3404, Dropped: 1103}}
	for _, tc := range []struct {
		drops []Drop
		want  []string
	}{
		{nil, []string{"200 OK: 4.3 MiB [1.5 MiB missing from capture]", "200 OK: 907.3 KiB [cut short]"}},
		{drops, []string{"200 OK: 4.3 MiB [1.5 MiB of 4.3 MiB lost to kernel drops]", "200 OK: 907.3 KiB of 4.3 MiB [cut short: the rest lost to kernel drops]"}},
	} {
		f := Build(s.evs, Options{Inputs: []string{"drops.pcapng.gz"}, Drops: tc.drops})
		var got []string
		for _, m := range f.Messages {
			if m.Response {
				got = append(got, m.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("drops %v:\ngot  %q\nwant %q", tc.drops, got, tc.want)
		}
		if !slices.Equal(f.Drops, tc.drops) {
			t.Errorf("flow drops %+v", f.Drops)
		}
	}
}
