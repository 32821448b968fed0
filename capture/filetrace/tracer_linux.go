//go:build linux && amd64

package filetrace

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/authflow/authflow/capture/fsevent"
)

// Record layout (struct event and struct open_event in bpf/filetrace.bpf.c).
const (
	eventSize     = 48
	openEventSize = 312
	pathOffset    = 56
)

// maxPaths bounds the descriptors whose path the tracer remembers.
const maxPaths = 1 << 16

type fdKey struct {
	tgid uint32
	fd   int32
}

// Tracer is a running file tracer. Receive its events from Events until
// the channel is closed; Close stops it. Its methods are safe for
// concurrent use.
type Tracer struct {
	opts    Options
	attach  Attach
	coll    *ebpf.Collection
	links   []link.Link
	rd      *ringbuf.Reader
	events  chan fsevent.Event
	started time.Time
	seeded  int
	// followed are the processes followed at start: Options.PID and its
	// descendants.
	followed []int

	paths   map[fdKey]string // owned by the reader goroutine
	readErr error            // set by the reader goroutine

	clockOffset atomic.Int64 // REALTIME - MONOTONIC, ns
	clockError  atomic.Int64 // ns
	delivered   atomic.Uint64

	stopOnce sync.Once
	stopping chan struct{} // closed by stop
	flushErr error         // set by stop
	done     chan struct{} // closed when the reader goroutine ends

	closeOnce sync.Once
	closeErr  error
	mu        sync.Mutex // guards closed, lost and the release of coll
	closed    bool
	lost      uint64 // read at Close
}

// Start loads and attaches the eBPF program and starts reading events. It
// stops when ctx is done or Close is called.
func Start(ctx context.Context, opts Options) (*Tracer, error) {
	if len(opts.PathPrefix) > maxPrefix {
		return nil, fmt.Errorf("file tracer: path prefix is %d bytes long, at most %d are supported", len(opts.PathPrefix), maxPrefix)
	}
	if opts.PID < 0 || opts.PID > 1<<22 {
		return nil, fmt.Errorf("file tracer: bad pid %d", opts.PID)
	}
	if opts.RingBufferBytes == 0 {
		opts.RingBufferBytes = 4 << 20
	}
	if n := opts.RingBufferBytes; n < os.Getpagesize() || n&(n-1) != 0 {
		return nil, fmt.Errorf("file tracer: ring buffer size %d is not a power of two of at least a page", n)
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 4096
	}
	if err := privilegeError(); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("file tracer: raise the locked memory limit: %w (run as root, or on a kernel of 5.11 or newer)", err)
	}
	spec, err := loadFiletrace()
	if err != nil {
		return nil, fmt.Errorf("file tracer: %w", err)
	}
	if err := configure(spec, opts); err != nil {
		return nil, fmt.Errorf("file tracer: %w", err)
	}

	forms := []Attach{AttachTPBTF, AttachRawTP, AttachTracepoint}
	if opts.Attach != AttachAuto {
		forms = []Attach{opts.Attach}
	}
	t := &Tracer{opts: opts, paths: make(map[fdKey]string), done: make(chan struct{}), stopping: make(chan struct{})}
	var errs []string
	for _, form := range forms {
		err := t.load(spec, form)
		if err == nil {
			break
		}
		errs = append(errs, fmt.Sprintf("%s: %v", form, err))
	}
	if t.coll == nil {
		return nil, fmt.Errorf("file tracer: no attach form worked: %s", strings.Join(errs, "; "))
	}
	t.rd, err = ringbuf.NewReader(t.coll.Maps["events"])
	if err != nil {
		t.release()
		return nil, fmt.Errorf("file tracer: open ring buffer: %w", err)
	}
	t.measureClock()
	t.started = time.Now()
	t.seeded = t.seedOpenFiles()
	t.events = make(chan fsevent.Event, opts.EventBuffer)
	go t.read(ctx)
	return t, nil
}

