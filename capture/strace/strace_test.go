package strace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

const (
	imagePath   = "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190"
	imagePrefix = "/var/lib/glance/images"
	imageSize   = 4521984
)

// The captures were recorded on 2026-11-22 (UTC).
var (
	saveRef   = time.Date(2026, 11, 22, 12, 16, 13, 529828601, time.UTC)
	createRef = time.Date(2026, 11, 22, 12, 15, 8, 0, time.UTC)
)

func at(h, m, s, us int) time.Time {
	return time.Date(2026, 11, 22, h, m, s, us*1000, time.UTC)
}

func parseLines(t *testing.T, opts Options, lines ...string) []fsevent.Event {
	t.Helper()
	evs, err := Parse(strings.NewReader(strings.Join(lines, "\n")+"\n"), "test.log", opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return evs
}

func TestImageSave(t *testing.T) {
	evs, err := ParseFiles([]string{"testdata/image-save.glance.strace.*"},
		Options{PathPrefix: imagePrefix, Reference: saveRef, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var opens, reads, writes, closes int
	var bytes int64
	for _, ev := range evs {
		if ev.PID != 28685 || ev.TID != 28685 || ev.Path != imagePath || ev.FD != 14 {
			t.Errorf("unexpected event %v", ev)
		}
		switch ev.Op {
		case fsevent.Open:
			opens++
			want := fsevent.Event{Time: at(12, 16, 16, 442371), PID: 28685, TID: 28685, Op: fsevent.Open,
				Syscall: "openat", FD: 14, Path: imagePath, Flags: "O_RDONLY|O_CLOEXEC", Result: 14}
			if ev != want {
				t.Errorf("open:\n got %v\nwant %v", ev, want)
			}
		case fsevent.Read:
			reads++
			bytes += ev.Bytes
		case fsevent.Write:
			writes++
		case fsevent.Close:
			closes++
			if want := at(12, 16, 16, 485983); !ev.Time.Equal(want) {
				t.Errorf("close at %v, want %v", ev.Time, want)
			}
		}
	}
	if opens != 1 || reads != 70 || bytes != imageSize || writes != 0 || closes != 1 {
		t.Errorf("got %d opens, %d reads of %d bytes, %d writes, %d closes; want 1, 70 of %d, 0, 1",
			opens, reads, bytes, writes, closes, imageSize)
	}
	if last := evs[len(evs)-2]; last.Op != fsevent.Read || last.Result != 0 || last.Bytes != 0 {
		t.Errorf("last read %v, want the EOF read", last)
	}
}

func TestImageCreate(t *testing.T) {
	evs, err := ParseFiles([]string{"testdata/image-create.glance.strace.14944"},
		Options{PathPrefix: imagePrefix, Reference: createRef, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var writes int
	var bytes int64
	for _, ev := range evs {
		if ev.Op == fsevent.Write {
			writes++
			bytes += ev.Bytes
		}
	}
	if len(evs) != 71 || writes != 69 || bytes != imageSize {
		t.Fatalf("got %d events, %d writes of %d bytes; want 71, 69 of %d", len(evs), writes, bytes, imageSize)
	}
	open := fsevent.Event{Time: at(12, 15, 10, 955498), PID: 14944, TID: 14944, Op: fsevent.Open, Syscall: "openat",
		FD: 14, Path: imagePath, Flags: "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", Result: 14}
	if evs[0] != open {
		t.Errorf("open:\n got %v\nwant %v", evs[0], open)
	}
	if c := evs[70]; c.Op != fsevent.Close || c.FD != 14 || c.Path != imagePath || !c.Time.Equal(at(12, 15, 11, 64463)) {
		t.Errorf("close: %v", c)
	}
}

// Without a prefix every file event is kept: pipes, sockets read with
// read(), stdout writes, and the .pyc and policy files.
func TestImageCreateNoPrefix(t *testing.T) {
	evs, err := ParseFiles([]string{"testdata/image-create.glance.strace.14944"}, Options{Reference: createRef, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	count := map[fsevent.Op]int{}
	for _, ev := range evs {
		count[ev.Op]++
	}
	// 7 openat, 7 read, 79 write, 9 close in the log.
	want := map[fsevent.Op]int{fsevent.Open: 7, fsevent.Read: 7, fsevent.Write: 79, fsevent.Close: 9}
	for op, n := range want {
		if count[op] != n {
			t.Errorf("%v: %d events, want %d", op, count[op], n)
		}
	}
	// The read of the schema file carries its path.
	for _, ev := range evs {
		if ev.Op == fsevent.Read && ev.Bytes == 12845 {
			if ev.Path != "/usr/lib/python3/dist-packages/jsonschema/schemas/vocabularies.json" {
				t.Errorf("schema read has path %q", ev.Path)
			}
			return
		}
	}
	t.Error("no 12845-byte read")
}

func TestLines(t *testing.T) {
	opts := Options{Reference: saveRef, Location: time.UTC}
	open := `28685 12:16:16.442371 openat(AT_FDCWD, "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190", O_RDONLY|O_CLOEXEC) = 14`
	tests := []struct {
		name  string
		opts  Options
		lines []string
		want  []fsevent.Event
	}{
		{
			name:  "real open and read",
			lines: []string{open, `28685 12:16:16.443012 read(14, "\340\2\3\4"..., 65536) = 65536`},
			want: []fsevent.Event{
				{Time: at(12, 16, 16, 442371), PID: 28685, TID: 28685, Op: fsevent.Open, Syscall: "openat", FD: 14, Path: imagePath, Flags: "O_RDONLY|O_CLOEXEC", Result: 14},
				{Time: at(12, 16, 16, 443012), PID: 28685, TID: 28685, Op: fsevent.Read, Syscall: "read", FD: 14, Path: imagePath, Bytes: 65536, Result: 65536},
			},
		},
		{
			name: "real EOF read and close, with padding",
			lines: []string{
				open,
				`28685 12:16:16.485938 read(14, "", 65536) = 0`,
				`28685 12:16:16.485983 close(14)         = 0`,
			},
			want: []fsevent.Event{
				{Time: at(12, 16, 16, 442371), PID: 28685, TID: 28685, Op: fsevent.Open, Syscall: "openat", FD: 14, Path: imagePath, Flags: "O_RDONLY|O_CLOEXEC", Result: 14},
				{Time: at(12, 16, 16, 485938), PID: 28685, TID: 28685, Op: fsevent.Read, Syscall: "read", FD: 14, Path: imagePath},
				{Time: at(12, 16, 16, 485983), PID: 28685, TID: 28685, Op: fsevent.Close, Syscall: "close", FD: 14, Path: imagePath},
			},
		},
		{
			name:  "real EAGAIN on a socket is not a file event with a prefix",
			opts:  Options{PathPrefix: imagePrefix},
			lines: []string{`28685 12:16:16.445423 sendto(11, "\0\0\0"..., 38400, 0, NULL, 0) = -1 EAGAIN (Resource temporarily unavailable)`},
		},
		{
			name: "real escaped quotes in a read",
			lines: []string{
				`14944 12:15:10.817854 openat(AT_FDCWD, "/usr/lib/python3/dist-packages/jsonschema/schemas/vocabularies.json", O_RDONLY|O_CLOEXEC) = 14`,
				`14944 12:15:10.818109 read(14, "{\"https://json-schema.org/draft/"..., 12846) = 12845`,
			},
			want: []fsevent.Event{
				{Time: at(12, 15, 10, 817854), PID: 14944, TID: 14944, Op: fsevent.Open, Syscall: "openat", FD: 14, Path: "/usr/lib/python3/dist-packages/jsonschema/schemas/vocabularies.json", Flags: "O_RDONLY|O_CLOEXEC", Result: 14},
				{Time: at(12, 15, 10, 818109), PID: 14944, TID: 14944, Op: fsevent.Read, Syscall: "read", FD: 14, Path: "/usr/lib/python3/dist-packages/jsonschema/schemas/vocabularies.json", Bytes: 12845, Result: 12845},
			},
		},
		{
			name:  "failed read with errno",
			lines: []string{`28685 12:16:16.5 read(3, 0x7ffd, 10) = -1 EAGAIN (Resource temporarily unavailable)`},
			want: []fsevent.Event{
				{Time: at(12, 16, 16, 500000), PID: 28685, TID: 28685, Op: fsevent.Read, Syscall: "read", FD: 3, Result: -11, Err: "EAGAIN"},
			},
		},
		{
			name: "unfinished and resumed across threads, with -T",
			lines: []string{
				`[pid 101] 12:16:16.000001 openat(AT_FDCWD, "/img/a", O_RDONLY <unfinished ...>`,
				`[pid 102] 12:16:16.000002 read(3, "x", 1) = 1 <0.000010>`,
				`[pid 101] 12:16:16.000003 <... openat resumed>) = 7 <0.000002>`,
				`[pid 101] 12:16:16.000004 read(7,  <unfinished ...>`,
				`[pid 101] 12:16:16.000010 <... read resumed>"a, b) = \"c", 100) = 5 <0.000006>`,
			},
			opts: Options{PathPrefix: "/img/"},
			want: []fsevent.Event{
				{Time: at(12, 16, 16, 1), PID: 101, TID: 101, Op: fsevent.Open, Syscall: "openat", FD: 7, Path: "/img/a", Flags: "O_RDONLY", Result: 7, Duration: 2 * time.Microsecond},
				{Time: at(12, 16, 16, 4), PID: 101, TID: 101, Op: fsevent.Read, Syscall: "read", FD: 7, Path: "/img/a", Bytes: 5, Result: 5, Duration: 6 * time.Microsecond},
			},
		},
		{
			name: "-ttt without pid, -y annotations",
			lines: []string{
				`1795350976.442371 openat(AT_FDCWD</var/lib/glance>, "images/x", O_RDONLY|O_CLOEXEC) = 5</var/lib/glance/images/x>`,
				`1795350976.442400 pread64(5</var/lib/glance/images/x>, "abc", 3, 0) = 3`,
				`1795350976.442500 readv(5</var/lib/glance/images/x>, [{iov_base="ab", iov_len=2}, {iov_base="c", iov_len=1}], 2) = 3`,
			},
			opts: Options{PID: 9},
			want: []fsevent.Event{
				{Time: time.Unix(1795350976, 442371000), PID: 9, TID: 9, Op: fsevent.Open, Syscall: "openat", FD: 5, Path: "/var/lib/glance/images/x", Flags: "O_RDONLY|O_CLOEXEC", Result: 5},
				{Time: time.Unix(1795350976, 442400000), PID: 9, TID: 9, Op: fsevent.Read, Syscall: "pread64", FD: 5, Path: "/var/lib/glance/images/x", Bytes: 3, Result: 3},
				{Time: time.Unix(1795350976, 442500000), PID: 9, TID: 9, Op: fsevent.Read, Syscall: "readv", FD: 5, Path: "/var/lib/glance/images/x", Bytes: 3, Result: 3},
			},
		},
		{
			name: "signals, exits and strace messages are skipped",
			lines: []string{
				`strace: Process 28685 attached`,
				`28685 12:16:16.000001 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=5, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`,
				`28686 12:16:16.000002 +++ exited with 0 +++`,
				`28687 12:16:16.000003 +++ killed by SIGKILL +++`,
				` > /usr/lib/x86_64-linux-gnu/libc.so.6(read+0x12) [0x10f7a2]`,
				`28685 12:16:16.000004 futex(0x7f, FUTEX_WAIT_PRIVATE, 2, NULL) = ? <unavailable>`,
			},
		},
		{
			name: "write side, openat2, creat, failed open",
			opts: Options{PathPrefix: "/img/"},
			lines: []string{
				`7 12:00:00 openat2(AT_FDCWD, "/img/b", {flags=O_WRONLY|O_CREAT|O_CLOEXEC, mode=0644, resolve=0}, 24) = 3`,
				`7 12:00:00 pwrite64(3, "data", 4, 0) = 4`,
				`7 12:00:00 writev(3, [{iov_base="ab", iov_len=2}], 1) = 2`,
				`7 12:00:01 creat("/img/c", 0644) = 4`,
				`7 12:00:01 open("/img/none", O_RDONLY) = -1 ENOENT (No such file or directory)`,
				`7 12:00:01 open("/elsewhere", O_RDONLY) = 5`,
				`7 12:00:01 read(5, "zz", 2) = 2`,
			},
			want: []fsevent.Event{
				{Time: at(12, 0, 0, 0), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "openat2", FD: 3, Path: "/img/b", Flags: "O_WRONLY|O_CREAT|O_CLOEXEC", Result: 3},
				{Time: at(12, 0, 0, 0), PID: 7, TID: 7, Op: fsevent.Write, Syscall: "pwrite64", FD: 3, Path: "/img/b", Bytes: 4, Result: 4},
				{Time: at(12, 0, 0, 0), PID: 7, TID: 7, Op: fsevent.Write, Syscall: "writev", FD: 3, Path: "/img/b", Bytes: 2, Result: 2},
				{Time: at(12, 0, 1, 0), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "creat", FD: 4, Path: "/img/c", Flags: "O_WRONLY|O_CREAT|O_TRUNC", Result: 4},
				{Time: at(12, 0, 1, 0), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "open", FD: -1, Path: "/img/none", Flags: "O_RDONLY", Result: -2, Err: "ENOENT"},
			},
		},
		{
			name: "sendfile and copy_file_range sides",
			opts: Options{PathPrefix: "/img/"},
			lines: []string{
				`7 12:00:00.1 openat(AT_FDCWD, "/img/a", O_RDONLY) = 3`,
				`7 12:00:00.2 sendfile(9, 3, NULL, 4096) = 4096`,
				`7 12:00:00.3 openat(AT_FDCWD, "/img/b", O_WRONLY) = 4`,
				`7 12:00:00.4 copy_file_range(8, NULL, 4, NULL, 100, 0) = 100`,
			},
			want: []fsevent.Event{
				{Time: at(12, 0, 0, 100000), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "openat", FD: 3, Path: "/img/a", Flags: "O_RDONLY", Result: 3},
				{Time: at(12, 0, 0, 200000), PID: 7, TID: 7, Op: fsevent.Read, Syscall: "sendfile", FD: 3, Path: "/img/a", Bytes: 4096, Result: 4096},
				{Time: at(12, 0, 0, 300000), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "openat", FD: 4, Path: "/img/b", Flags: "O_WRONLY", Result: 4},
				{Time: at(12, 0, 0, 400000), PID: 7, TID: 7, Op: fsevent.Write, Syscall: "copy_file_range", FD: 4, Path: "/img/b", Bytes: 100, Result: 100},
			},
		},
		{
			name: "threads share fds, fork copies them, dup follows",
			opts: Options{PathPrefix: "/img/"},
			lines: []string{
				`7 12:00:00 openat(AT_FDCWD, "/img/a", O_RDONLY) = 3`,
				`7 12:00:00 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, stack=0x7f, stack_size=0x7fff00}, 88) = 8`,
				`8 12:00:00 read(3, "a", 1) = 1`,
				`7 12:00:00 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 20`,
				`8 12:00:00 close(3) = 0`,
				`20 12:00:00 read(3, "b", 1) = 1`,
				`20 12:00:00 dup2(3, 10) = 10`,
				`20 12:00:00 read(10, "c", 1) = 1`,
				`7 12:00:00 read(3, "d", 1) = 1`,
			},
			want: []fsevent.Event{
				{Time: at(12, 0, 0, 0), PID: 7, TID: 7, Op: fsevent.Open, Syscall: "openat", FD: 3, Path: "/img/a", Flags: "O_RDONLY", Result: 3},
				{Time: at(12, 0, 0, 0), PID: 7, TID: 8, Op: fsevent.Read, Syscall: "read", FD: 3, Path: "/img/a", Bytes: 1, Result: 1},
				{Time: at(12, 0, 0, 0), PID: 7, TID: 8, Op: fsevent.Close, Syscall: "close", FD: 3, Path: "/img/a"},
				{Time: at(12, 0, 0, 0), PID: 20, TID: 20, Op: fsevent.Read, Syscall: "read", FD: 3, Path: "/img/a", Bytes: 1, Result: 1},
				{Time: at(12, 0, 0, 0), PID: 20, TID: 20, Op: fsevent.Read, Syscall: "read", FD: 10, Path: "/img/a", Bytes: 1, Result: 1},
			},
		},
		{
			name: "-i and -n columns, no timestamps",
			opts: Options{PathPrefix: "/img/"},
			lines: []string{
				`5 [00007f4a1b2c3d4e] [ 257] openat(AT_FDCWD, "/img/\x61\142", O_RDONLY) = 3`,
				`5 [00007f4a1b2c3d4e] [   0] read(3, "", 10) = 0`,
			},
			want: []fsevent.Event{
				{PID: 5, TID: 5, Op: fsevent.Open, Syscall: "openat", FD: 3, Path: "/img/ab", Flags: "O_RDONLY", Result: 3},
				{PID: 5, TID: 5, Op: fsevent.Read, Syscall: "read", FD: 3, Path: "/img/ab"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Reference, o.Location = opts.Reference, opts.Location
			got := parseLines(t, o, tt.lines...)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events, want %d:\n%s", len(got), len(tt.want), eventsString(got))
			}
			for i := range got {
				if !got[i].Time.Equal(tt.want[i].Time) {
					t.Errorf("event %d: time %v, want %v", i, got[i].Time, tt.want[i].Time)
				}
				got[i].Time = tt.want[i].Time
				if got[i] != tt.want[i] {
					t.Errorf("event %d:\n got %v\nwant %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func eventsString(evs []fsevent.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(ev.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestMidnight(t *testing.T) {
	lines := []string{
		`1 23:59:59.900000 openat(AT_FDCWD, "/img/a", O_RDONLY) = 3`,
		`1 00:00:00.100000 read(3, "a", 1) = 1`,
		`1 23:59:59.950000 read(3, "a", 1) = 1`, // late line from before midnight
		`1 00:00:01.000000 close(3) = 0`,
	}
	tests := []struct {
		name string
		ref  time.Time
		day  int // the day of the first line
	}{
		{"reference the same evening", time.Date(2026, 11, 22, 23, 59, 58, 0, time.UTC), 22},
		// The capture started just after midnight but strace's first line
		// is from just before it.
		{"reference after midnight", time.Date(2026, 11, 23, 0, 0, 1, 0, time.UTC), 22},
		{"reference hours earlier the same day", time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC), 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := parseLines(t, Options{Reference: tt.ref, Location: time.UTC}, lines...)
			want := []time.Time{
				time.Date(2026, 11, tt.day, 23, 59, 59, 900000000, time.UTC),
				time.Date(2026, 11, tt.day+1, 0, 0, 0, 100000000, time.UTC),
				time.Date(2026, 11, tt.day, 23, 59, 59, 950000000, time.UTC),
				time.Date(2026, 11, tt.day+1, 0, 0, 1, 0, time.UTC),
			}
			for i, ev := range evs {
				if !ev.Time.Equal(want[i]) {
					t.Errorf("event %d at %v, want %v", i, ev.Time, want[i])
				}
			}
		})
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	evs := parseLines(t, Options{Reference: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Location: loc},
		`1 14:00:05 close(3) = 0`)
	if want := time.Date(2026, 11, 22, 12, 0, 5, 0, time.UTC); len(evs) != 1 || !evs[0].Time.Equal(want) {
		t.Fatalf("got %v, want one event at %v", evs, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		fatal          bool
	}{
		{"no reference", "1 12:00:00 close(3) = 0\n", "test.log:1: strace -t/-tt times have no date", true},
		{"relative time", "     0.000123 close(3) = 0\n", "test.log:1: relative timestamp", true},
		{"garbage", "1 12:00:00 close(3) = 0\nhello world\n", "test.log:2: not a system call", false},
		// Bad lines are reported (with what they hold) in a log with good
		// lines; a file without any is no strace log (TestNotStraceLog).
		{"bad result", "1 12:00:00 close(4) = 0\n1 12:00:00 close(3) = zz\n", "test.log:2: close: bad result", false},
		{"unterminated string", "1 12:00:00 close(4) = 0\n1 12:00:00 openat(AT_FDCWD, \"/a, O_RDONLY) = 3\n", "test.log:2: openat: unterminated string", false},
		{"bad time", "1 12:00:00 close(4) = 0\n1 25:00:00 close(3) = 0\n", "test.log:2: bad time of day", false},
		{"too long", "1 12:00:00 close(3) = 0\n1 12:00:00 read(3, \"" + strings.Repeat("a", MaxLineLength) + "\", 1) = 1\n", "test.log:2: line too long", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Location: time.UTC}
			if tt.name != "no reference" {
				opts.Reference = saveRef
			}
			evs, err := Parse(strings.NewReader(tt.in), "test.log", opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			var bad *fsevent.BadLinesError
			if isBad := errors.As(err, &bad); isBad == tt.fatal {
				t.Errorf("fatal=%v, but error is %T", tt.fatal, err)
			}
			if !tt.fatal && len(evs) != 1 {
				t.Errorf("got %d events, want the good line's", len(evs))
			}
		})
	}
}

// TestNotStraceLog: a file that is no strace log (--strace '/etc/shad*')
// is reported as such, without a word of what it holds, and a device or
// FIFO is not read at all.
func TestNotStraceLog(t *testing.T) {
	dir := t.TempDir()
	secret := "root:$y$j9T$SECRETHASH:20228:0:99999:7:::"
	shadow := filepath.Join(dir, "shadow")
	if err := os.WriteFile(shadow, []byte(strings.Repeat(secret+"\n", 50)), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "hostname")
	if err := os.WriteFile(short, []byte("SECRETHOST\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{shadow, short, fifo, "/dev/zero"} {
		_, err := ParseFiles([]string{name}, Options{Reference: saveRef})
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error shows the content: %v", name, err)
		}
		if !strings.Contains(err.Error(), "not an strace log") && !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestParseFiles(t *testing.T) {
	dir := t.TempDir()
	// -ff files: no pid prefix, the pid is the file's suffix.
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("trace.100", "12:00:00.3 openat(AT_FDCWD, \"/img/a\", O_RDONLY) = 3\n12:00:00.5 read(3, \"\", 1) = 0\n")
	write("trace.200", "12:00:00.4 openat(AT_FDCWD, \"/img/b\", O_RDONLY) = 3\n")
	write("trace.300", "")
	evs, err := ParseFiles([]string{filepath.Join(dir, "trace.*"), filepath.Join(dir, "trace.100")},
		Options{Reference: saveRef, Location: time.UTC, PathPrefix: "/img/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].PID != 100 || evs[1].PID != 200 || evs[1].Path != "/img/b" || evs[2].PID != 100 || evs[2].Path != "/img/a" {
		t.Fatalf("got:\n%s", eventsString(evs))
	}
	if _, err := ParseFiles([]string{filepath.Join(dir, "nothing.*")}, Options{}); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("empty glob: %v", err)
	}
	if _, err := ParseFiles([]string{filepath.Join(dir, "missing")}, Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
	// No reference: the file's modification time dates -tt lines.
	mtime := time.Date(2026, 11, 22, 12, 0, 5, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "trace.200"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	evs, err = ParseFiles([]string{filepath.Join(dir, "trace.200")}, Options{Location: time.UTC})
	if err != nil || len(evs) != 1 || !evs[0].Time.Equal(time.Date(2026, 11, 22, 12, 0, 0, 400000000, time.UTC)) {
		t.Fatalf("dated by mtime: %v, %v", evs, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/image-save.glance.strace.28685", "testdata/image-create.glance.strace.14944"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		for i := 0; i+3 <= len(lines); i += 37 {
			f.Add([]byte(strings.Join(lines[i:i+3], "")))
		}
	}
	f.Add([]byte("[pid 101] 12:16:16.000001 openat(AT_FDCWD, \"/img/a\", O_RDONLY <unfinished ...>\n[pid 101] 12:16:16.000003 <... openat resumed>) = 7 <0.000002>\n"))
	f.Add([]byte("1795350976.442371 openat(AT_FDCWD</x>, \"y\", O_RDONLY) = 5</x/y>\n"))
	f.Add([]byte("7 12:00:00 clone3({flags=CLONE_FILES|CLONE_THREAD}, 88) = 8\n8 12:00:00 close_range(3, 4294967295, 0) = 0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, err := Parse(strings.NewReader(string(in)), "fuzz", Options{Reference: saveRef, Location: time.UTC})
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
		for _, ev := range evs {
			if ev.Op == fsevent.OpUnknown || ev.Bytes < 0 {
				t.Fatalf("bad event %v", ev)
			}
		}
	})
}
