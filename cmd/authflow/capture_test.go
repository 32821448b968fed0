package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/filetrace"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/sequence"
)

// TestCaptureEndToEnd captures, as root, a local image download on lo
// while tracing the file reads of this process, and checks the diagram:
// the download, the image file's open and every byte read, inside it.
func TestCaptureEndToEnd(t *testing.T) {
	if err := live.CheckPrivileges(); err != nil {
		t.Skipf("live capture needs privileges: %v", err)
	}
	traceFiles := filetrace.Check() == nil
	if !traceFiles {
		t.Logf("file tracing unavailable: %v", filetrace.Check())
	}
	dir := t.TempDir()
	const image = "c6bca20f-183a-466f-9948-935b243c8190"
	store := filepath.Join(dir, "images")
	if err := os.Mkdir(store, 0o755); err != nil {
		t.Fatal(err)
	}
	const size = 1<<20 + 12345
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	if err := os.WriteFile(filepath.Join(store, image), content, 0o644); err != nil {
		t.Fatal(err)
	}

	// A glance-like server: the image file read in 64 KiB reads.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(filepath.Join(store, filepath.Base(filepath.Dir(r.URL.Path))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	pcap := filepath.Join(dir, "cap.pcapng")
	flowPath := filepath.Join(dir, "flow.json")
	args := []string{"capture", "-q", "-i", "lo", "--ports", strconv.Itoa(port), "--duration", "6s", "-w", pcap, "-o", flowPath,
		"--alias", "127.0.0.1:" + strconv.Itoa(port) + "=glance"}
	if traceFiles {
		args = append(args, "--trace-files", "--pid", strconv.Itoa(os.Getpid()), "--path-prefix", store)
	}
	done := make(chan string, 1)
	go func() {
		_, stderr, code := runCLI(t, args...)
		if code != exitOK {
			done <- "exit " + strconv.Itoa(code) + ": " + stderr
			return
		}
		done <- ""
	}()
	// The capture file appears once capturing (and tracing) has started.
	for deadline := time.Now().Add(4 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pcap); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("capture did not start")
		}
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(port)+"/v2/images/"+image+"/file", nil)
	req.Header.Set("X-Auth-Token", "gAAAAABtest-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(got) != size {
		t.Fatalf("downloaded %d bytes", len(got))
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}

	data, err := os.ReadFile(flowPath)
	if err != nil {
		t.Fatal(err)
	}
	var flow sequence.Flow
	if err := json.Unmarshal(data, &flow); err != nil {
		t.Fatal(err)
	}
	byKind := map[sequence.Kind]*sequence.Message{}
	for _, m := range flow.Messages {
		if byKind[m.Kind] == nil {
			byKind[m.Kind] = m
		}
	}
	dl := byKind["glance.image.download"]
	if dl == nil || dl.Image != image {
		t.Fatalf("no download of %s in the flow: %s", image, data)
	}
	if r := byKind["http.response"]; r == nil || r.Status != 200 || r.ReplyTo != dl.Seq {
		t.Fatalf("no 200 answer to the download: %s", data)
	}
	for _, path := range []string{pcap} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (%v)", path, st.Mode().Perm(), err)
		}
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		// The server's port is ephemeral: it may be registered to another
		// dissector, so tell tshark it is HTTP.
		out, err := exec.Command(tshark, "-r", pcap, "-d", "tcp.port=="+strconv.Itoa(port)+",http",
			"-Y", "http.request", "-T", "fields", "-e", "http.request.uri").Output()
		if err != nil || !bytes.Contains(out, []byte(image)) {
			t.Errorf("tshark cannot read the capture's download: %v %s", err, out)
		}
	}
	if !traceFiles {
		return
	}
	open, read := byKind["file.open"], byKind["file.read"]
	if open == nil || read == nil {
		t.Fatalf("no file open or read in the flow: %s", data)
	}
	if open.Cause != dl.Seq || read.Cause != dl.Seq || open.Image != image {
		t.Errorf("file events not tied to the download %d: open cause %d, read cause %d", dl.Seq, open.Cause, read.Cause)
	}
	wantReads := size/(64<<10) + 2 // full reads, the partial one, the EOF read
	if read.Bytes == nil || *read.Bytes != size || read.Calls != wantReads {
		t.Errorf("file.read: %v bytes in %d calls, want %d in %d", read.Bytes, read.Calls, size, wantReads)
	}
	if st, err := os.Stat(fsevent.SidecarPath(pcap)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("sidecar: %v %v", st, err)
	}
	// analyze finds the sidecar by itself.
	out, stderr, code := runCLI(t, "analyze", "-f", "json", "--path-prefix", store, pcap)
	if code != exitOK || !bytes.Contains([]byte(out), []byte(`"file.read"`)) {
		t.Errorf("analyze of the capture: exit %d, %s, no file.read", code, stderr)
	}
}