// configure sets the filters in the program's constants.
func configure(spec *ebpf.CollectionSpec, opts Options) error {
	set := func(name string, v any) error {
		vs, ok := spec.Variables[name]
		if !ok {
			return fmt.Errorf("eBPF object has no variable %q", name)
		}
		if err := vs.Set(v); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
		return nil
	}
	var comm [16]byte
	if opts.Comm != "" {
		copy(comm[:15], opts.Comm)
	}
	var prefix [256]byte
	copy(prefix[:], opts.PathPrefix)
	var cgID uint64
	var cgLevel uint32
	if opts.CgroupPath != "" {
		var err error
		if cgID, cgLevel, err = cgroupID(opts.CgroupPath); err != nil {
			return err
		}
	}
	spec.Maps["events"].MaxEntries = uint32(opts.RingBufferBytes)
	for _, s := range []struct {
		name string
		v    any
	}{
		{"self_tgid", selfTgid(opts)},
		{"follow_tgids", boolU32(opts.PID != 0)},
		{"filter_comm", boolU32(opts.Comm != "")},
		{"target_comm", [2]uint64{binary.LittleEndian.Uint64(comm[:8]), binary.LittleEndian.Uint64(comm[8:])}},
		{"target_cgroup", cgID},
		{"cgroup_level", cgLevel},
		{"prefix_len", uint32(len(opts.PathPrefix))},
		{"prefix", prefix},
		{"wakeup_bytes", uint64(opts.RingBufferBytes / 2)},
	} {
		if err := set(s.name, s.v); err != nil {
			return err
		}
	}
	return nil
}

// selfTgid is the process never traced: the tracer's own, unless asked for.
func selfTgid(opts Options) uint32 {
	if opts.PID == os.Getpid() {
		return 0
	}
	return uint32(os.Getpid())
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// programsOf lists the programs of each attach form.
var programsOf = map[Attach][]string{
	AttachTPBTF:      {"sys_exit_btf"},
	AttachRawTP:      {"sys_exit_raw"},
	AttachTracepoint: {"sys_enter_tp", "sys_exit_tp"},
}

// load loads the programs of one attach form and attaches them.
func (t *Tracer) load(spec *ebpf.CollectionSpec, form Attach) error {
	progs, ok := programsOf[form]
	if !ok {
		return fmt.Errorf("unknown attach form %q (want tp_btf, raw_tp or tracepoint)", form)
	}
	switch form {
	case AttachTPBTF:
		if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
			return errors.New("kernel BTF /sys/kernel/btf/vmlinux is missing (needs a kernel built with CONFIG_DEBUG_INFO_BTF=y)")
		}
	case AttachTracepoint:
		if err := ensureTracefs(); err != nil {
			return err
		}
	}
	// Following a process's children needs the task_newtask tracepoint.
	follow := t.opts.PID != 0
	if follow {
		if err := ensureTracefs(); err != nil {
			return fmt.Errorf("follow the children of process %d: %w", t.opts.PID, err)
		}
		progs = append(slices.Clone(progs), "task_newtask_tp")
	}
	s := spec.Copy()
	for name := range s.Programs {
		if !contains(progs, name) {
			delete(s.Programs, name)
		}
	}
	if form != AttachTracepoint {
		delete(s.Maps, "inflight")
	}
	coll, err := ebpf.NewCollection(s)
	if err != nil {
		return loadError(err)
	}
	var links []link.Link
	for _, name := range progs {
		prog := coll.Programs[name]
		var l link.Link
		switch {
		case name == "task_newtask_tp":
			l, err = link.Tracepoint("task", "task_newtask", prog, nil)
		case form == AttachTPBTF:
			l, err = link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
		case form == AttachRawTP:
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: prog})
		case form == AttachTracepoint:
			l, err = link.Tracepoint("raw_syscalls", strings.TrimSuffix(name, "_tp"), prog, nil)
		}
		if err != nil {
			for _, l := range links {
				l.Close()
			}
			coll.Close()
			return fmt.Errorf("attach %s: %w", name, err)
		}
		links = append(links, l)
	}
	t.coll, t.links, t.attach = coll, links, form
	if follow {
		// The process and the children it has now; task_newtask adds
		// those it creates from here on.
		tgids := coll.Maps["tgids"]
		for _, pid := range Descendants(t.opts.PID) {
			if err := tgids.Update(uint32(pid), uint32(1), ebpf.UpdateAny); err != nil {
				t.release()
				t.coll, t.links, t.followed = nil, nil, nil
				return fmt.Errorf("follow process %d: %w", pid, err)
			}
			t.followed = append(t.followed, pid)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loadError explains a failed load.
func loadError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		hint := "run as root, or give the binary CAP_BPF and CAP_PERFMON"
		if b, rerr := os.ReadFile("/sys/kernel/security/lockdown"); rerr == nil && strings.Contains(string(b), "[confidentiality]") {
			hint = "the kernel is locked down in confidentiality mode, which forbids eBPF tracing; boot with lockdown=integrity or none"
		}
		return fmt.Errorf("load eBPF program: %w (%s)", err, hint)
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("load eBPF program: rejected by the kernel verifier: %v", ve)
	}
	return fmt.Errorf("load eBPF program: %w", err)
}

