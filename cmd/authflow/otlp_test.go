package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// span is one span, as read from OTLP/JSON or from Jaeger's query API, for
// checking trees the same way whatever the source.
type span struct {
	trace, id, parent string
	service, name     string
	kind              string // "server", "client", …
	start, end        time.Time
	attrs             map[string]any
	events            []string
}

// attr returns an attribute as a string (numbers in decimal).
func (s *span) attr(k string) string {
	v, ok := s.attrs[k]
	if !ok {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// otlpJSON is the part of an ExportTraceServiceRequest in JSON the checks
// read.
type otlpJSON struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes []otlpAttr `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []struct {
			Spans []struct {
				TraceID      string     `json:"traceId"`
				SpanID       string     `json:"spanId"`
				ParentSpanID string     `json:"parentSpanId"`
				Name         string     `json:"name"`
				Kind         int        `json:"kind"`
				Start        string     `json:"startTimeUnixNano"`
				End          string     `json:"endTimeUnixNano"`
				Attributes   []otlpAttr `json:"attributes"`
				Events       []struct {
					Name string `json:"name"`
				} `json:"events"`
			} `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

type otlpAttr struct {
	Key   string `json:"key"`
	Value struct {
		String *string  `json:"stringValue"`
		Int    *string  `json:"intValue"`
		Bool   *bool    `json:"boolValue"`
		Double *float64 `json:"doubleValue"`
	} `json:"value"`
}

func (a otlpAttr) value() any {
	switch v := a.Value; {
	case v.String != nil:
		return *v.String
	case v.Int != nil:
		return *v.Int
	case v.Bool != nil:
		return *v.Bool
	case v.Double != nil:
		return *v.Double
	}
	return nil
}

// otlpSpans reads the spans of an OTLP/JSON file.
func otlpSpans(t *testing.T, data []byte) []*span {
	t.Helper()
	var req otlpJSON
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("OTLP/JSON: %v", err)
	}
	kinds := map[int]string{1: "internal", 2: "server", 3: "client"}
	var out []*span
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, a := range rs.Resource.Attributes {
			if a.Key == "service.name" && a.Value.String != nil {
				service = *a.Value.String
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := &span{trace: s.TraceID, id: s.SpanID, parent: s.ParentSpanID, service: service, name: s.Name, kind: kinds[s.Kind], attrs: map[string]any{}}
				sp.start, sp.end = unixNano(t, s.Start), unixNano(t, s.End)
				for _, a := range s.Attributes {
					sp.attrs[a.Key] = a.value()
				}
				for _, e := range s.Events {
					sp.events = append(sp.events, e.Name)
				}
				out = append(out, sp)
			}
		}
	}
	return out
}

func unixNano(t *testing.T, s string) time.Time {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return time.Unix(0, n).UTC()
}

