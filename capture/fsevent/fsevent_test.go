package fsevent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var imagePath = "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190"

func sampleEvents() []Event {
	t0 := time.Date(2026, 11, 22, 12, 16, 16, 442371000, time.UTC)
	return []Event{
		{Time: t0, PID: 28685, TID: 28685, Comm: "glance-api", Op: Open, Syscall: "openat", FD: 14, Path: imagePath, Flags: "O_RDONLY|O_CLOEXEC", Result: 14},
		{Time: t0.Add(time.Millisecond), PID: 28685, TID: 28686, Op: Read, Syscall: "read", FD: 14, Path: imagePath, Bytes: 65536, Result: 65536, Duration: 12 * time.Microsecond},
		{Time: t0.Add(2 * time.Millisecond), PID: 28685, TID: 28685, Op: Read, Syscall: "read", FD: 14, Path: imagePath, Result: 0},
		{Time: t0.Add(3 * time.Millisecond), PID: 28685, TID: 28685, Op: Close, Syscall: "close", FD: 14, Path: imagePath, Result: 0},
		{Time: t0.Add(4 * time.Millisecond), PID: 1, TID: 1, Op: Open, Syscall: "openat", FD: -1, Path: "/var/lib/glance/images/x \"quoted\"\n", Flags: "O_RDONLY", Result: -2, Err: "ENOENT"},
		{Time: t0.Add(5 * time.Millisecond), PID: 1, TID: 2, Op: Write, Syscall: "pwrite64", FD: 0, Path: imagePath, Bytes: 1, Result: 1},
	}
}

func TestRoundTrip(t *testing.T) {
	evs := sampleEvents()
	var buf bytes.Buffer
	h := NewHeader("strace")
	h.ClockErrorNS = 250
	if err := WriteJSONL(&buf, h, evs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(evs)+1 {
		t.Fatalf("got %d lines, want %d", len(lines), len(evs)+1)
	}
	wantHeader := `{"format":"authflow-file-events","version":1,"clock":"realtime","source":"strace","clock_error_ns":250}`
	if lines[0] != wantHeader {
		t.Errorf("header line\n got %s\nwant %s", lines[0], wantHeader)
	}
	wantFirst := `{"time":"2026-11-22T12:16:16.442371Z","pid":28685,"tid":28685,"comm":"glance-api","op":"open","syscall":"openat","fd":14,"path":"/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190","flags":"O_RDONLY|O_CLOEXEC","result":14}`
	if lines[1] != wantFirst {
		t.Errorf("first event line\n got %s\nwant %s", lines[1], wantFirst)
	}
	gotH, got, err := ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if gotH != h {
		t.Errorf("header: got %+v, want %+v", gotH, h)
	}
	if len(got) != len(evs) {
		t.Fatalf("got %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		if !got[i].Time.Equal(evs[i].Time) {
			t.Errorf("event %d: time %v, want %v", i, got[i].Time, evs[i].Time)
		}
		got[i].Time = evs[i].Time
		if got[i] != evs[i] {
			t.Errorf("event %d:\n got %v\nwant %v", i, got[i], evs[i])
		}
	}
}

func TestEmptySidecar(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Header{Source: "ebpf"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	h, evs, err := ReadJSONL(&buf)
	if err != nil || len(evs) != 0 || h.Source != "ebpf" || h.Version != Version {
		t.Fatalf("got %+v, %v, %v", h, evs, err)
	}
}

func TestReadJSONLBadLines(t *testing.T) {
	long := `{"time":"2026-11-22T12:16:16Z","op":"read","path":"` + strings.Repeat("a", MaxLineLength) + `","result":1}`
	in := strings.Join([]string{
		`{"format":"authflow-file-events","version":1,"clock":"realtime"}`,
		`{"time":"2026-11-22T12:16:16Z","op":"open","fd":3,"result":3}`,
		`{"time":"2026-11-22T12:16:16Z","op":"rename","result":0}`, // 3: unknown op
		`not json`,                 // 4
		``,                         // blank lines are ignored
		long,                       // 6: too long
		`{"op":"read","result":1}`, // 7: no time
		`{"time":"2026-11-22T12:16:17Z","op":"read","result":5,"bytes":5}`,
		`{"time":"2026-11-22T12:16:18Z","op":"close","result":0}`, // no fd: -1
	}, "\n")
	_, evs, err := ReadJSONL(strings.NewReader(in))
	var bad *BadLinesError
	if !errors.As(err, &bad) {
		t.Fatalf("error %v, want *BadLinesError", err)
	}
	if bad.Count != 4 {
		t.Errorf("bad lines: %d, want 4 (%v)", bad.Count, bad.Lines)
	}
	wantLines := []int{3, 4, 6, 7}
	for i, le := range bad.Lines {
		if i < len(wantLines) && le.Line != wantLines[i] {
			t.Errorf("bad line %d is line %d, want %d (%v)", i, le.Line, wantLines[i], le)
		}
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "line 3: ") {
		t.Errorf("error %q: want one line naming line 3", msg)
	}
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3: %v", len(evs), evs)
	}
	if evs[0].FD != 3 || evs[1].Bytes != 5 || evs[2].FD != -1 || evs[2].Op != Close {
		t.Errorf("events: %v", evs)
	}
}

func TestReadJSONLFatal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty file"},
		{"not header", `{"time":"2026-11-22T12:16:16Z","op":"open","result":3}`, `line 1: not a file events header: format ""`},
		{"garbage", "\x00\x01", "line 1: not a file events header"},
		{"future version", `{"format":"authflow-file-events","version":2,"clock":"realtime"}`, "version 2 is not supported"},
		{"other clock", `{"format":"authflow-file-events","version":1,"clock":"monotonic"}`, `clock "monotonic" is not supported`},
		{"too long header", strings.Repeat(" ", MaxLineLength+1), "line 1: not a file events header: line 1: line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, evs, err := ReadJSONL(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if evs != nil {
				t.Errorf("got events %v with a fatal error", evs)
			}
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "both.pcapng")
	side := SidecarPath(capture)
	if want := capture + ".files.jsonl"; side != want {
		t.Fatalf("SidecarPath = %q, want %q", side, want)
	}
	content := `{"format":"authflow-file-events","version":1,"clock":"realtime"}` + "\nbad\n"
	if err := os.WriteFile(side, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadFile(side)
	if err == nil || !strings.Contains(err.Error(), side+":2: bad event") {
		t.Fatalf("error %v, want it to name %s:2", err, side)
	}
	_, _, err = ReadFile(filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("error %v, want it to name the missing file", err)
	}
}

