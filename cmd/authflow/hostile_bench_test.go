package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// BenchmarkMemory measures the peak memory of `authflow analyze` on
// captures built to stress it, each run in a fresh process (the test
// binary itself, see TestMemoryHelper): peak RSS (the kernel's VmHWM) and
// the peak of live heap objects (sampled every millisecond).
//
//	go test -run='^$' -bench=Memory -benchtime=1x ./cmd/authflow/
//
// half-open-100000 is 100 000 connections that never finish (a third
// only SYN, a third a handshake, a third the start of a request that never
// ends) with 100 complete validations among them, at the default
// --max-connections, and with a connection limit that never bites, where
// --max-memory does the bounding. holes-32x2MB is 32 downloads that each
// miss their first segment, so that everything after it waits in
// reassembly's buffers.
//
// The bound: on 100 000 half-open connections, at the default flags, peak
// RSS stays under 200 MiB. Measured on the 2-vCPU lab VM (Go 1.26):
//
//	half-open-100000            155 MiB RSS, 117 MiB heap, 11 MiB stacks
//	half-open-100000-unlimited  399 MiB RSS, 301 MiB heap, 34 MiB stacks
//	holes-32x2MB                 88 MiB RSS,  59 MiB heap
//	image-save-1GiB.pcap         26 MiB RSS,   4 MiB heap
//
// AUTHFLOW_MEMORY_FILES=a.pcap,b.pcap adds runs on captures of your own
// (e.g. bench/out/image-save-1GiB.pcap from `go run ./bench/gen`).
func BenchmarkMemory(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	type input struct {
		name string
		path func(b *testing.B) string
		args []string
	}
	dir := b.TempDir()
	halfOpen := halfOpenFile(dir, 100000)
	inputs := []input{
		{name: "holes-32x2MB", path: holesFile(dir, 32, 1500)},
		{name: "half-open-100000", path: halfOpen},
		// No connection limit to speak of: --max-memory bounds it.
		{name: "half-open-100000-unlimited", path: halfOpen, args: []string{"--max-connections", "1000000"}},
		// The hostile inputs with --max-memory 512MiB, the bound the
		// README states the true peak of.
		{name: "half-open-100000-max-memory-512MiB", path: halfOpen, args: []string{"--max-connections", "1000000", "--max-memory", "512MiB"}},
		{name: "holes-32x2MB-max-memory-512MiB", path: holesFile(dir, 32, 1500), args: []string{"--max-memory", "512MiB"}},
		{name: "pcapng-6M-interfaces-max-memory-512MiB", path: func(b *testing.B) string {
			p := filepath.Join(dir, "idb.pcapng.gz")
			idbBomb(b, p, 6_000_000)
			return p
		}, args: []string{"--max-memory", "512MiB"}},
		{name: "validations-100000-tokens-max-memory-512MiB", path: validationsFile(dir, 100000), args: []string{"--max-memory", "512MiB"}},
		{name: "gzip-bomb-1GiB-max-memory-512MiB", path: func(b *testing.B) string {
			p := filepath.Join(dir, "bomb.pcap.gz")
			gzipBomb(b, p, 1024)
			return p
		}, args: []string{"--max-memory", "512MiB"}},
	}
	if env := os.Getenv("AUTHFLOW_MEMORY_FILES"); env != "" {
		for _, p := range strings.Split(env, ",") {
			inputs = append(inputs, input{name: filepath.Base(p), path: func(*testing.B) string { return p }})
		}
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			path := in.path(b)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			var rss, heap, stacks float64
			for b.Loop() {
				cmd := exec.Command(exe, "-test.run=^TestMemoryHelper$")
				args := append([]string{"analyze", "-f", "json", "-o", os.DevNull}, in.args...)
				cmd.Env = append(os.Environ(), "AUTHFLOW_MEMORY_HELPER="+strings.Join(append(args, path), "\x1f"), "AUTHFLOW_MEMORY_ANY_EXIT=1")
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				r, h, s, err := parseMemoryReport(out)
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				rss, heap, stacks = max(rss, r), max(heap, h), max(stacks, s)
			}
			b.ReportMetric(rss/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(heap/(1<<20), "peak-heap-MiB")
			b.ReportMetric(stacks/(1<<20), "peak-stacks-MiB")
		})
	}
}

