package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// The hostile inputs (second round): file events without their open,
// files that are no captures or logs (FIFOs, devices, someone's
// /etc/shadow), decompression bombs, millions of pcapng interfaces,
// markup and escape sequences in names from the service catalog. Each
// runs in a fresh process (the test binary as TestMemoryHelper) that
// reports its exit code and peak RSS: the exit code and a memory bound
// are asserted; a run that does not end is killed after helperTimeout
// (a hang detector, not a timing assertion). The static inputs live in
// testdata/hostile (rewritten with -update-hostile), the big or special
// ones (a FIFO, a 256 MiB bomb) are made by the test.

// helperTimeout kills a helper run that hangs.
const helperTimeout = 5 * time.Minute

// inputCase is one hostile input and what authflow must do with it.
type inputCase struct {
	name string
	// args builds the inputs in dir (or names those of testdata/hostile)
	// and returns the authflow arguments and, if not "", a file for
	// standard input.
	args func(t *testing.T, dir string) (args []string, stdin string)
	exit int
	// stderr lists substrings of standard error.
	stderr []string
	// stdout lists substrings of standard output.
	stdout []string
	// never lists strings that neither output nor standard error may hold.
	never []string
	// maxRSS bounds the peak resident set size of the run, in MiB.
	maxRSS int
}

// fileEventsCapture is the capture the file event cases go with: a
// download of imageID that the server resets.
const fileEventsCapture = "file-events-without-open.pcap"

// imagePath is where glance keeps imageID.
const imagePath = "/var/lib/glance/images/" + imageID

