package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/live"
)

// liveExchange captures, on lo, a glance-like server answering image
// downloads while the test downloads n times, with the extra capture
// flags; it returns capture's stderr and exit code, and when the
// downloads were made.
func liveExchange(t *testing.T, n int, extra ...string) (string, int, time.Time, time.Time) {
	t.Helper()
	if err := live.CheckPrivileges(); err != nil {
		t.Skipf("live capture needs privileges: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte(strings.Repeat("image data ", 1000)))
	})}
	go srv.Serve(ln)
	defer srv.Close()

	pcap := filepath.Join(t.TempDir(), "cap.pcapng")
	args := append([]string{"capture", "-i", "lo", "--ports", port, "--duration", "5s", "-w", pcap,
		"--alias", "127.0.0.1:" + port + "=glance"}, extra...)
	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, code := runCLI(t, args...)
		done <- result{stderr, code}
	}()
	for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pcap); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("capture did not start")
		}
	}
	from := time.Now()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range n {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/v2/images/c6bca20f-183a-466f-9948-93500000000"+strconv.Itoa(i)+"/file", nil)
		req.Header.Set("X-Auth-Token", "gAAAAABlive-test-token")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	to := time.Now()
	r := <-done
	return r.stderr, r.code, from, to
}

// TestJaegerLiveCapture: capture --otlp-endpoint sends each request's
// trace to Jaeger, where it shows up with the service, the request and its
// status.
func TestJaegerLiveCapture(t *testing.T) {
	j := startJaeger(t)
	stderr, code, from, to := liveExchange(t, 2, "--otlp-endpoint", "http://"+j.otlpHTTP)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "2 traces sent") {
		t.Errorf("stderr does not say 2 traces were sent: %s", stderr)
	}
	spans := j.waitSpans(t, 2, from.Add(-time.Minute), to.Add(time.Minute), "glance")
	for _, s := range spans {
		if s.parent != "" || s.service != "glance" || s.name != "GET /v2/images/{id}/file" || s.kind != "server" {
			t.Errorf("span %s %q (kind %s, parent %q), want glance's server span GET /v2/images/{id}/file", s.service, s.name, s.kind, s.parent)
		}
		if got := s.attr("http.response.status_code"); got != "200" {
			t.Errorf("status %q, want 200", got)
		}
		if s.start.Before(from.Add(-time.Second)) || s.end.After(to.Add(time.Second)) {
			t.Errorf("span %s..%s outside the downloads' %s..%s", s.start, s.end, from, to)
		}
	}
	if spans[0].trace == spans[1].trace {
		t.Errorf("the two requests share a trace")
	}
}

// TestLiveCaptureBackendDown: with the OTLP endpoint down, capture still
// captures everything and says how many traces it could not send.
func TestLiveCaptureBackendDown(t *testing.T) {
	down := freePorts(t, 1)[0] // nothing listens there
	stderr, code, _, _ := liveExchange(t, 3, "--otlp-endpoint", "http://127.0.0.1:"+strconv.Itoa(down), "--otlp-retry", "1s")
	t.Logf("capture said:\n%s", stderr)
	if code != exitPartial {
		t.Errorf("exit %d, want %d (traces not sent): %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "0 traces sent, 3 could not be sent") {
		t.Errorf("stderr does not say the 3 traces could not be sent:\n%s", stderr)
	}
	if !strings.Contains(stderr, "packets written to") {
		t.Errorf("capture did not finish writing its packets:\n%s", stderr)
	}
}