// halfOpenFile returns a function that writes the half-open capture of n
// connections in dir, once, and returns its path.
func halfOpenFile(dir string, n int) func(b *testing.B) string {
	var once sync.Once
	var path string
	var err error
	return func(b *testing.B) string {
		once.Do(func() {
			path = filepath.Join(dir, fmt.Sprintf("half-open-%d.pcap", n))
			var f *os.File
			if f, err = os.Create(path); err != nil {
				return
			}
			w := bufio.NewWriterSize(f, 1<<20)
			if _, err = halfOpen(w, n); err == nil {
				err = w.Flush()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		return path
	}
}

// holesFile returns a function that writes, once, a capture of conns
// downloads of segs segments each whose first segment is missing: every
// byte after the hole waits in reassembly's buffers (bounded by
// stream.Options.MaxBufferedPages) until it gives up on the hole.
func holesFile(dir string, conns, segs int) func(b *testing.B) string {
	var once sync.Once
	var path string
	var err error
	return func(b *testing.B) string {
		once.Do(func() {
			path = filepath.Join(dir, fmt.Sprintf("holes-%dx%d.pcap", conns, segs))
			f := newCapFile()
			var cs []*conn
			for i := range conns {
				c := newConn(f, fmt.Sprintf("198.18.0.100:%d", 40000+i), "198.18.0.11:9292")
				c.handshake()
				c.sendString(false, "GET /v2/images/"+imageID+"/file HTTP/1.1\r\nHost: g\r\n\r\n")
				c.sendString(true, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", segs*1448))
				c.sseq += 1448 // the hole
				cs = append(cs, c)
			}
			seg := bytes.Repeat([]byte{0x5a}, 1448)
			var buf bytes.Buffer
			w := pcapgo.NewWriter(&buf)
			w.WriteFileHeader(262144, layers.LinkTypeEthernet)
			for j := 1; j < segs; j++ {
				for _, c := range cs {
					c.seg(true, flags{ack: true}, seg)
				}
				for _, r := range f.recs {
					w.WritePacket(r.ci, r.data)
				}
				f.recs = f.recs[:0]
			}
			err = os.WriteFile(path, buf.Bytes(), 0o600)
		})
		if err != nil {
			b.Fatal(err)
		}
		return path
	}
}

// validationsFile returns a function that writes, once, a capture of n
// complete token validations, each of its own token on its own
// connection: every exchange is kept, so memory grows with n.
func validationsFile(dir string, n int) func(b *testing.B) string {
	var once sync.Once
	var path string
	var err error
	return func(b *testing.B) string {
		once.Do(func() {
			path = filepath.Join(dir, fmt.Sprintf("validations-%d.pcap", n))
			var f *os.File
			if f, err = os.Create(path); err != nil {
				return
			}
			w := bufio.NewWriterSize(f, 1<<20)
			pw := pcapgo.NewWriter(w)
			pw.WriteFileHeader(262144, layers.LinkTypeEthernet)
			c := newCapFile()
			for i := range n {
				v := newConn(c, fmt.Sprintf("10.3.%d.%d:%d", i>>16&255, i>>8&255, 20000+i%256), "10.0.0.11:5000")
				v.step = 10 * time.Microsecond
				v.handshake()
				v.sendString(false, fmt.Sprintf("GET /v3/auth/tokens HTTP/1.1\r\nHost: 10.0.0.11:5000\r\nX-Auth-Token: gAAAAABvalidator\r\nX-Subject-Token: gAAAAABsubject%08d\r\n\r\n", i))
				v.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
				v.close()
				for _, r := range c.recs {
					pw.WritePacket(r.ci, r.data)
				}
				c.recs = c.recs[:0]
			}
			if err = w.Flush(); err == nil {
				err = f.Close()
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		return path
	}
}

// parseMemoryReport reads the helper's last line: "memory RSS HEAP
// STACKS".
func parseMemoryReport(out []byte) (rss, heap, stacks float64, err error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) == 4 && f[0] == "memory" {
			var v [3]float64
			for j := range v {
				if v[j], err = strconv.ParseFloat(f[j+1], 64); err != nil {
					return 0, 0, 0, err
				}
			}
			return v[0], v[1], v[2], nil
		}
	}
	return 0, 0, 0, fmt.Errorf("no memory report")
}

// TestMemoryHelper is not a test: BenchmarkMemory (and
// TestHostileInputs, with AUTHFLOW_MEMORY_ANY_EXIT=1, which prints the
// exit code instead of failing on it) runs the test binary
// with AUTHFLOW_MEMORY_HELPER set to the arguments of one authflow run
// (separated by \x1f); it runs authflow and prints "memory RSS HEAP
// STACKS" in bytes: the peak RSS, and the peaks of live heap objects and
// of goroutine stacks.
func TestMemoryHelper(t *testing.T) {
	env := os.Getenv("AUTHFLOW_MEMORY_HELPER")
	if env == "" {
		t.Skip("run by BenchmarkMemory")
	}
	var peak, peakStacks uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			peakStacks = max(peakStacks, s[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	code := run(strings.Split(env, "\x1f"))
	close(done)
	<-stopped
	if os.Getenv("AUTHFLOW_MEMORY_ANY_EXIT") != "" {
		// The hostile inputs test (hostile_input_test.go) asserts the
		// exit code itself.
		fmt.Printf("\nexit %d\n", code)
	} else if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	fmt.Printf("memory %d %d %d\n", vmHWM(t), peak, peakStacks)
}

// vmHWM returns the process's peak resident set size in bytes.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