// ensureTracefs makes sure tracefs is mounted, mounting it at
// /sys/kernel/tracing if it is not and we may.
func ensureTracefs() error {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		_, err := os.Stat(dir + "/events")
		if err == nil {
			return nil
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("tracefs at %s is not readable (needs root, or CAP_DAC_READ_SEARCH besides CAP_BPF and CAP_PERFMON)", dir)
		}
	}
	if err := unix.Mount("nodev", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("tracefs is not mounted and mounting it failed: %w (as root, run: mount -t tracefs nodev /sys/kernel/tracing)", err)
	}
	return nil
}

// cgroupID returns the id and level of a cgroup v2 directory.
func cgroupID(path string) (uint64, uint32, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, 0, fmt.Errorf("cgroup %s: %w", path, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, 0, fmt.Errorf("cgroup %s is not in a cgroup v2 hierarchy (cgroup2 is often at /sys/fs/cgroup or /sys/fs/cgroup/unified)", path)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("cgroup %s: %w", path, err)
	}
	// The level is the number of cgroup2 directories above it.
	level := uint32(0)
	dir := path
	for {
		parent := dir[:max(strings.LastIndexByte(strings.TrimRight(dir, "/"), '/'), 0)]
		if parent == "" || parent == dir {
			break
		}
		var pfs unix.Statfs_t
		if err := unix.Statfs(parent, &pfs); err != nil || pfs.Type != unix.CGROUP2_SUPER_MAGIC {
			break
		}
		level++
		dir = parent
	}
	return st.Ino, level, nil
}

// Events returns the channel of events. It is closed once the tracer has
// stopped and every remaining event has been sent. Receive from it until it
// is closed, or the tracer cannot finish stopping.
func (t *Tracer) Events() <-chan fsevent.Event { return t.events }

// Attach returns the attach form in use.
func (t *Tracer) Attach() Attach { return t.attach }

// Stats returns the counters so far.
func (t *Tracer) Stats() Stats {
	s := Stats{
		Attach:     t.attach,
		Events:     t.delivered.Load(),
		Seeded:     t.seeded,
		ClockError: time.Duration(t.clockError.Load()),
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		s.Lost = t.lost
	} else {
		s.Lost = t.readLost()
	}
	return s
}

// Header returns the sidecar header for this tracer's events.
func (t *Tracer) Header() fsevent.Header {
	h := fsevent.NewHeader("ebpf")
	h.Created = t.started
	h.ClockErrorNS = t.clockError.Load()
	return h
}

// readLost sums the per-CPU lost counters.
func (t *Tracer) readLost() uint64 {
	var per []uint64
	var n uint64
	if err := t.coll.Maps["lost"].Lookup(uint32(0), &per); err == nil {
		for _, v := range per {
			n += v
		}
	}
	return n
}

// Close stops tracing: it detaches the program, waits until the events
// still in the ring buffer have been sent on Events (so keep receiving),
// and frees the kernel objects. It returns the first error of the reader,
// if any.
func (t *Tracer) Close() error {
	t.stop()
	<-t.done
	t.closeOnce.Do(func() {
		t.closeErr = errors.Join(t.readErr, t.flushErr)
		if err := t.rd.Close(); err != nil && t.closeErr == nil {
			t.closeErr = fmt.Errorf("close ring buffer: %w", err)
		}
		t.mu.Lock()
		t.lost = t.readLost()
		t.closed = true
		t.coll.Close()
		t.mu.Unlock()
	})
	return t.closeErr
}

// stop detaches the programs and asks the reader to drain the ring.
func (t *Tracer) stop() {
	t.stopOnce.Do(func() {
		for _, l := range t.links {
			l.Close()
		}
		close(t.stopping)
		if err := t.rd.Flush(); err != nil {
			// The reader stops at its next deadline anyway.
			t.flushErr = fmt.Errorf("flush ring buffer: %w", err)
		}
	})
}

func (t *Tracer) release() {
	for _, l := range t.links {
		l.Close()
	}
	if t.coll != nil {
		t.coll.Close()
	}
}

