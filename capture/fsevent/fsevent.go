// Package fsevent defines the file events that authflow puts next to a
// packet capture (which process opened, read, wrote or closed which file,
// when) and their sidecar file format.
//
// Events come from the eBPF tracer (package capture/filetrace) or from strace
// logs (package capture/strace). Both produce the same [Event] values, with
// wall-clock times (CLOCK_REALTIME, the clock of the packets), so that the
// correlation stage can place a file read between an HTTP request and its
// response.
//
// # FORMAT
//
// A sidecar is a UTF-8 text file named after the capture it belongs to
// ([SidecarPath]: "capture.pcapng" → "capture.pcapng.files.jsonl"). It holds
// JSON Lines: one JSON object per line, lines ending in "\n", no line longer
// than [MaxLineLength] bytes.
//
// The first line is a header:
//
//	{"format":"authflow-file-events","version":1,"clock":"realtime","source":"ebpf","created":"2026-11-22T12:16:13.529828601Z"}
//
// Header fields:
//
//   - format: always "authflow-file-events".
//   - version: the format version, 1. Readers accept any version whose
//     major number they know; fields may be added within a version, never
//     renamed or removed.
//   - clock: the clock of every "time" field: "realtime" (UTC wall clock, the
//     same clock as packet timestamps).
//   - source: where the events came from: "ebpf" or "strace" (free text).
//   - created: optional, when the sidecar was started.
//   - clock_error_ns: optional, the bound in nanoseconds on the error of the
//     conversion from the tracer's clock to "clock" (see filetrace).
//   - comment: optional free text.
//
// Every further line is one event, in the order the events happened (by
// "time", ties in kernel order):
//
//	{"time":"2026-11-22T12:16:16.442371Z","pid":28685,"tid":28685,"comm":"glance-api","op":"open","syscall":"openat","fd":14,"path":"/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190","flags":"O_RDONLY|O_CLOEXEC","result":14}
//	{"time":"2026-11-22T12:16:16.443012Z","pid":28685,"tid":28685,"comm":"glance-api","op":"read","syscall":"read","fd":14,"path":"/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190","bytes":65536,"result":65536}
//	{"time":"2026-11-22T12:16:16.485938Z","pid":28685,"tid":28685,"op":"read","syscall":"read","fd":14,"path":"/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190","result":0}
//	{"time":"2026-11-22T12:16:16.485983Z","pid":28685,"tid":28685,"op":"close","syscall":"close","fd":14,"path":"/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190","result":0}
//
// Event fields (omitted when zero or empty, except "time", "op" and "result"):
//
//   - time: RFC 3339 with nanoseconds, UTC; when the system call started
//     (strace) or returned (eBPF).
//   - pid, tid: process id (thread group id) and thread id.
//   - comm: the thread's command name (at most 15 bytes, as the kernel keeps it).
//   - op: "open", "read", "write" or "close" (see [Op]).
//   - syscall: the system call, e.g. "openat", "pread64", "sendfile".
//   - fd: the file descriptor; for "open" the one returned (-1 on failure).
//   - path: the file's path as given to open (not resolved); reads, writes
//     and closes carry the path of the open that returned their fd.
//   - flags: open flags as text, e.g. "O_RDONLY|O_CLOEXEC".
//   - bytes: bytes read or written (0 on failure or end of file).
//   - result: the system call's return value; -errno on failure.
//   - err: the errno name on failure, e.g. "EAGAIN".
//   - dur_ns: how long the call took, when known (strace -T).
//
// Lines that are not valid events are skipped by [ReadJSONL], which reports
// them with their line numbers.
package fsevent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Op says what an event did to its file.
type Op uint8

// The operations. The zero value is OpUnknown.
const (
	// OpUnknown is an operation this version does not know.
	OpUnknown Op = iota
	// Open is a successful or failed open, openat, openat2 or creat.
	Open
	// Read is a read from the file: read, pread64, readv, preadv, preadv2,
	// or the input side of sendfile, splice or copy_file_range.
	Read
	// Write is a write to the file: write, pwrite64, writev, pwritev,
	// pwritev2, or the output side of sendfile, splice or copy_file_range.
	Write
	// Close is a close of the file's descriptor.
	Close
)

var opNames = [...]string{OpUnknown: "unknown", Open: "open", Read: "read", Write: "write", Close: "close"}

