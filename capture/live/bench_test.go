package live

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestLiveThroughput measures whether live capture keeps up with a fast
// transfer: a Go HTTP server sends a 1 GiB sparse file (sendfile) over lo
// in a fresh network namespace to a Go client, while the capture decodes
// every packet. Server and client run in a separate process, as the
// services being traced would, so the capture has its own Go scheduler.
// The test reports the transfer rate and the kernel's drop count, and fails
// if the kernel dropped packets.
//
// It runs only with AUTHFLOW_LIVE_BENCH=1 (and as root).
// AUTHFLOW_LIVE_BENCH_SIZE sets another size in MiB,
// AUTHFLOW_LIVE_BENCH_RING the ring size in MiB, and
// AUTHFLOW_LIVE_BENCH_WRITE=1 also writes every packet to a pcapng file.
// The report includes the capture process's CPU time and its time waiting
// for a CPU (from schedstat), which tells CPU starvation from slowness.
func TestLiveThroughput(t *testing.T) {
	if os.Getenv("AUTHFLOW_LIVE_BENCH") != "1" {
		t.Skip("set AUTHFLOW_LIVE_BENCH=1 to measure live capture throughput")
	}
	if !inFreshNetns(t) {
		return
	}
	size := int64(1 << 30)
	if s := os.Getenv("AUTHFLOW_LIVE_BENCH_SIZE"); s != "" {
		mib, err := strconv.Atoi(s)
		if err != nil || mib <= 0 {
			t.Fatalf("AUTHFLOW_LIVE_BENCH_SIZE=%q: want a number of MiB", s)
		}
		size = int64(mib) << 20
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "body")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, size); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnFile, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	defer lnFile.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Interfaces: []string{"lo"}, Ports: []uint16{port}}
	if s := os.Getenv("AUTHFLOW_LIVE_BENCH_RING"); s != "" {
		mib, err := strconv.Atoi(s)
		if err != nil || mib <= 0 {
			t.Fatalf("AUTHFLOW_LIVE_BENCH_RING=%q: want a number of MiB", s)
		}
		opts.RingSize = mib << 20
	}
	c, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var w *PcapngWriter
	if os.Getenv("AUTHFLOW_LIVE_BENCH_WRITE") == "1" {
		if w, err = NewPcapngWriter(filepath.Join(dir, "bench.pcapng"), c.Interfaces()); err != nil {
			t.Fatal(err)
		}
	}

	// The capture side: decode every packet, count the server's payload.
	type result struct {
		packets, payload, maxFrame int64
		writeTime, maxWrite        time.Duration
		err                        error
	}
	results := make(chan result, 1)
	go func() {
		var (
			eth     layers.Ethernet
			ip4     layers.IPv4
			ip6     layers.IPv6
			tcp     layers.TCP
			payload gopacket.Payload
			decoded []gopacket.LayerType
			res     result
		)
		parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &payload)
		parser.IgnoreUnsupported = true
		for {
			p, err := c.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					res.err = err
				}
				results <- res
				return
			}
			res.packets++
			res.maxFrame = max(res.maxFrame, int64(len(p.Data)))
			if err := parser.DecodeLayers(p.Data, &decoded); err != nil {
				res.err = fmt.Errorf("decode packet %d: %w", res.packets, err)
				results <- res
				return
			}
			if uint16(tcp.SrcPort) == port {
				res.payload += int64(len(tcp.Payload))
			}
			if w != nil {
				begin := time.Now()
				if err := w.WritePacket(p); err != nil {
					res.err = err
					results <- res
					return
				}
				d := time.Since(begin)
				res.writeTime += d
				res.maxWrite = max(res.maxWrite, d)
			}
		}
	}()

	// The traffic: this test binary again, serving on the listener and
	// downloading from it.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveThroughputTraffic$", "-test.v")
	cmd.Env = append(os.Environ(), trafficEnv+"="+file)
	cmd.ExtraFiles = []*os.File{lnFile}
	// Its own session, as a service has: with autogroup scheduling the
	// traffic then does not take its CPU share from the capture.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("traffic process: %v\n%s", err, out)
	}
	var elapsed time.Duration
	var n int64
	if i := bytes.Index(out, []byte("downloaded ")); i < 0 {
		t.Fatalf("traffic process said:\n%s", out)
	} else if _, err := fmt.Sscanf(string(out[i:]), "downloaded %d bytes in %d ns", &n, &elapsed); err != nil || n != size {
		t.Fatalf("traffic process: %d bytes, %v:\n%s", n, err, out)
	}
	cancel()
	var res result
	select {
	case res = <-results:
	case <-time.After(time.Minute):
		t.Fatal("capture did not end after its context")
	}
	c.Close()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if w != nil {
		if err := w.WriteStats(c.Stats()); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()[0]
	gbits := float64(size) * 8 / elapsed.Seconds() / 1e9
	report := fmt.Sprintf("transfer %d MiB in %v = %.2f Gbit/s; captured %d packets (largest %d B), server payload %d B; kernel received %d, dropped %d; ring %d MiB; writing pcapng: %v; %s",
		size>>20, elapsed.Round(time.Millisecond), gbits, res.packets, res.maxFrame, res.payload, st.Received, st.Dropped,
		cmp.Or(opts.RingSize, DefaultRingSize)>>20, w != nil, schedSummary())
	if w != nil {
		report += fmt.Sprintf("; time in WritePacket %v, longest %v", res.writeTime.Round(time.Millisecond), res.maxWrite.Round(time.Microsecond))
	}
	t.Log(report)
	fmt.Println("live capture throughput:", report)
	if st.Dropped != 0 {
		t.Errorf("kernel dropped %d packets", st.Dropped)
	}
	if res.payload < size {
		t.Errorf("captured %d bytes of server payload, want at least %d", res.payload, size)
	}
}

// trafficEnv names the file TestLiveThroughputTraffic serves.
const trafficEnv = "AUTHFLOW_LIVE_BENCH_TRAFFIC"

// TestLiveThroughputTraffic is the traffic process of TestLiveThroughput:
// it serves the file named by $AUTHFLOW_LIVE_BENCH_TRAFFIC on the listener
// passed as file descriptor 3, downloads it with a Go client, and prints
// how long that took.
func TestLiveThroughputTraffic(t *testing.T) {
	file := os.Getenv(trafficEnv)
	if file == "" {
		t.Skip("helper process of TestLiveThroughput")
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, file)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	begin := time.Now()
	resp, err := client.Get("http://" + ln.Addr().String() + "/body")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	elapsed := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("downloaded %d bytes in %d ns\n", n, elapsed.Nanoseconds())
}

// schedSummary sums, over this process's threads, the time on a CPU and
// the time spent runnable but waiting for one.
func schedSummary() string {
	ents, _ := os.ReadDir("/proc/self/task")
	var run, wait int64
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		var r, w, n int64
		fmt.Sscan(string(b), &r, &w, &n)
		run += r
		wait += w
	}
	return fmt.Sprintf("capture process: %v on CPU, %v waiting for a CPU", time.Duration(run).Round(time.Millisecond), time.Duration(wait).Round(time.Millisecond))
}