// read is the reader goroutine.
func (t *Tracer) read(ctx context.Context) {
	defer close(t.done)
	defer close(t.events)
	var rec ringbuf.Record
	for {
		select {
		case <-t.stopping:
			t.drain(&rec)
			return
		default:
		}
		t.rd.SetDeadline(time.Now().Add(t.opts.FlushInterval))
		err := t.rd.ReadInto(&rec)
		switch {
		case err == nil:
			t.deliver(rec.RawSample)
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.measureClock()
			if ctx.Err() != nil {
				t.stop()
			}
		case errors.Is(err, ringbuf.ErrFlushed):
			// stop was called: the next turn drains.
		default:
			if !errors.Is(err, ringbuf.ErrClosed) && !errors.Is(err, os.ErrClosed) {
				t.readErr = fmt.Errorf("read ring buffer: %w", err)
			}
			return
		}
	}
}

// drain delivers what is left in the ring once the programs are detached.
func (t *Tracer) drain(rec *ringbuf.Record) {
	t.rd.SetDeadline(time.Now()) // past: read what is there, then stop
	for {
		err := t.rd.ReadInto(rec)
		switch {
		case err == nil:
			t.deliver(rec.RawSample)
		case errors.Is(err, ringbuf.ErrFlushed):
		case errors.Is(err, os.ErrDeadlineExceeded):
			return
		default:
			if !errors.Is(err, ringbuf.ErrClosed) && !errors.Is(err, os.ErrClosed) {
				t.readErr = fmt.Errorf("read ring buffer: %w", err)
			}
			return
		}
	}
}

func (t *Tracer) deliver(b []byte) {
	if ev, ok := t.decode(b); ok {
		t.events <- ev
		t.delivered.Add(1)
	}
}

// decode turns a ring buffer record into an event.
func (t *Tracer) decode(b []byte) (fsevent.Event, bool) {
	if len(b) < eventSize {
		return fsevent.Event{}, false
	}
	le := binary.LittleEndian
	ts := int64(le.Uint64(b[0:]))
	ret := int64(le.Uint64(b[8:]))
	key := fdKey{tgid: le.Uint32(b[16:]), fd: int32(le.Uint32(b[24:]))}
	ev := fsevent.Event{
		Time:    time.Unix(0, ts+t.clockOffset.Load()),
		PID:     int(key.tgid),
		TID:     int(le.Uint32(b[20:])),
		FD:      int(key.fd),
		Syscall: syscallName(le.Uint16(b[28:])),
		Op:      fsevent.Op(b[30]),
		Comm:    cString(b[32:48]),
		Result:  ret,
	}
	if ret < 0 {
		ev.Err = unix.ErrnoName(unix.Errno(-ret))
	}
	switch ev.Op {
	case fsevent.Open:
		if len(b) < openEventSize {
			return fsevent.Event{}, false
		}
		n := int(b[31])
		ev.Flags = openFlags(le.Uint64(b[48:]))
		ev.Path = string(b[pathOffset : pathOffset+n])
		if ret >= 0 {
			t.remember(key, ev.Path)
		}
	case fsevent.Read, fsevent.Write:
		ev.Path = t.paths[key]
		if ret > 0 {
			ev.Bytes = ret
		}
	case fsevent.Close:
		ev.Path = t.paths[key]
		delete(t.paths, key)
	default:
		return fsevent.Event{}, false
	}
	return ev, true
}

func (t *Tracer) remember(k fdKey, path string) {
	if _, ok := t.paths[k]; !ok && len(t.paths) >= maxPaths {
		for old := range t.paths { // forget one at random
			delete(t.paths, old)
			break
		}
	}
	t.paths[k] = path
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// measureClock updates the MONOTONIC to REALTIME offset: the best of five
// MONOTONIC, REALTIME, MONOTONIC readings.
func (t *Tracer) measureClock() {
	best := int64(-1)
	var off int64
	for i := 0; i < 5; i++ {
		var m1, r, m2 unix.Timespec
		if unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1) != nil ||
			unix.ClockGettime(unix.CLOCK_REALTIME, &r) != nil ||
			unix.ClockGettime(unix.CLOCK_MONOTONIC, &m2) != nil {
			continue
		}
		w := m2.Nano() - m1.Nano()
		if best < 0 || w < best {
			best = w
			off = r.Nano() - (m1.Nano()+m2.Nano())/2
		}
	}
	if best >= 0 {
		t.clockOffset.Store(off)
		t.clockError.Store((best + 1) / 2)
	}
}
