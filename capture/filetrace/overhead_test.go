//go:build linux && amd64

package filetrace

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// TestOverhead measures how much the tracer slows a process that reads a
// 1 GiB file (in the page cache) in 64 KiB chunks: the reader alone, the
// reader traced (every read reported), and the reader while the tracer
// follows another process. Configurations alternate, each run in a fresh
// reader process; the medians are logged. It only runs with
// AUTHFLOW_EBPF_BENCH=1 (AUTHFLOW_EBPF_BENCH_ROUNDS sets the rounds, 9 by
// default) and asserts no timing, only that every read was reported.
func TestOverhead(t *testing.T) {
	if os.Getenv("AUTHFLOW_EBPF_BENCH") != "1" {
		t.Skip("skipping: set AUTHFLOW_EBPF_BENCH=1 to measure the tracer's overhead (writes a 1 GiB file)")
	}
	requireTracing(t)
	rounds := 9
	if n, err := strconv.Atoi(os.Getenv("AUTHFLOW_EBPF_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	const size = 1 << 30
	dir := t.TempDir()
	name := filepath.Join(dir, "1g")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i)
	}
	for off := 0; off < size; off += len(block) {
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := runReader(t, name, 1); err != nil { // warm the page cache
		t.Fatal(err)
	}

	configs := []string{"untraced", "traced", "tracing another pid"}
	wall := map[string][]time.Duration{}
	cpu := map[string][]time.Duration{}
	for r := 0; r < rounds; r++ {
		order := slices.Clone(configs)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			p, err := overheadRun(t, name, c, size)
			if err != nil {
				t.Fatal(err)
			}
			wall[c] = append(wall[c], p.wall)
			cpu[c] = append(cpu[c], p.cpu)
		}
	}
	t.Logf("%d runs per configuration, each %d reads of 64 KiB; wall and CPU time of the reader", rounds, size/chunk+1)
	baseW, baseC := median(wall["untraced"]), median(cpu["untraced"])
	for _, c := range configs {
		w, cp := median(wall[c]), median(cpu[c])
		t.Logf("%-20s wall median %7.1f ms (ratio %.3f, min %7.1f ms)  cpu median %7.1f ms (ratio %.3f)",
			c, ms(w), float64(w)/float64(baseW), ms(slices.Min(wall[c])), ms(cp), float64(cp)/float64(baseC))
	}
}

func overheadRun(t *testing.T, name, config string, size int64) (passTime, error) {
	cmd, stdin, out := startReaderBin(t, os.Args[0], name, 1, false)
	var (
		tr   *Tracer
		stop func() []fsevent.Event
	)
	switch config {
	case "traced":
		tr, stop = collect(t, Options{PID: cmd.Process.Pid, PathPrefix: filepath.Dir(name) + "/"})
	case "tracing another pid":
		tr, stop = collect(t, Options{PID: 1, PathPrefix: filepath.Dir(name) + "/"})
	}
	fmt.Fprintln(stdin, "go")
	err := cmd.Wait()
	if stop != nil {
		evs := stop()
		if config == "traced" {
			var reads, bytes int64
			for _, ev := range evs {
				if ev.Op == fsevent.Read {
					reads++
					bytes += ev.Bytes
				}
			}
			if want := size/chunk + 1; reads != want || bytes != size || tr.Stats().Lost != 0 {
				return passTime{}, fmt.Errorf("traced run: %d reads of %d bytes (lost %d), want %d of %d", reads, bytes, tr.Stats().Lost, want, size)
			}
		}
	}
	if err != nil {
		return passTime{}, fmt.Errorf("reader: %v: %s", err, out)
	}
	ds, err := parseTimes(out.String())
	if err != nil || len(ds) != 1 {
		return passTime{}, fmt.Errorf("reader output %q: %v", out, err)
	}
	return ds[0], nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
