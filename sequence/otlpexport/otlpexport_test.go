package otlpexport

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// traces makes n traces of two spans each (a server span and a client
// span under it).
func traces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "glance")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("test")
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i := range n {
		tid := pcommon.TraceID{byte(i + 1), 1}
		root := ss.Spans().AppendEmpty()
		root.SetTraceID(tid)
		root.SetSpanID(pcommon.SpanID{byte(i + 1), 1})
		root.SetName("GET /v2/images")
		root.SetKind(ptrace.SpanKindServer)
		root.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		root.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
		root.Attributes().PutInt("http.response.status_code", 500)
		root.Attributes().PutBool("openstack.request.complete", true)
		root.Attributes().PutDouble("openstack.db.busy_ms", 1.5)
		root.Attributes().PutEmptySlice("openstack.notes").AppendEmpty().SetStr("a note")
		root.Status().SetCode(ptrace.StatusCodeError)
		root.Status().SetMessage("500")
		ev := root.Events().AppendEmpty()
		ev.SetName("slow-validation")
		ev.SetTimestamp(pcommon.NewTimestampFromTime(t0))
		c := ss.Spans().AppendEmpty()
		c.SetTraceID(tid)
		c.SetSpanID(pcommon.SpanID{byte(i + 1), 2})
		c.SetParentSpanID(root.SpanID())
		c.SetName("memcached get")
		c.SetKind(ptrace.SpanKindClient)
		c.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		c.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Millisecond)))
	}
	return td
}

func TestSpans(t *testing.T) {
	spans := Spans(traces(1))
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	root, c := spans[0], spans[1]
	if root.SpanKind() != trace.SpanKindServer || c.SpanKind() != trace.SpanKindClient {
		t.Errorf("kinds %v %v", root.SpanKind(), c.SpanKind())
	}
	if c.Parent().SpanID() != root.SpanContext().SpanID() || c.Parent().TraceID() != root.SpanContext().TraceID() {
		t.Errorf("client span's parent is not the server span")
	}
	if root.Parent().IsValid() {
		t.Errorf("root has a parent")
	}
	if root.Status().Code != codes.Error || root.Status().Description != "500" {
		t.Errorf("status %+v", root.Status())
	}
	if len(root.Events()) != 1 || root.Events()[0].Name != "slow-validation" {
		t.Errorf("events %+v", root.Events())
	}
	got := map[string]string{}
	for _, kv := range root.Attributes() {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	want := map[string]string{"http.response.status_code": "500", "openstack.request.complete": "true", "openstack.db.busy_ms": "1.5", "openstack.notes": `["a note"]`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if name, _ := root.Resource().Set().Value("service.name"); name.AsString() != "glance" {
		t.Errorf("service.name %q", name.AsString())
	}
	if !root.StartTime().Equal(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("start %s", root.StartTime())
	}
}

// fakeExporter fails every export with err (when set) and blocks each
// export until release is closed (when set).
type fakeExporter struct {
	err     error
	release chan struct{}
	mu      sync.Mutex
	batches []int
}

func (f *fakeExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(spans))
	f.mu.Unlock()
	return f.err
}

func (f *fakeExporter) Shutdown(context.Context) error { return nil }

func TestSenderCounts(t *testing.T) {
	ok := &fakeExporter{}
	s := NewSender(ok, Config{BatchSize: 2}, nil)
	s.Send(traces(5))
	st := s.Close(context.Background())
	if st.Sent != 5 || st.NotSent() != 0 {
		t.Errorf("backend up: %+v, want 5 sent", st)
	}
	if len(ok.batches) != 3 || ok.batches[0] != 4 {
		t.Errorf("batches of spans %v, want 4, 4, 2", ok.batches)
	}

	var failed int
	down := &fakeExporter{err: errors.New("connection refused")}
	s = NewSender(down, Config{}, func(n int, err error) { failed += n })
	s.Send(traces(3))
	st = s.Close(context.Background())
	if st.Failed != 3 || st.Sent != 0 || failed != 3 {
		t.Errorf("backend down: %+v (told of %d), want 3 failed", st, failed)
	}
	if sum := st.Summary("grpc://x:4317"); !strings.Contains(sum, "0 traces sent, 3 could not be sent (3 refused or unreachable): connection refused") {
		t.Errorf("summary %q", sum)
	}

	// A queue of 2 with the exporter stuck: the worker holds one trace,
	// the queue two more, the rest are dropped and counted.
	stuck := &fakeExporter{release: make(chan struct{})}
	s = NewSender(stuck, Config{QueueSize: 2, BatchSize: 1}, nil)
	s.Send(traces(1))
	for len(s.queue) != 0 { // the worker has taken it and is stuck exporting
		time.Sleep(time.Millisecond)
	}
	s.Send(traces(6))
	close(stuck.release)
	st = s.Close(context.Background())
	if st.Sent != 3 || st.Dropped != 4 {
		t.Errorf("queue full: %+v, want 3 sent, 4 dropped", st)
	}
	if sum := st.Summary("x"); !strings.Contains(sum, "4 dropped with the queue full (--otlp-queue)") {
		t.Errorf("summary %q", sum)
	}
}

func TestNewExporterEndpoint(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:4317", "ftp://h:1", "grpc://", ""} {
		if _, err := NewExporter(context.Background(), Config{Endpoint: bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, good := range []string{"grpc://127.0.0.1:4317", "grpcs://127.0.0.1:4317", "http://127.0.0.1:4318", "https://127.0.0.1:4318/otlp/v1/traces"} {
		exp, err := NewExporter(context.Background(), Config{Endpoint: good})
		if err != nil {
			t.Errorf("%q: %v", good, err)
			continue
		}
		exp.Shutdown(context.Background())
	}
	if _, err := NewExporter(context.Background(), Config{Endpoint: "https://h:1", ClientCert: "c.pem"}); err == nil {
		t.Errorf("--otlp-cert without --otlp-key: no error")
	}
}