func TestOpText(t *testing.T) {
	for _, op := range []Op{Open, Read, Write, Close} {
		b, _ := op.MarshalText()
		var got Op
		if err := got.UnmarshalText(b); err != nil || got != op {
			t.Errorf("%v: round trip gave %v, %v", op, got, err)
		}
	}
	var o Op
	if err := o.UnmarshalText([]byte("unknown")); err == nil {
		t.Error("unmarshal of \"unknown\" succeeded")
	}
	if s := Op(99).String(); s != "op(99)" {
		t.Errorf("Op(99).String() = %q", s)
	}
}

func TestWriterStickyError(t *testing.T) {
	w := NewWriter(failWriter{}, NewHeader("ebpf"))
	for i := 0; i < 10000; i++ { // enough to overflow the bufio buffer
		if err := w.Write(sampleEvents()[0]); err != nil {
			break
		}
	}
	err1 := w.Flush()
	err2 := w.Write(sampleEvents()[0])
	if err1 == nil || err2 != err1 {
		t.Fatalf("errors %v, %v: want the same sticky error", err1, err2)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func FuzzReadJSONL(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteJSONL(&buf, NewHeader("strace"), sampleEvents())
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"authflow-file-events","version":1,"clock":"realtime"}` + "\n" + `{"time":"x","op":"read"}`))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, evs, err := ReadJSONL(bytes.NewReader(in))
		if err != nil {
			var bad *BadLinesError
			if !errors.As(err, &bad) {
				return
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
		}
		// What was read must survive a round trip.
		var out bytes.Buffer
		if err := WriteJSONL(&out, h, evs); err != nil {
			return // e.g. a line that grew past MaxLineLength
		}
		_, evs2, err := ReadJSONL(&out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(evs2) != len(evs) {
			t.Fatalf("re-read %d events, want %d", len(evs2), len(evs))
		}
	})
}
