// Package filetrace reports, with eBPF, which process opens, reads, writes
// and closes which file, as fsevent.Events on the same clock as captured
// packets.
//
// One eBPF program runs at every system call exit (the sys_exit tracepoint)
// and returns at once unless the call is open, openat, openat2, creat, read,
// pread64, readv, preadv(2), write, pwrite64, writev, pwritev(2), sendfile,
// splice, copy_file_range or close. Filters run in the kernel, cheapest
// first:
//
//   - the process (thread group) id, [Options.PID], and its descendants:
//     those running at start (found in /proc) and those it creates while
//     traced (the task_newtask tracepoint adds each new process, not
//     thread, of a followed process to the followed set, before the child
//     runs);
//   - for opens: the command name ([Options.Comm], the first 15 bytes, as the
//     kernel keeps them), the cgroup v2 ([Options.CgroupPath], the directory
//     or below it), and the path prefix ([Options.PathPrefix]) compared with
//     the path given to open;
//   - for reads, writes and closes: the (process, fd) pair must have been
//     returned by an open that passed the filters, so other descriptors
//     produce no event at all.
//
// Events go through a 4 MiB ring buffer without waking the reader, which
// polls it every [Options.FlushInterval] (100 ms), unless it is more than
// half full. The loss of events (ring full) is counted in [Stats].
//
// The tracer never follows its own process, unless [Options.PID] names it.
//
// # Attach forms
//
// [Start] tries, in order: a BTF tracepoint (tp_btf/sys_exit, needs
// /sys/kernel/btf/vmlinux), a raw tracepoint (raw_tp/sys_exit), and the
// classic tracepoints raw_syscalls:sys_enter/sys_exit (needs tracefs, which
// Start mounts at /sys/kernel/tracing when it is root and tracefs is not
// mounted; it is left mounted). With [Options.PID] the classic tracepoint
// task:task_newtask is attached too, to follow the children. Each needs root, or CAP_BPF and CAP_PERFMON
// (the classic tracepoints also need read access to tracefs). fentry, fexit
// and kprobes are not used. [Check] tells beforehand what is missing.
//
// # Clock
//
// The kernel stamps events with bpf_ktime_get_ns (CLOCK_MONOTONIC). The
// tracer converts them to the wall clock (CLOCK_REALTIME, the clock of
// packet timestamps) with an offset measured by reading MONOTONIC, REALTIME,
// MONOTONIC in a row (best of 5, re-measured at every poll). The error is
// at most half the bracket, typically well under a microsecond, reported as
// [Stats.ClockError]; a step of the wall clock (settimeofday, an NTP step)
// shows up at the next poll, so events of at most one poll interval may be
// converted with the old or the new offset. Times are those of the call's
// return.
//
// # Cost
//
// Measured on a 2-vCPU VM (Linux 6.18) with a reader of a 1 GiB file in
// the page cache, 64 KiB per read (about 5 µs per read): while any sys_exit
// program is attached, every system call of every process costs about
// 0.25 µs more (+3 to 6 %, the same with a program that returns at once);
// a traced read costs about 0.6 µs more (+12 %), with every read reported
// and none lost. Slower readers (network, disk) pay proportionally less.
// See TestOverhead (AUTHFLOW_EBPF_BENCH=1).
//
// # Limits
//
// x86_64 only (syscall numbers and pt_regs layout); 32-bit (compat)
// processes are not followed. Paths are the ones given to open, not
// resolved: a relative path or a path through a symbolic link does not
// match an absolute prefix; only the first 255 bytes of a path are kept.
// Descriptors duplicated with dup*/fcntl, inherited by a child process, or
// passed over a socket are not followed. Files already open when the
// tracer starts are found through /proc/PID/fd.
package filetrace

import (
	"errors"
	"time"
)

// DefaultPathPrefix is where Glance's file store keeps images.
const DefaultPathPrefix = "/var/lib/glance/images"

// maxPrefix is the longest path prefix compared in the kernel.
const maxPrefix = 255

// Attach is an attach form for the eBPF program.
type Attach string

// The attach forms, in the order AttachAuto tries them.
const (
	// AttachAuto tries AttachTPBTF, then AttachRawTP, then AttachTracepoint.
	AttachAuto Attach = ""
	// AttachTPBTF is tp_btf/sys_exit (BTF tracepoint): needs kernel BTF.
	AttachTPBTF Attach = "tp_btf"
	// AttachRawTP is raw_tp/sys_exit (raw tracepoint).
	AttachRawTP Attach = "raw_tp"
	// AttachTracepoint is tracepoint/raw_syscalls/sys_enter and sys_exit
	// (classic tracepoints): needs tracefs.
	AttachTracepoint Attach = "tracepoint"
)

// Options select what is traced. Filters combine: an event must pass all
// that are set.
type Options struct {
	// PID is the process (thread group) id to follow, with its
	// descendants (glance-api's workers are children of the process
	// systemd started); 0 follows all. Following children needs the
	// task/task_newtask tracepoint (tracefs, mounted when missing).
	PID int
	// Comm is the command name to follow, e.g. "glance-api". The kernel
	// keeps only 15 bytes, so only the first 15 are compared (exactly).
	Comm string
	// CgroupPath is a cgroup v2 directory (e.g.
	// /sys/fs/cgroup/system.slice/glance-api.service): only processes in it
	// or below are followed.
	CgroupPath string
	// PathPrefix keeps only files whose open path starts with it (at most
	// 255 bytes). Empty follows every file.
	PathPrefix string
	// Attach forces an attach form; AttachAuto tries them in order.
	Attach Attach
	// RingBufferBytes is the ring buffer size: a power of two, at least the
	// page size. 0 means 4 MiB.
	RingBufferBytes int
	// FlushInterval is how often the ring buffer is read when not half
	// full. 0 means 100 ms.
	FlushInterval time.Duration
	// EventBuffer is the capacity of the Events channel. 0 means 4096.
	EventBuffer int
}

// Stats are a tracer's counters.
type Stats struct {
	// Attach is the attach form in use.
	Attach Attach
	// Events is the number of events delivered.
	Events uint64
	// Lost is the number of events the kernel dropped because the ring
	// buffer was full.
	Lost uint64
	// Seeded is the number of open files found in /proc at start.
	Seeded int
	// ClockError bounds the error of the conversion of kernel times to the
	// wall clock (last measurement).
	ClockError time.Duration
}

// ErrNotSupported is returned on platforms other than Linux on x86_64.
var ErrNotSupported = errors.New("eBPF file tracing is only available on Linux x86_64")
