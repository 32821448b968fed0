package otlp

import (
	"bytes"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/authflow/authflow/sequence"
)

func TestRoute(t *testing.T) {
	for _, c := range []struct{ path, image, want string }{
		{"/v2/images/c6bca20f-183a-466f-9948-935b243c8190/file", "", "/v2/images/{id}/file"},
		{"/v2/images/cirros", "cirros", "/v2/images/{id}"},
		{"/v2/images", "", "/v2/images"},
		{"/v3/auth/tokens", "", "/v3/auth/tokens"},
		{"/v3/users/8a1b2c3d4e5f60718293a4b5c6d7e8f9/roles", "", "/v3/users/{id}/roles"},
		{"/v2.1/servers/42", "", "/v2.1/servers/{id}"},
		{"/", "", "/"},
	} {
		if got := route(c.path, c.image); got != c.want {
			t.Errorf("route(%q, %q) = %q, want %q", c.path, c.image, got, c.want)
		}
	}
}

// synthetic is a small flow: a client's request to glance, validated at
// keystone (whose database answers), then answered; a request never
// answered; an answer whose request the capture missed; and two messages
// starting in the same frame.
func synthetic() *sequence.Flow {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	fr := func(n int) []sequence.Frame { return []sequence.Frame{{File: "lo.pcap", Number: n}} }
	rows := 3
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	return &sequence.Flow{
		Participants: []*sequence.Participant{
			{ID: "C", Name: "client", Role: sequence.RoleClient},
			{ID: "G", Name: "glance", Role: sequence.RoleGlance, Endpoints: []string{"10.0.0.1:9292"}},
			{ID: "K", Name: "keystone", Role: sequence.RoleKeystone},
			{ID: "KD", Name: "keystone DB", Role: sequence.RoleMySQL},
		},
		Messages: []*sequence.Message{
			{Seq: 1, Time: at(0), From: "C", To: "G", Kind: "glance.image.list", Method: "GET", Target: "/v2/images?limit=1", Token: "aaaaaaaaaaaa", Frames: fr(1), Server: "10.0.0.1:9292", Client: "10.0.0.9:40000"},
			{Seq: 2, Time: at(1), From: "G", To: "K", Kind: sequence.KindTokenValidate, Method: "GET", Target: "/v3/auth/tokens", Token: "aaaaaaaaaaaa", AuthToken: "bbbbbbbbbbbb", Cause: 1, Frames: fr(2)},
			{Seq: 3, Time: at(2), From: "K", To: "KD", Kind: sequence.KindMySQLQuery, Statement: "SELECT * FROM token WHERE id = ?", Database: "keystone", Cause: 2, Frames: fr(3)},
			{Seq: 4, Time: at(3), From: "KD", To: "K", Kind: sequence.KindMySQLResult, Rows: &rows, ReplyTo: 3, Cause: 2, Duration: d(1), Response: true, Frames: fr(4)},
			{Seq: 5, Time: at(4), From: "K", To: "G", Kind: sequence.KindTokenValid, Status: 200, ReplyTo: 2, Cause: 1, Duration: d(3), Response: true, Frames: fr(5)},
			{Seq: 6, Time: at(5), From: "G", To: "C", Kind: sequence.KindHTTPResponse, Status: 200, ReplyTo: 1, Duration: d(5), Response: true, Frames: fr(6)},
			{Seq: 7, Time: at(6), From: "C", To: "G", Kind: sequence.KindHTTPRequest, Method: "GET", Target: "/", Frames: fr(7)},
			{Seq: 8, Time: at(7), From: "K", To: "C", Kind: sequence.KindHTTPResponse, Status: 503, Response: true, Frames: fr(8)},
			{Seq: 9, Time: at(8), From: "C", To: "K", Kind: sequence.KindHTTPRequest, Method: "GET", Target: "/v3", Frames: fr(9)},
			{Seq: 10, Time: at(8), From: "C", To: "K", Kind: sequence.KindHTTPRequest, Method: "GET", Target: "/v3", Frames: fr(9)},
		},
		Findings: []sequence.Finding{{Kind: "slow-validation", Severity: "warning", Summary: "slow", Messages: []int{2, 5}}},
	}
}

type flat struct {
	service string
	s       ptrace.Span
}

func spansOf(td ptrace.Traces) []flat {
	var out []flat
	for _, rs := range td.ResourceSpans().All() {
		name, _ := rs.Resource().Attributes().Get("service.name")
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				out = append(out, flat{name.Str(), s})
			}
		}
	}
	return out
}

