package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvJaeger names the Jaeger binary the end-to-end tests run; unset, they
// look in the cache tools/jaeger/build.sh builds it into.
const EnvJaeger = "AUTHFLOW_JAEGER"

// EnvRequireJaeger, set to 1 (as CI does), makes a missing Jaeger fail the
// tests instead of skipping them.
const EnvRequireJaeger = "AUTHFLOW_REQUIRE_JAEGER"

// jaegerBinary finds the Jaeger binary, or skips (fails when it is
// required).
func jaegerBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv(EnvJaeger)
	if path == "" {
		mod, err := os.ReadFile("../../tools/jaeger/go.mod")
		if err != nil {
			t.Fatal(err)
		}
		version := ""
		for _, line := range strings.Split(string(mod), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/jaegertracing/jaeger" {
				version = f[1]
			}
		}
		if version == "" {
			t.Fatal("tools/jaeger/go.mod pins no github.com/jaegertracing/jaeger")
		}
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		path = filepath.Join(cache, "authflow", "jaeger-"+version)
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		msg := fmt.Sprintf("no Jaeger at %s: build it with tools/jaeger/build.sh (or set %s)", path, EnvJaeger)
		if os.Getenv(EnvRequireJaeger) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// jaeger is a Jaeger v2 all-in-one the test started: in-memory storage,
// every port on the loopback.
type jaeger struct {
	otlpGRPC, otlpHTTP string // host:port
	query              string // http://host:port
}

// freePorts returns n loopback ports free at the time of asking.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// jaegerConfig is the collector configuration: OTLP receivers, the memory
// store, the query service; no metrics, no self-tracing, nothing but the
// loopback.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    max_clock_skew_adjust: 0s
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// startJaeger starts Jaeger and waits until its query service answers;
// it is stopped when the test ends.
func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	bin := jaegerBinary(t)
	p := freePorts(t, 4)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, p[0], p[1], p[2], p[3]), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own telemetry goes nowhere: no OTEL_* of the environment.
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("jaeger's log:\n%s", logs.String())
		}
	})
	j := &jaeger{
		otlpGRPC: fmt.Sprintf("127.0.0.1:%d", p[2]),
		otlpHTTP: fmt.Sprintf("127.0.0.1:%d", p[3]),
		query:    fmt.Sprintf("http://127.0.0.1:%d", p[0]),
	}
	// Startup takes a moment: wait for the query service (and the
	// receivers, started before it), or for Jaeger to exit.
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("jaeger exited: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(j.query + "/api/services")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", j.otlpHTTP); err == nil {
				c.Close()
				return j
			}
		}
	}
}