// captureBounds returns when the example capture's flow starts and ends.
func captureBounds(t *testing.T, example string) (time.Time, time.Time) {
	t.Helper()
	out, stderr, code := runCLI(t, "analyze", "-q", "--example", example, "-f", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var f struct{ Start, End time.Time }
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	return f.Start, f.End
}

// checkImageSaveTraces checks the traces of the image-save capture: one
// per request a client made, the download's at glance with the cache
// lookup, the database burst and the image file read under it, and the
// first request's with the validation at keystone (keystone's database
// burst under it), glance's own authentication and its database burst.
// Times are within the capture's (to the microsecond: Jaeger keeps no
// more).
func checkImageSaveTraces(t *testing.T, spans []*span, start, end time.Time) {
	t.Helper()
	children := map[string][]*span{}
	var roots []*span
	for _, s := range spans {
		if s.parent == "" {
			roots = append(roots, s)
		} else {
			children[s.parent] = append(children[s.parent], s)
		}
		if s.start.Before(start.Truncate(time.Microsecond)) || s.end.After(end.Add(time.Microsecond)) || s.end.Before(s.start) {
			t.Errorf("%s %q: %s..%s is not within the capture's %s..%s", s.service, s.name, s.start, s.end, start, end)
		}
	}
	var rootNames []string
	for _, r := range roots {
		rootNames = append(rootNames, r.service+" "+r.name)
	}
	slices.Sort(rootNames)
	wantRoots := []string{
		"glance GET /", "glance GET /v2/images", "glance GET /v2/images/{id}", "glance GET /v2/images/{id}/file",
		"keystone GET /v3", "keystone POST /v3/auth/tokens",
	}
	if !slices.Equal(rootNames, wantRoots) {
		t.Fatalf("traces (root spans):\n got %q\nwant %q", rootNames, wantRoots)
	}
	root := func(name string) *span {
		for _, r := range roots {
			if r.service == "glance" && r.name == name {
				return r
			}
		}
		return nil
	}
	// child finds the one child of parent at service with that name, and
	// checks it is in parent's trace and within its time.
	child := func(parent *span, service, name string) *span {
		t.Helper()
		var found []*span
		for _, c := range children[parent.id] {
			if c.service == service && c.name == name {
				found = append(found, c)
			}
		}
		if len(found) != 1 {
			var have []string
			for _, c := range children[parent.id] {
				have = append(have, c.service+" "+c.name)
			}
			t.Fatalf("under %s %q: %d spans %s %q, want 1 (have %q)", parent.service, parent.name, len(found), service, name, have)
		}
		c := found[0]
		if c.trace != parent.trace {
			t.Errorf("%s %q: trace %s, its parent's %s", service, name, c.trace, parent.trace)
		}
		return c
	}
	want := func(s *span, k, v string) {
		t.Helper()
		if got := s.attr(k); got != v {
			t.Errorf("%s %q: %s = %q, want %q", s.service, s.name, k, got, v)
		}
	}

	dl := root("GET /v2/images/{id}/file")
	want(dl, "http.response.status_code", "200")
	want(dl, "http.request.method", "GET")
	want(dl, "url.path", "/v2/images/c6bca20f-183a-466f-9948-935b243c8190/file")
	want(dl, "openstack.image.id", "c6bca20f-183a-466f-9948-935b243c8190")
	want(dl, "openstack.token", "047cf66b0773")
	if dl.kind != "server" {
		t.Errorf("download: kind %q, want server", dl.kind)
	}
	get := child(dl, "glance", "memcached get")
	want(get, "db.system.name", "memcached")
	want(get, "openstack.cache.hit", "true")
	if get.kind != "client" {
		t.Errorf("memcached get: kind %q, want client", get.kind)
	}
	child(get, "memcached", "memcached get")
	db := child(dl, "glance", "mysql BATCH")
	want(db, "db.system.name", "mysql")
	want(db, "db.response.returned_rows", "5")
	child(db, "glance DB", "mysql BATCH")
	file := child(dl, "glance", "file open/read")
	want(file, "file.path", "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190")
	want(file, "openstack.file.bytes", "4521984")

	show := root("GET /v2/images/{id}")
	want(show, "http.response.status_code", "404")
	miss := child(show, "glance", "memcached get")
	want(miss, "openstack.cache.hit", "false")
	val := child(show, "glance", "GET /v3/auth/tokens")
	want(val, "http.response.status_code", "200")
	want(val, "openstack.kind", "keystone.token.validate")
	want(val, "openstack.parent.inferred", "true")
	want(val, "openstack.parent.evidence", "token")
	ks := child(val, "keystone", "GET /v3/auth/tokens")
	if ks.kind != "server" {
		t.Errorf("validation at keystone: kind %q, want server", ks.kind)
	}
	ksdb := child(ks, "keystone", "mysql BATCH")
	want(ksdb, "db.response.returned_rows", "102")
	child(ksdb, "keystone DB", "mysql BATCH")
	auth := child(show, "glance", "POST /v3/auth/tokens")
	want(auth, "http.response.status_code", "201")
	want(auth, "openstack.user", "glance@Default")
	child(auth, "keystone", "POST /v3/auth/tokens")
	gdb := child(show, "glance", "mysql BATCH")
	want(gdb, "db.response.returned_rows", "8")
	child(show, "glance", "memcached set")
}

// TestGoldenOTLP writes the image-save capture as OTLP/JSON, compares it
// with the golden file and checks its trace tree.
func TestGoldenOTLP(t *testing.T) {
	out, stderr, code := runCLI(t, "analyze", "--example", "image-save", "-f", "otlp")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "image-save.otlp.json", out)
	start, end := captureBounds(t, "image-save")
	spans := otlpSpans(t, []byte(out))
	checkImageSaveTraces(t, spans, start, end)

	// Findings are events on the spans they cite.
	var events []string
	for _, s := range spans {
		for _, e := range s.events {
			events = append(events, s.service+" "+s.name+": "+e)
		}
	}
	if !slices.Contains(events, "glance memcached set: cache-unprotected") {
		t.Errorf("no cache-unprotected event on glance's memcached set; events: %q", events)
	}

	// The same capture gives the same ids; -o NAME.otlp.json picks the
	// format.
	path := filepath.Join(t.TempDir(), "flow.otlp.json")
	if _, stderr, code := runCLI(t, "analyze", "-q", "--example", "image-save", "-o", path); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != out {
		t.Errorf("-o flow.otlp.json differs from -f otlp:\n%s", firstDiff(out, string(again)))
	}
}

