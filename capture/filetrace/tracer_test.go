//go:build linux && amd64

package filetrace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authflow/authflow/capture/fsevent"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("AUTHFLOW_TEST_SPAWN"); path != "" {
		os.Exit(spawnerChild(path))
	}
	if path := os.Getenv("AUTHFLOW_TEST_READER"); path != "" {
		os.Exit(readerChild(path))
	}
	os.Exit(m.Run())
}

func requireTracing(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("skipping: eBPF file tracing is not available (run the tests as root): %v", err)
	}
}

// collect starts a tracer and gathers its events until stop is called.
func collect(t *testing.T, opts Options) (tr *Tracer, stop func() []fsevent.Event) {
	t.Helper()
	tr, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var (
		evs []fsevent.Event
		wg  sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range tr.Events() {
			evs = append(evs, ev)
		}
	}()
	return tr, func() []fsevent.Event {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		wg.Wait()
		return evs
	}
}

const (
	chunk    = 64 << 10
	fileSize = 1 << 20 // 16 chunks
)

// workload writes and reads a file under dir with a known pattern, and reads
// one outside it; it returns the two descriptors used under dir.
func workload(t *testing.T, dir, outside string) (wfd, rfd int) {
	t.Helper()
	data := bytes.Repeat([]byte("authflow"), fileSize/8)
	name := filepath.Join(dir, "image")

	// Write side: 16 write(2) of 64 KiB and one pwrite64 of 10 bytes.
	w, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	wfd = int(w.Fd())
	for off := 0; off < fileSize; off += chunk {
		if _, err := w.Write(data[off : off+chunk]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.WriteAt([]byte("0123456789"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Read side: 16 read(2) of 64 KiB and the EOF read, then pread64,
	// preadv, readv and sendfile.
	r, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	rfd = int(r.Fd())
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil || n != chunk {
			t.Fatalf("read %d, %v", n, err)
		}
	}
	if n, err := r.ReadAt(buf[:4096], 100); n != 4096 || err != nil {
		t.Fatalf("pread %d, %v", n, err)
	}
	if n, err := unix.Preadv(rfd, [][]byte{make([]byte, 1000), make([]byte, 3000)}, 0); n != 4000 || err != nil {
		t.Fatalf("preadv %d, %v", n, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Readv(rfd, [][]byte{make([]byte, 100), make([]byte, 200)}); n != 300 || err != nil {
		t.Fatalf("readv %d, %v", n, err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(0)
	if n, err := unix.Sendfile(int(null.Fd()), rfd, &off, 8192); n != 8192 || err != nil {
		t.Fatalf("sendfile %d, %v", n, err)
	}
	null.Close()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// A failed open under the prefix.
	if _, err := os.Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}

	// Reads outside the prefix produce no events.
	other := filepath.Join(outside, "other")
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(other); err != nil || len(b) != fileSize {
		t.Fatalf("read other: %d, %v", len(b), err)
	}
	return wfd, rfd
}

type tally struct {
	count int
	bytes int64
}

func TestTraceReadsExactly(t *testing.T) {
	requireTracing(t)
	for _, form := range []Attach{AttachTPBTF, AttachRawTP, AttachTracepoint} {
		t.Run(string(form), func(t *testing.T) {
			dir := t.TempDir()
			outside := t.TempDir()
			prefix := dir + "/"
			tr, stop := collect(t, Options{PID: os.Getpid(), PathPrefix: prefix, Attach: form})
			if got := tr.Attach(); got != form {
				t.Fatalf("attach form %q, want %q", got, form)
			}
			wfd, rfd := workload(t, dir, outside)
			evs := stop()
			st := tr.Stats()
			if st.Lost != 0 || st.Events != uint64(len(evs)) {
				t.Errorf("stats %+v with %d events received", st, len(evs))
			}
			name := filepath.Join(dir, "image")
			by := map[string]*tally{}
			var opens, closes []fsevent.Event
			for _, ev := range evs {
				if ev.PID != os.Getpid() || ev.TID == 0 || ev.Comm == "" || ev.Time.IsZero() {
					t.Errorf("bad identity or time: %v", ev)
				}
				if d := time.Since(ev.Time); d < 0 || d > time.Minute {
					t.Errorf("event time %v is not recent", ev.Time)
				}
				if !strings.HasPrefix(ev.Path, prefix) {
					t.Errorf("event outside the prefix: %v", ev)
				}
				switch ev.Op {
				case fsevent.Open:
					opens = append(opens, ev)
					continue
				case fsevent.Close:
					closes = append(closes, ev)
					continue
				}
				k := ev.Op.String() + " " + ev.Syscall
				if by[k] == nil {
					by[k] = &tally{}
				}
				by[k].count++
				by[k].bytes += ev.Bytes
				if ev.Path != name {
					t.Errorf("%s without the file's path: %v", k, ev)
				}
			}
			want := map[string]tally{
				"write write":    {16, fileSize},
				"write pwrite64": {1, 10},
				"read read":      {17, fileSize}, // 16 chunks and the EOF read
				"read pread64":   {1, 4096},
				"read preadv":    {1, 4000},
				"read readv":     {1, 300},
				"read sendfile":  {1, 8192},
			}
			for k, w := range want {
				if g := by[k]; g == nil || *g != w {
					t.Errorf("%s: got %+v, want %+v", k, g, w)
				}
			}
			if len(by) != len(want) {
				t.Errorf("unexpected kinds of events: %v", by)
			}
			if len(opens) != 3 {
				t.Fatalf("got %d opens, want 3: %v", len(opens), opens)
			}
			wantOpens := []struct {
				fd     int
				path   string
				flags  string
				result int64
				err    string
			}{
				{wfd, name, "O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC", int64(wfd), ""},
				{rfd, name, "O_RDONLY|O_CLOEXEC", int64(rfd), ""},
				{-1, filepath.Join(dir, "missing"), "O_RDONLY|O_CLOEXEC", -2, "ENOENT"},
			}
			for i, w := range wantOpens {
				o := opens[i]
				if o.FD != w.fd || o.Path != w.path || o.Flags != w.flags || o.Result != w.result || o.Err != w.err || o.Syscall != "openat" {
					t.Errorf("open %d: got %v, want fd=%d path=%s flags=%s result=%d %s", i, o, w.fd, w.path, w.flags, w.result, w.err)
				}
			}
			if len(closes) != 2 || closes[0].FD != wfd || closes[1].FD != rfd || closes[0].Path != name || closes[1].Result != 0 {
				t.Errorf("closes: %v", closes)
			}
		})
	}
}

func TestTraceFilters(t *testing.T) {
	requireTracing(t)
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	self := strings.TrimSuffix(string(comm), "\n")
	// A copy of the test binary with a name longer than 15 bytes: the
	// kernel keeps "glance-api-work" as its comm.
	long := filepath.Join(t.TempDir(), "glance-api-worker-long")
	if err := copyFile(os.Args[0], long); err != nil {
		t.Fatal(err)
	}
	// A process that is neither the reader nor its parent: a pid filter
	// follows a process and its children, so pid 1 would follow all.
	other := exec.Command("sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _, _ = other.Process.Wait() })
	tests := []struct {
		name  string
		bin   string
		opts  Options
		comm  string
		reads int // reads of the file under the prefix
	}{
		{"own comm", os.Args[0], Options{Comm: self}, self, 17},
		{"long comm compared on 15 bytes", long, Options{Comm: "glance-api-worker-long"}, "glance-api-work", 17},
		{"long comm, other tail", long, Options{Comm: "glance-api-work-other"}, "glance-api-work", 17},
		{"long comm, short filter", long, Options{Comm: "glance-api"}, "", 0},
		{"other comm", os.Args[0], Options{Comm: "no-such-comm"}, "", 0},
		{"other pid", os.Args[0], Options{PID: other.Process.Pid}, "", 0},
		{"pid 1 follows its descendants", os.Args[0], Options{PID: 1}, self, 17},
		{"own cgroup", os.Args[0], Options{CgroupPath: ownCgroup(t)}, self, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.CgroupPath == "-" {
				t.Skip("skipping: no cgroup v2 hierarchy mounted")
			}
			dir := t.TempDir()
			tt.opts.PathPrefix = dir + "/"
			// The tracer never traces its own process: run the reads in
			// a child (this test binary, as reader).
			name := filepath.Join(dir, "image")
			if err := os.WriteFile(name, bytes.Repeat([]byte{1}, fileSize), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stop := collect(t, tt.opts)
			if _, err := runReaderBin(t, tt.bin, name, 1); err != nil {
				t.Fatal(err)
			}
			evs := stop()
			reads := 0
			for _, ev := range evs {
				if ev.Op == fsevent.Read {
					reads++
					if ev.Comm != tt.comm {
						t.Errorf("comm %q, want %q", ev.Comm, tt.comm)
					}
				}
			}
			if reads != tt.reads {
				t.Errorf("got %d reads, want %d", reads, tt.reads)
			}
		})
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// ownCgroup returns this process's cgroup v2 directory, or "-".
func ownCgroup(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "-"
	}
	var rel string
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var fs unix.Statfs_t
		if unix.Statfs(root, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC && rel != "" {
			return filepath.Join(root, rel)
		}
	}
	return "-"
}

func TestSeedOpenFiles(t *testing.T) {
	requireTracing(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "image")
	if err := os.WriteFile(name, bytes.Repeat([]byte{1}, fileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	// The child opens the file, waits for the tracer, then reads it.
	cmd, stdin, out := startReader(t, name, 1)
	pid := cmd.Process.Pid
	waitOpen(t, pid, name)
	tr, stop := collect(t, Options{PID: pid, PathPrefix: dir + "/"})
	if st := tr.Stats(); st.Seeded != 1 {
		t.Errorf("seeded %d open files, want 1", st.Seeded)
	}
	fmt.Fprintln(stdin, "go")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reader: %v: %s", err, out.String())
	}
	var reads int
	var total int64
	for _, ev := range stop() {
		if ev.Op == fsevent.Read {
			reads++
			total += ev.Bytes
			if ev.Path != name {
				t.Errorf("read without path: %v", ev)
			}
		}
	}
	if reads != 17 || total != fileSize {
		t.Errorf("got %d reads of %d bytes, want 17 of %d", reads, total, fileSize)
	}
}

func waitOpen(t *testing.T, pid int, name string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, e := range ents {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); l == name {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("reader %d never opened %s", pid, name)
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{PathPrefix: strings.Repeat("/x", 200)}, "at most 255"},
		{Options{RingBufferBytes: 5000}, "power of two"},
		{Options{PID: -1}, "bad pid"},
		{Options{Attach: "kprobe"}, `unknown attach form "kprobe"`},
		{Options{CgroupPath: "/proc"}, "not in a cgroup v2 hierarchy"},
	}
	for _, tt := range tests {
		tr, err := Start(context.Background(), tt.opts)
		if err == nil {
			tr.Close()
			t.Errorf("%+v: no error", tt.opts)
			continue
		}
		if privilegeError() != nil && tt.want != "at most 255" && tt.want != "power of two" && tt.want != "bad pid" {
			continue // unprivileged: the privilege error comes first
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %q, want it to contain %q", tt.opts, err, tt.want)
		}
	}
}

func TestContextStops(t *testing.T) {
	requireTracing(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := Start(ctx, Options{PID: os.Getpid(), PathPrefix: t.TempDir() + "/", FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range tr.Events() {
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFlags(t *testing.T) {
	tests := []struct {
		f    uint64
		want string
	}{
		{unix.O_RDONLY | unix.O_CLOEXEC, "O_RDONLY|O_CLOEXEC"},
		{unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"},
		{unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_DIRECTORY, "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"},
		{unix.O_RDWR | unix.O_SYNC, "O_RDWR|O_SYNC"},
		{unix.O_RDWR | unix.O_DSYNC, "O_RDWR|O_DSYNC"},
		{unix.O_WRONLY | unix.O_TMPFILE, "O_WRONLY|O_TMPFILE"},
		{3 | 1<<40, "O_ACCMODE|020000000000000"},
	}
	for _, tt := range tests {
		if got := openFlags(tt.f); got != tt.want {
			t.Errorf("openFlags(%#o) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestTraceCgroup(t *testing.T) {
	requireTracing(t)
	root := ""
	for _, r := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var fs unix.Statfs_t
		if unix.Statfs(r, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
			root = r
			break
		}
	}
	if root == "" {
		t.Skip("skipping: no cgroup v2 hierarchy mounted")
	}
	parent := filepath.Join(root, fmt.Sprintf("authflow-test-%d", os.Getpid()))
	in, out := filepath.Join(parent, "in"), filepath.Join(parent, "out")
	for _, d := range []string{parent, in, filepath.Join(in, "below"), out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Skipf("skipping: cannot create a cgroup: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, d := range []string{filepath.Join(in, "below"), in, out, parent} {
			os.Remove(d)
		}
	})
	dir := t.TempDir()
	name := filepath.Join(dir, "image")
	if err := os.WriteFile(name, bytes.Repeat([]byte{1}, fileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cgroup string
		reads  int
	}{{in, 17}, {filepath.Join(in, "below"), 17}, {out, 0}} {
		cmd, stdin, outBuf := startReaderBin(t, os.Args[0], name, 1, false)
		if err := os.WriteFile(filepath.Join(tt.cgroup, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
			t.Fatalf("move reader to %s: %v", tt.cgroup, err)
		}
		_, stop := collect(t, Options{CgroupPath: in, PathPrefix: dir + "/"})
		fmt.Fprintln(stdin, "go")
		if err := cmd.Wait(); err != nil {
			t.Fatalf("reader: %v: %s", err, outBuf)
		}
		reads := 0
		for _, ev := range stop() {
			if ev.Op == fsevent.Read {
				reads++
			}
		}
		if reads != tt.reads {
			t.Errorf("reader in %s: %d reads, want %d", tt.cgroup, reads, tt.reads)
		}
	}
}

// With a one-page ring buffer some events are lost; every event is either
// delivered or counted as lost.
func TestLostCounted(t *testing.T) {
	requireTracing(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "image")
	if err := os.WriteFile(name, bytes.Repeat([]byte{1}, fileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, stop := collect(t, Options{PID: os.Getpid(), PathPrefix: dir + "/", RingBufferBytes: os.Getpagesize(), FlushInterval: time.Second})
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	reads := 0
	for {
		reads++
		if _, err := f.Read(buf); err == io.EOF {
			break
		}
	}
	f.Close()
	evs := stop()
	st := tr.Stats()
	t.Logf("%d events delivered, %d lost", len(evs), st.Lost)
	if want := uint64(reads + 2); uint64(len(evs))+st.Lost != want || st.Events != uint64(len(evs)) {
		t.Errorf("delivered %d + lost %d != %d events (stats %+v)", len(evs), st.Lost, want, st)
	}
}

// The longest prefix passes the verifier (the comparison loop is bounded
// by it).
func TestLongestPrefixLoads(t *testing.T) {
	requireTracing(t)
	for _, form := range []Attach{AttachTPBTF, AttachRawTP, AttachTracepoint} {
		tr, err := Start(context.Background(), Options{PID: os.Getpid(), PathPrefix: "/" + strings.Repeat("p", maxPrefix-1), Attach: form})
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		go func() {
			for range tr.Events() {
			}
		}()
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