// String returns the lower-case name used in the sidecar ("read").
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// MarshalText implements encoding.TextMarshaler.
func (o Op) MarshalText() ([]byte, error) {
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. Unknown names are an
// error.
func (o *Op) UnmarshalText(b []byte) error {
	for i, n := range opNames {
		if i != int(OpUnknown) && n == string(b) {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("unknown op %q", truncate(string(b), 32))
}

// Event is one file system call seen by a tracer.
type Event struct {
	// Time is when the call started (strace) or returned (eBPF), on the
	// wall clock (CLOCK_REALTIME) like packet timestamps.
	Time time.Time
	// PID is the process id (thread group id); TID the thread id. For strace
	// logs PID equals TID unless the log showed the thread being cloned.
	PID, TID int
	// Comm is the thread's command name, when known.
	Comm string
	// Op is what the call did.
	Op Op
	// Syscall is the system call's name, e.g. "openat" or "pread64".
	Syscall string
	// FD is the file descriptor: the one returned for Open (-1 on failure),
	// the one used otherwise.
	FD int
	// Path is the path given to the open that produced FD, when known.
	Path string
	// Flags are the open flags as text, e.g. "O_RDONLY|O_CLOEXEC" (Open only).
	Flags string
	// Bytes is the number of bytes read or written (0 on failure).
	Bytes int64
	// Result is the call's return value; negative errno on failure.
	Result int64
	// Err is the errno name on failure, e.g. "EAGAIN", else empty.
	Err string
	// Duration is how long the call took, or 0 when unknown.
	Duration time.Duration
}

// Failed reports whether the call returned an error.
func (e Event) Failed() bool { return e.Result < 0 }

// String formats the event on one line for logs and tests.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pid=%d tid=%d", e.Time.UTC().Format("15:04:05.000000000"), e.PID, e.TID)
	if e.Comm != "" {
		fmt.Fprintf(&b, " comm=%q", e.Comm)
	}
	fmt.Fprintf(&b, " %s %s fd=%d", e.Op, e.Syscall, e.FD)
	if e.Path != "" {
		fmt.Fprintf(&b, " path=%q", e.Path)
	}
	if e.Flags != "" {
		fmt.Fprintf(&b, " flags=%s", e.Flags)
	}
	if e.Bytes != 0 {
		fmt.Fprintf(&b, " bytes=%d", e.Bytes)
	}
	fmt.Fprintf(&b, " = %d", e.Result)
	if e.Err != "" {
		fmt.Fprintf(&b, " %s", e.Err)
	}
	return b.String()
}

// jsonEvent is the sidecar form of an Event. Field names are part of the
// format: never rename them.
type jsonEvent struct {
	Time    time.Time `json:"time"`
	PID     int       `json:"pid,omitempty"`
	TID     int       `json:"tid,omitempty"`
	Comm    string    `json:"comm,omitempty"`
	Op      Op        `json:"op"`
	Syscall string    `json:"syscall,omitempty"`
	FD      *int      `json:"fd,omitempty"`
	Path    string    `json:"path,omitempty"`
	Flags   string    `json:"flags,omitempty"`
	Bytes   int64     `json:"bytes,omitempty"`
	Result  int64     `json:"result"`
	Err     string    `json:"err,omitempty"`
	DurNS   int64     `json:"dur_ns,omitempty"`
}

// MarshalJSON implements json.Marshaler with the sidecar field names.
func (e Event) MarshalJSON() ([]byte, error) {
	fd := e.FD
	return json.Marshal(jsonEvent{
		Time: e.Time.UTC(), PID: e.PID, TID: e.TID, Comm: e.Comm, Op: e.Op,
		Syscall: e.Syscall, FD: &fd, Path: e.Path, Flags: e.Flags,
		Bytes: e.Bytes, Result: e.Result, Err: e.Err, DurNS: int64(e.Duration),
	})
}

// UnmarshalJSON implements json.Unmarshaler with the sidecar field names.
// A missing "fd" reads as -1; "time" and "op" are required.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j struct {
		jsonEvent
		Time *time.Time `json:"time"`
		Op   *Op        `json:"op"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Time == nil {
		return fmt.Errorf("no \"time\"")
	}
	if j.Op == nil {
		return fmt.Errorf("no \"op\"")
	}
	fd := -1
	if j.FD != nil {
		fd = *j.FD
	}
	*e = Event{
		Time: *j.Time, PID: j.PID, TID: j.TID, Comm: j.Comm, Op: *j.Op,
		Syscall: j.Syscall, FD: fd, Path: j.Path, Flags: j.Flags,
		Bytes: j.Bytes, Result: j.Result, Err: j.Err, Duration: time.Duration(j.DurNS),
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