// otlpSink is a stand-in OTLP/HTTP receiver that takes every export; its
// TLS twin serves the same over HTTPS. It counts the exports.
type otlpSink struct {
	plain, tls *httptest.Server
	exports    atomic.Int64
	// caFile, certFile and keyFile are PEM files: the TLS server's
	// certificate (to trust) and a certificate and key to present.
	caFile, certFile, keyFile string
}

func newOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	s := &otlpSink{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		s.exports.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
	s.plain = httptest.NewServer(h)
	s.tls = httptest.NewTLSServer(h)
	t.Cleanup(s.plain.Close)
	t.Cleanup(s.tls.Close)
	dir := t.TempDir()
	cert := s.tls.Certificate()
	key, err := x509.MarshalPKCS8PrivateKey(s.tls.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	s.caFile, s.certFile, s.keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{
		s.caFile:   {Type: "CERTIFICATE", Bytes: cert.Raw},
		s.certFile: {Type: "CERTIFICATE", Bytes: cert.Raw},
		s.keyFile:  {Type: "PRIVATE KEY", Bytes: key},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestOTLPEndpointFlags sends the image-save traces with each of the TLS
// and header options, and checks the bad ones are usage errors.
func TestOTLPEndpointFlags(t *testing.T) {
	sink := newOTLPSink(t)
	base := []string{"analyze", "--example", "image-save"}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--otlp-endpoint", sink.plain.URL, "--otlp-header", "Authorization=Bearer x", "--otlp-retry", "5s", "--otlp-queue", "10"}, exitOK},
		{[]string{"--otlp-endpoint", sink.tls.URL, "--otlp-ca", sink.caFile}, exitOK},
		{[]string{"--otlp-endpoint", sink.tls.URL, "--otlp-ca", sink.caFile, "--otlp-cert", sink.certFile, "--otlp-key", sink.keyFile}, exitOK},
		{[]string{"--otlp-endpoint", sink.tls.URL, "--otlp-insecure-skip-verify"}, exitOK},
		{[]string{"--otlp-endpoint", "127.0.0.1:4317"}, exitUsage},
		{[]string{"--otlp-endpoint", sink.plain.URL, "--otlp-header", "nonsense"}, exitUsage},
		{[]string{"--otlp-endpoint", sink.plain.URL, "--otlp-queue", "0"}, exitUsage},
		{[]string{"--otlp-endpoint", sink.tls.URL, "--otlp-cert", sink.certFile}, exitUsage},
	} {
		before := sink.exports.Load()
		out, stderr, code := runCLI(t, append(base, c.args...)...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, stderr)
			continue
		}
		if c.code != exitOK {
			continue
		}
		if out != "" {
			t.Errorf("%v: wrote to stdout", c.args)
		}
		if !strings.Contains(stderr, "6 traces sent") || sink.exports.Load() == before {
			t.Errorf("%v: the traces did not reach the sink (%d exports): %s", c.args, sink.exports.Load()-before, stderr)
		}
	}
	// -o and --otlp-endpoint: both.
	path := filepath.Join(t.TempDir(), "flow.mmd")
	if _, stderr, code := runCLI(t, append(base, "--otlp-endpoint", sink.plain.URL, "-o", path)...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(b), "sequenceDiagram") {
		t.Errorf("-o with --otlp-endpoint wrote no diagram: %v", err)
	}
}