// jaegerTrace is a trace as Jaeger's query API returns it.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64 `json:"startTime"` // µs
		Duration  int64 `json:"duration"`  // µs
		Tags      []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
		Logs []struct {
			Fields []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"fields"`
		} `json:"logs"`
		ProcessID string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// traces asks Jaeger for every trace of the services between from and to.
func (j *jaeger) traces(t *testing.T, from, to time.Time, services ...string) map[string]jaegerTrace {
	t.Helper()
	out := map[string]jaegerTrace{}
	for _, svc := range services {
		q := url.Values{
			"service": {svc},
			"start":   {strconv.FormatInt(from.UnixMicro(), 10)},
			"end":     {strconv.FormatInt(to.UnixMicro(), 10)},
			"limit":   {"1000"},
		}
		resp, err := http.Get(j.query + "/api/traces?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			// A service Jaeger has not seen yet is a 404 or an empty list.
			continue
		}
		var r struct{ Data []jaegerTrace }
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("jaeger's answer: %v: %.200s", err, body)
		}
		for _, tr := range r.Data {
			out[tr.TraceID] = tr
		}
	}
	return out
}

// spans converts Jaeger's traces into the spans the checks read.
func jaegerSpans(traces map[string]jaegerTrace) []*span {
	var out []*span
	for _, tr := range traces {
		for _, s := range tr.Spans {
			sp := &span{trace: s.TraceID, id: s.SpanID, name: s.OperationName, service: tr.Processes[s.ProcessID].ServiceName, attrs: map[string]any{}}
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" {
					sp.parent = r.SpanID
				}
			}
			sp.start = time.UnixMicro(s.StartTime).UTC()
			sp.end = sp.start.Add(time.Duration(s.Duration) * time.Microsecond)
			for _, tag := range s.Tags {
				sp.attrs[tag.Key] = tag.Value
			}
			sp.kind, _ = sp.attrs["span.kind"].(string)
			for _, l := range s.Logs {
				for _, f := range l.Fields {
					if f.Key == "event" {
						sp.events = append(sp.events, fmt.Sprint(f.Value))
					}
				}
			}
			out = append(out, sp)
		}
	}
	return out
}

// waitSpans asks Jaeger until it has want spans of the services (it
// stores what it receives after a batch delay), and returns them.
func (j *jaeger) waitSpans(t *testing.T, want int, from, to time.Time, services ...string) []*span {
	t.Helper()
	for i := 0; ; i++ {
		spans := jaegerSpans(j.traces(t, from, to, services...))
		if len(spans) >= want {
			if len(spans) > want {
				t.Errorf("jaeger has %d spans, want %d", len(spans), want)
			}
			return spans
		}
		if i == 600 {
			t.Fatalf("jaeger has %d spans after a minute, want %d", len(spans), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// imageSaveOTLP is the image-save capture as OTLP/JSON, and its spans.
func imageSaveOTLP(t *testing.T) ([]byte, []*span) {
	t.Helper()
	out, stderr, code := runCLI(t, "analyze", "--example", "image-save", "-f", "otlp")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	return []byte(out), otlpSpans(t, []byte(out))
}

var imageSaveServices = []string{"glance", "keystone", "memcached", "glance DB", "keystone DB"}

// TestJaegerOTLPEndpoint exports the image-save capture to a real Jaeger
// with --otlp-endpoint (gRPC) and checks, through Jaeger's query API, the
// trees it stored.
func TestJaegerOTLPEndpoint(t *testing.T) {
	j := startJaeger(t)
	_, want := imageSaveOTLP(t)
	start, end := captureBounds(t, "image-save")
	out, stderr, code := runCLI(t, "analyze", "--example", "image-save", "--otlp-endpoint", "grpc://"+j.otlpGRPC)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != "" {
		t.Errorf("--otlp-endpoint without -o wrote to stdout: %.100s", out)
	}
	if !strings.Contains(stderr, "6 traces sent") {
		t.Errorf("stderr does not say 6 traces were sent: %s", stderr)
	}
	spans := j.waitSpans(t, len(want), start.Add(-time.Hour), end.Add(time.Hour), imageSaveServices...)
	checkImageSaveTraces(t, spans, start, end)
	checkSameSpans(t, spans, want)
	if t.Failed() {
		return
	}
	screenshotJaeger(t, j, spans, start, end)
}

// TestJaegerOTLPFile posts the -f otlp file to Jaeger's OTLP/HTTP port,
// as a collector would take it, and checks the trees Jaeger stored.
func TestJaegerOTLPFile(t *testing.T) {
	j := startJaeger(t)
	data, want := imageSaveOTLP(t)
	start, end := captureBounds(t, "image-save")
	resp, err := http.Post("http://"+j.otlpHTTP+"/v1/traces", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jaeger refused the OTLP/JSON file: %s: %s", resp.Status, body)
	}
	spans := j.waitSpans(t, len(want), start.Add(-time.Hour), end.Add(time.Hour), imageSaveServices...)
	checkImageSaveTraces(t, spans, start, end)
	checkSameSpans(t, spans, want)
}

// checkSameSpans checks Jaeger stored the spans written, with their ids,
// parents and services.
func checkSameSpans(t *testing.T, got, want []*span) {
	t.Helper()
	byID := map[string]*span{}
	for _, s := range got {
		byID[s.id] = s
	}
	for _, w := range want {
		g := byID[w.id]
		if g == nil {
			t.Errorf("span %s %s %q not in jaeger", w.id, w.service, w.name)
			continue
		}
		if g.trace != w.trace || g.parent != w.parent || g.service != w.service || g.name != w.name {
			t.Errorf("span %s: jaeger has %s/%s %s %q, written %s/%s %s %q", w.id, g.trace, g.parent, g.service, g.name, w.trace, w.parent, w.service, w.name)
		}
	}
}