func TestTracesSynthetic(t *testing.T) {
	td := FlowTraces(synthetic(), "test")
	spans := spansOf(td)
	byName := map[string]flat{}
	ids := map[string]bool{}
	traces := map[string]bool{}
	for _, f := range spans {
		byName[f.service+" "+f.s.Name()+" "+f.s.Kind().String()] = f
		if ids[f.s.SpanID().String()] {
			t.Errorf("span id %s used twice", f.s.SpanID())
		}
		ids[f.s.SpanID().String()] = true
		traces[f.s.TraceID().String()] = true
	}
	// Traces: the list, the unanswered GET /, the lone answer, the two GET /v3.
	if len(traces) != 5 {
		t.Errorf("%d traces, want 5", len(traces))
	}
	get := func(key string) ptrace.Span {
		t.Helper()
		f, ok := byName[key]
		if !ok {
			t.Fatalf("no span %q; have %v", key, keys(byName))
		}
		return f.s
	}
	root := get("glance GET /v2/images Server")
	if !root.ParentSpanID().IsEmpty() {
		t.Errorf("root has a parent")
	}
	if v, _ := root.Attributes().Get("url.query"); v.Str() != "limit=1" {
		t.Errorf("url.query = %q", v.Str())
	}
	if v, _ := root.Attributes().Get("client.address"); v.Str() != "10.0.0.9" {
		t.Errorf("client.address = %q", v.Str())
	}
	if got := root.EndTimestamp().AsTime().Sub(root.StartTimestamp().AsTime()); got != 5*time.Millisecond {
		t.Errorf("root lasts %s, want 5ms", got)
	}
	val := get("glance GET /v3/auth/tokens Client")
	if val.ParentSpanID() != root.SpanID() {
		t.Errorf("validation's parent is not the root")
	}
	if v, _ := val.Attributes().Get("openstack.parent.evidence"); v.Str() != "token" {
		t.Errorf("evidence %q, want token", v.Str())
	}
	if val.Events().Len() != 1 || val.Events().At(0).Name() != "slow-validation" {
		t.Errorf("the finding is not an event of the validation (once)")
	}
	ks := get("keystone GET /v3/auth/tokens Server")
	if ks.ParentSpanID() != val.SpanID() {
		t.Errorf("keystone's server span is not under glance's client span")
	}
	db := get("keystone mysql SELECT Client")
	if db.ParentSpanID() != ks.SpanID() {
		t.Errorf("keystone's query is not under keystone's server span")
	}
	if v, _ := db.Attributes().Get("db.response.returned_rows"); v.Int() != 3 {
		t.Errorf("returned rows %d", v.Int())
	}
	if _, ok := db.Attributes().Get("openstack.parent.inferred"); !ok {
		t.Errorf("the query's tie to the validation is not marked inferred")
	}
	if _, ok := ks.Attributes().Get("openstack.parent.inferred"); ok {
		t.Errorf("a server span under its own client span is marked inferred")
	}
	get("keystone DB mysql SELECT Server")
	lone := get("glance GET / Server")
	if v, ok := lone.Attributes().Get("openstack.answered"); !ok || v.Bool() {
		t.Errorf("unanswered request: openstack.answered = %v", v.AsRaw())
	}
	orphan := get("keystone 503 (request not captured) Server")
	if orphan.Status().Code() != ptrace.StatusCodeUnset && orphan.Status().Code() != ptrace.StatusCodeError {
		t.Errorf("orphan status %v", orphan.Status().Code())
	}

	// The same flow gives the same bytes.
	var a, b bytes.Buffer
	if err := WriteJSON(&a, td); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&b, FlowTraces(synthetic(), "test")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two exports of the same flow differ")
	}
}

func keys(m map[string]flat) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLateRequest: pieces of a tree that come after it was sent go into
// the same trace, under the span of the call that caused them.
func TestLateRequest(t *testing.T) {
	flow := synthetic()
	var tree *sequence.Request
	for _, r := range sequence.Requests(flow) {
		if r.Root.Seq == 1 {
			tree = r
		}
	}
	if tree == nil || len(tree.Messages) != 6 {
		t.Fatalf("no tree of 6 messages for seq 1: %+v", tree)
	}
	first := *tree
	first.Messages = nil
	var rest []*sequence.Message
	for _, m := range tree.Messages {
		if m.Seq == 3 || m.Seq == 4 {
			rest = append(rest, m)
		} else {
			first.Messages = append(first.Messages, m)
		}
	}
	later := sequence.Request{Root: tree.Root, Messages: rest, Participants: tree.Participants, Late: true}
	ids := &IDs{}
	a := spansOf(Traces([]*sequence.Request{&first}, Options{IDs: ids}))
	b := spansOf(Traces([]*sequence.Request{&later}, Options{IDs: ids}))
	var ks ptrace.Span
	for _, f := range a {
		if f.service == "keystone" && f.s.Kind() == ptrace.SpanKindServer {
			ks = f.s
		}
	}
	if ks.SpanID().IsEmpty() {
		t.Fatal("no keystone server span in the first part")
	}
	if len(b) != 2 {
		t.Fatalf("late part: %d spans, want 2 (the query's client and server spans)", len(b))
	}
	for _, f := range b {
		if f.s.TraceID() != ks.TraceID() {
			t.Errorf("late span %q in trace %s, want %s", f.s.Name(), f.s.TraceID(), ks.TraceID())
		}
		if f.s.Kind() == ptrace.SpanKindClient && f.s.ParentSpanID() != ks.SpanID() {
			t.Errorf("late query's parent %s, want keystone's server span %s", f.s.ParentSpanID(), ks.SpanID())
		}
	}
	// Whole, the same tree gives the same trace id.
	whole := spansOf(Traces([]*sequence.Request{tree}, Options{}))
	if whole[0].s.TraceID() != ks.TraceID() {
		t.Errorf("trace id differs between the whole tree and its parts")
	}
}
