package sequence

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRouteTemplate(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/v2/images/2b1e5ca0-6a1c-4e2c-9bb9-7c4d0f1e3a55/file", "/v2/images/{id}/file"},
		{"/v3/projects/0123456789abcdef0123456789abcdef/users/fedcba9876543210fedcba9876543210/roles/00112233445566778899aabbccddeeff", "/v3/projects/{id}/users/{id}/roles/{id}"},
		{"/v2/images?name=cirros&limit=20", "/v2/images?…"},
		{"/v2/images", "/v2/images"},
		{"/v2.0/tokens/12345", "/v2.0/tokens/{id}"},
		{"/v3", "/v3"},
		{"/v2/images/cirros", "/v2/images/cirros"},
	} {
		if got := RouteTemplate(c.in); got != c.want {
			t.Errorf("RouteTemplate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// storm is n image lists from one client, each a cache lookup (hits as
// hit says) and its answer after ms[i] milliseconds.
func storm(n int, hit func(i int) bool, ms func(i int) int) *Flow {
	f := &Flow{Participants: []*Participant{{ID: "C", Role: RoleClient}, {ID: "G", Role: RoleGlance}, {ID: "M", Role: RoleMemcached}}}
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	seq := 0
	add := func(m *Message) *Message { seq++; m.Seq = seq; f.Messages = append(f.Messages, m); return m }
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		req := add(&Message{Time: at, From: "C", To: "G", Kind: KindHTTPRequest, Method: "GET", Target: fmt.Sprintf("/v2/images/%08x-0000-0000-0000-000000000000", i), Label: "GET /v2/images/…: show image [token abc]"})
		get := add(&Message{Time: at, From: "G", To: "M", Kind: KindMemcachedGet, Cause: req.Seq, Label: "get token abc"})
		h := hit(i)
		add(&Message{Time: at, From: "M", To: "G", Kind: KindMemcachedResult, Cause: req.Seq, ReplyTo: get.Seq, Hit: &h, Label: "hit"})
		d := time.Duration(ms(i)) * time.Millisecond
		add(&Message{Time: at.Add(d), End: at.Add(d), From: "G", To: "C", Kind: KindHTTPResponse, Status: 200, ReplyTo: req.Seq, Response: true, Duration: d, Label: "200 OK"})
	}
	return f
}

// TestGroup: same-shaped requests are drawn once with their count, hit
// ratio and latency percentiles; seqs are renumbered and still point at
// the kept messages.
func TestGroup(t *testing.T) {
	f := storm(20, func(i int) bool { return i%4 != 0 }, func(i int) int { return i + 1 })
	g := Group(f)
	if len(g.Messages) != 4 {
		t.Fatalf("%d messages, want one request of 4 messages: %+v", len(g.Messages), g.Messages)
	}
	for i, m := range g.Messages {
		if m.Seq != i+1 || m.Cause > m.Seq || m.ReplyTo > m.Seq || (i > 0 && m.Cause == 0 && m.ReplyTo == 0) {
			t.Errorf("message %d: seq %d cause %d reply_to %d", i, m.Seq, m.Cause, m.ReplyTo)
		}
	}
	want := []string{"GET /v2/images/{id}: show image ×20", "get token abc", "hit · cache hits 15/20 (75%)", "200 OK · p50 10 ms, p95 19 ms, max 20 ms"}
	for i, w := range want {
		if g.Messages[i].Label != w {
			t.Errorf("label %d = %q, want %q", i, g.Messages[i].Label, w)
		}
	}
	if len(f.Messages) != 80 || f.Messages[0].Label != "GET /v2/images/…: show image [token abc]" {
		t.Errorf("Group changed the flow it was given")
	}
	// Different shapes stay apart: a request without its cache lookup.
	f2 := storm(3, func(int) bool { return true }, func(int) int { return 5 })
	f2.Messages = append(f2.Messages[:1], f2.Messages[3:]...) // the first request: no lookup
	g2 := Group(f2)
	var roots []string
	for _, m := range g2.Messages {
		if m.Method != "" {
			roots = append(roots, m.Label)
		}
	}
	if strings.Join(roots, "|") != "GET /v2/images/…: show image [token abc]|GET /v2/images/{id}: show image ×2" {
		t.Errorf("roots %q", roots)
	}
}