// buildSidecarWithoutOpen writes the sidecar of fileEventsCapture: reads,
// a write and closes of descriptors whose open was before tracing, out
// of order, and one close of a descriptor never seen.
func buildSidecarWithoutOpen() []byte {
	at := func(ms int) time.Time { return hostileT0.Add(time.Duration(ms) * time.Millisecond) }
	evs := []fsevent.Event{
		{Time: at(3), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Read, Syscall: "read", FD: 14, Path: imagePath, Bytes: 65536, Result: 65536},
		{Time: at(1), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Read, Syscall: "read", FD: 14, Path: imagePath, Bytes: 65536, Result: 65536},
		{Time: at(2), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Write, Syscall: "write", FD: 15, Path: imagePath + ".tmp", Bytes: 100, Result: 100},
		{Time: at(4), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Close, Syscall: "close", FD: 14, Path: imagePath},
		{Time: at(5), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Close, Syscall: "close", FD: 99},
		{Time: at(6), PID: 28685, TID: 28685, Comm: "glance-api", Op: fsevent.Read, Syscall: "pread64", FD: 14, Path: imagePath, Bytes: 10, Result: 10},
	}
	var buf bytes.Buffer
	if err := fsevent.WriteJSONL(&buf, fsevent.NewHeader("ebpf"), evs); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// buildStraceWithoutOpen writes an strace -f -ttt -y log of glance
// reading and closing a descriptor it opened before strace attached.
func buildStraceWithoutOpen() []byte {
	var b strings.Builder
	t := float64(hostileT0.UnixMicro()) / 1e6
	fmt.Fprintf(&b, "28685 %.6f read(14<%s>, \"\\0\\0\\0\\0\"..., 65536) = 65536\n", t+0.001, imagePath)
	fmt.Fprintf(&b, "28685 %.6f read(14<%s>, \"\\0\\0\\0\\0\"..., 65536) = 4096\n", t+0.002, imagePath)
	fmt.Fprintf(&b, "28685 %.6f write(15<%s.tmp>, \"x\", 1) = 1\n", t+0.0025, imagePath)
	fmt.Fprintf(&b, "28685 %.6f close(14<%s>) = 0\n", t+0.003, imagePath)
	return []byte(b.String())
}

// buildMarkupCatalog writes a token issue whose service catalog names
// the image service with escape sequences, bidi controls and PlantUML
// and Mermaid markup, then an image list from that service.
func buildMarkupCatalog(testing.TB) []byte {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:50100", keystone)
	c.handshake()
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "x"}}}}}`
	c.sendString(false, "POST /v3/auth/tokens HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nContent-Type: application/json\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n"+body)
	resp := `{"token": {"methods": ["password"], "user": {"name": "admin", "domain": {"name": "Default"}}, "catalog": [{"type": "image", "name": ` +
		`"glance\u001b]0;pwned\u0007\u001b[2J\u202eevil\u2028<img:http://127.0.0.1:9/x.png> %getenv(\"PATH\") [[http://e.example]] end; Note",` +
		` "endpoints": [{"interface": "public", "url": "http://198.18.0.11:9292"}]}]}}`
	c.sendString(true, "HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAABmarkupcatalogtoken0123456789\r\nContent-Type: application/json\r\nContent-Length: "+itoa(len(resp))+"\r\n\r\n"+resp)
	c.close()
	g := newConn(f, "198.18.0.100:50102", "198.18.0.11:9292")
	g.handshake()
	g.sendString(false, "GET /v2/images?name=%1b%5b2J HTTP/1.1\r\nHost: 198.18.0.11:9292\r\nX-Auth-Token: gAAAAABmarkupcatalogtoken0123456789\r\n\r\n")
	g.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"images\": []}")
	g.close()
	return f.pcap()
}

// hostileInputFiles are the static inputs of testdata/hostile these
// cases use, with their builders.
var hostileInputFiles = map[string]func(t testing.TB) []byte{
	fileEventsCapture:                      buildRSTMidBody,
	fsevent.SidecarPath(fileEventsCapture): func(testing.TB) []byte { return buildSidecarWithoutOpen() },
	"strace-without-open.log":              func(testing.TB) []byte { return buildStraceWithoutOpen() },
	"markup-catalog.pcap":                  buildMarkupCatalog,
}

// hostileInput returns the path of a static input, rewriting it with
// -update-hostile.
func hostileInput(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(hostileDir, name)
	if *updateHostile {
		if err := os.WriteFile(path, hostileInputFiles[name](t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// gzipBomb writes a pcap header followed by n MiB of zeros (empty
// records), gzip'd: about 1 KiB per MiB.
func gzipBomb(t testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	zw.Write(hdr)
	zero := make([]byte, 1<<20)
	for range n {
		zw.Write(zero)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// idbBomb writes a pcapng section with n interface description blocks
// and no packet, gzip'd.
func idbBomb(t testing.TB, path string, n int) {
	var raw bytes.Buffer
	shb := make([]byte, 28)
	binary.LittleEndian.PutUint32(shb[0:], 0x0a0d0d0a)
	binary.LittleEndian.PutUint32(shb[4:], 28)
	binary.LittleEndian.PutUint32(shb[8:], 0x1a2b3c4d)
	binary.LittleEndian.PutUint16(shb[12:], 1)
	binary.LittleEndian.PutUint64(shb[16:], ^uint64(0))
	binary.LittleEndian.PutUint32(shb[24:], 28)
	raw.Write(shb)
	idb := make([]byte, 20)
	binary.LittleEndian.PutUint32(idb[0:], 1)
	binary.LittleEndian.PutUint32(idb[4:], 20)
	binary.LittleEndian.PutUint16(idb[8:], 1) // Ethernet
	binary.LittleEndian.PutUint32(idb[12:], 262144)
	binary.LittleEndian.PutUint32(idb[16:], 20)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zw.Write(raw.Bytes())
	chunk := bytes.Repeat(idb, 4096)
	for i := 0; i < n; i += 4096 {
		zw.Write(chunk)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func inputCases() []inputCase {
	example := func(extra ...string) func(*testing.T, string) ([]string, string) {
		return func(*testing.T, string) ([]string, string) {
			return append([]string{"analyze", "-f", "json", "--example", "image-save"}, extra...), ""
		}
	}
	tokenIssueCap := filepath.Join(capturesDir, "token-issue", "ens.pcap.gz")
	return []inputCase{
		{
			name: "sidecar-without-open",
			args: func(t *testing.T, dir string) ([]string, string) {
				hostileInput(t, fsevent.SidecarPath(fileEventsCapture))
				return []string{"analyze", "-f", "json", "--detail=2", hostileInput(t, fileEventsCapture)}, ""
			},
			exit: exitOK, stdout: []string{`"label": "read(fd 14) = 65536"`, `"path": "` + imagePath + `"`}, maxRSS: 256,
		},
		{
			name: "sidecar-without-open-filter",
			args: func(t *testing.T, dir string) ([]string, string) {
				hostileInput(t, fsevent.SidecarPath(fileEventsCapture))
				return []string{"filter", hostileInput(t, fileEventsCapture)}, ""
			},
			exit: exitOK, maxRSS: 256,
		},
		{
			name: "strace-y-without-open",
			args: func(t *testing.T, dir string) ([]string, string) {
				return []string{"analyze", "-f", "text", "--strace", hostileInput(t, "strace-without-open.log"), filepath.Join(hostileDir, "rst-mid-body.pcap")}, ""
			},
			exit: exitOK, stdout: []string{"glance ← Local File System: read 68.0 KiB in 2 reads (fd 14, opened before tracing)"}, maxRSS: 256,
		},
		{name: "path-prefix-empty", args: example("--path-prefix", ""), exit: exitOK, maxRSS: 256},
		{name: "path-prefix-empty-detail-2", args: example("--path-prefix", "", "--detail=2"), exit: exitOK, maxRSS: 256},
		{
			name: "fifo-capture",
			args: func(t *testing.T, dir string) ([]string, string) {
				p := filepath.Join(dir, "capture.pcap")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"analyze", p}, ""
			},
			exit: exitFailure, stderr: []string{"capture.pcap: not a regular file (a FIFO)"}, maxRSS: 128,
		},
		{
			name: "fifo-strace",
			args: func(t *testing.T, dir string) ([]string, string) {
				p := filepath.Join(dir, "glance.strace")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"analyze", "--strace", p, tokenIssueCap}, ""
			},
			exit: exitPartial, stderr: []string{"glance.strace: not a regular file"}, maxRSS: 256,
		},
		{
			name: "dev-zero-strace",
			args: func(*testing.T, string) ([]string, string) {
				return []string{"analyze", "--strace", "/dev/zero", tokenIssueCap}, ""
			},
			exit: exitPartial, stderr: []string{"/dev/zero: not a regular file"}, maxRSS: 256,
		},
		{
			name: "dev-zero-capture",
			args: func(*testing.T, string) ([]string, string) { return []string{"analyze", "/dev/zero"}, "" },
			exit: exitFailure, stderr: []string{"/dev/zero: not a regular file (a character device)"}, maxRSS: 128,
		},
		{
			name: "shadow-as-strace",
			args: func(t *testing.T, dir string) ([]string, string) {
				p := filepath.Join(dir, "shadow")
				line := "root:$y$j9T$SHADOWHASHSECRET:20228:0:99999:7:::\n"
				if err := os.WriteFile(p, []byte(strings.Repeat(line, 40)), 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"analyze", "--strace", filepath.Join(dir, "shad*"), tokenIssueCap}, ""
			},
			exit: exitPartial, stderr: []string{"shadow: not an strace log"}, never: []string{"SHADOWHASHSECRET", "root:"}, maxRSS: 256,
		},
		{
			name: "gzip-bomb-256MiB",
			args: func(t *testing.T, dir string) ([]string, string) {
				p := filepath.Join(dir, "bomb.pcap.gz")
				gzipBomb(t, p, 256)
				return []string{"analyze", "-f", "json", p}, ""
			},
			exit: exitPartial, stderr: []string{"bomb.pcap.gz: ", "a decompression bomb"}, maxRSS: 512,
		},
		{
			name: "max-input",
			args: func(*testing.T, string) ([]string, string) {
				return []string{"analyze", "-f", "json", "--max-input", "4KiB", tokenIssueCap}, ""
			},
			exit: exitPartial, stderr: []string{"more than --max-input=4096 bytes"}, maxRSS: 256,
		},
		{
			name: "stdin",
			args: func(*testing.T, string) ([]string, string) {
				return []string{"analyze", "-f", "text", "-"}, tokenIssueCap
			},
			exit: exitOK, stdout: []string{"POST /v3/auth/tokens: password admin@Default"}, maxRSS: 256,
		},
		{
			name: "pcapng-1M-interfaces",
			args: func(t *testing.T, dir string) ([]string, string) {
				p := filepath.Join(dir, "idb.pcapng.gz")
				idbBomb(t, p, 1<<20)
				return []string{"analyze", "-f", "json", "--max-memory", "64MiB", p}, ""
			},
			exit: exitPartial, stderr: []string{"idb.pcapng.gz: ", "more than 65536 interfaces"}, maxRSS: 256,
		},
		{
			name: "markup-catalog-text",
			args: func(t *testing.T, dir string) ([]string, string) {
				return []string{"analyze", "-f", "text", "--findings", "--summary", hostileInput(t, "markup-catalog.pcap")}, ""
			},
			exit: exitOK, stdout: []string{`glance\x1b]0;pwned\x07\x1b[2J\u202eevil`}, never: []string{"\x1b", "\u202e", "\u2028", "\a"}, maxRSS: 256,
		},
		{
			name: "markup-catalog-plantuml",
			args: func(t *testing.T, dir string) ([]string, string) {
				return []string{"analyze", "-f", "plantuml", hostileInput(t, "markup-catalog.pcap")}, ""
			},
			exit: exitOK, never: []string{"<img", "%getenv", "[[", "\x1b", "\u202e"}, maxRSS: 256,
		},
		{
			name: "markup-catalog-mermaid",
			args: func(t *testing.T, dir string) ([]string, string) {
				return []string{"analyze", "-f", "mermaid", hostileInput(t, "markup-catalog.pcap")}, ""
			},
			exit: exitOK, never: []string{"<img", "\x1b", "\u202e", "end;"}, maxRSS: 256,
		},
		{
			name: "secrets",
			args: func(*testing.T, string) ([]string, string) {
				return []string{"analyze", "-f", "json", "--detail=2", "--memcache-secret", craftedMemcacheSecret, filepath.Join(hostileDir, "secrets.pcap")}, ""
			},
			exit: exitOK, never: append(craftedSecrets, craftedToken[:40]), maxRSS: 256,
		},
	}
}

// TestHostileInputs runs each case in a fresh process and checks its exit
// code, standard error, what it must never show and its peak RSS.
func TestHostileInputs(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range inputCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args, stdin := tc.args(t, dir)
			ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, "-test.run=^TestMemoryHelper$")
			cmd.Env = append(os.Environ(), "AUTHFLOW_MEMORY_HELPER="+strings.Join(args, "\x1f"), "AUTHFLOW_MEMORY_ANY_EXIT=1")
			if stdin != "" {
				f, err := os.Open(stdin)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("%v: did not end within %v (a hang)", args, helperTimeout)
			}
			out := stdout.String()
			code, rss := -1, -1.0
			for _, line := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(line, "exit "); ok {
					fmt.Sscan(v, &code)
				}
			}
			if r, _, _, err := parseMemoryReport(stdout.Bytes()); err == nil {
				rss = r / (1 << 20)
			}
			t.Logf("%v: exit %d, peak RSS %.0f MiB (%v)\nstderr: %s", args, code, rss, runErr, lastLines(stderr.String(), 5))
			if code != tc.exit {
				t.Errorf("exit %d, want %d", code, tc.exit)
			}
			if strings.Contains(out+stderr.String(), "panic") {
				t.Errorf("panic: %s", lastLines(out+stderr.String(), 20))
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr does not contain %q", s)
				}
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout does not contain %q", s)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(out, s) || strings.Contains(stderr.String(), s) {
					t.Errorf("output or stderr holds %q", s)
				}
			}
			if rss < 0 {
				t.Errorf("no memory report")
			} else if rss > float64(tc.maxRSS) {
				t.Errorf("peak RSS %.0f MiB, more than the %d MiB bound", rss, tc.maxRSS)
			}
		})
	}
}

// TestHostileInputFilesUpToDate checks the static inputs are what their
// builders write.
func TestHostileInputFilesUpToDate(t *testing.T) {
	for name, build := range hostileInputFiles {
		got, err := os.ReadFile(filepath.Join(hostileDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, build(t)) {
			t.Errorf("%s is not what its builder writes: go test ./cmd/authflow -run TestHostile -update-hostile", name)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
