package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/live"
)

// TestCaptureEmbedsKeyLog captures, as root, an HTTPS request on lo from a
// Go client writing its key log, with --tls-keylog naming that file: the
// pcapng written carries the keys in a Decryption Secrets Block, so
// analyze decrypts it without the flag, and so does tshark.
func TestCaptureEmbedsKeyLog(t *testing.T) {
	if err := live.CheckPrivileges(); err != nil {
		t.Skipf("live capture needs privileges: %v", err)
	}
	dir := t.TempDir()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"images": []}`)
	}))
	srv.StartTLS()
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port := u.Port()

	keylog := filepath.Join(dir, "keys.txt")
	kf, err := os.OpenFile(keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	client := srv.Client()
	tr := client.Transport.(*http.Transport)
	tr.TLSClientConfig.KeyLogWriter = kf

	pcap := filepath.Join(dir, "cap.pcapng")
	flowPath := filepath.Join(dir, "flow.txt")
	done := make(chan string, 1)
	go func() {
		// The key log is empty when the capture starts: the live flow is
		// decrypted with the lines added while capturing.
		_, stderr, code := runCLI(t, "capture", "-q", "-i", "lo", "--ports", port, "--duration", "4s", "-w", pcap,
			"--tls-keylog", keylog, "-o", flowPath, "-f", "text")
		if code != exitOK {
			done <- "exit " + strconv.Itoa(code) + ": " + stderr
			return
		}
		done <- ""
	}()
	for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pcap); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("capture did not start")
		}
	}
	resp, err := client.Get(srv.URL + "/v2/images")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("not TLS 1.3: %+v", resp.TLS)
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}

	if live, err := os.ReadFile(flowPath); err != nil || !bytes.Contains(live, []byte("GET /v2/images")) {
		t.Errorf("the live flow is not decrypted: %v\n%s", err, live)
	}
	keys, err := os.ReadFile(keylog)
	if err != nil || len(keys) == 0 {
		t.Fatalf("the client wrote no key log: %v", err)
	}
	embedded, err := capture.TLSKeyLogs(pcap)
	if err != nil || !bytes.Equal(bytes.Join(embedded, nil), keys) {
		t.Fatalf("embedded key logs %q (%v), want the client's %q", embedded, err, keys)
	}
	out, stderr, code := runCLI(t, "analyze", "-f", "text", pcap)
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "GET /v2/images") || !strings.Contains(out, "200 OK") {
		t.Errorf("analyze does not decrypt the capture with its embedded keys:\n%s", out)
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.Command(tshark, "-r", pcap, "-d", "tcp.port=="+port+",tls", "-Y", "http.request",
			"-T", "fields", "-e", "http.request.uri").Output()
		if err != nil || strings.TrimSpace(string(out)) != "/v2/images" {
			t.Errorf("tshark does not decrypt the capture with its embedded keys: %v %q", err, out)
		}
	}
}
