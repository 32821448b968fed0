package sequence

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
)

// fileUse is one file descriptor's life: its open, then its reads and
// writes until it is closed.
type fileUse struct {
	open          *fsevent.Event
	openAt        event.Position
	ops           []*event.Event // reads and writes, kept for --detail 2
	reads, writes ioTotals
	path          string
	pid           int
	fd            int
	comm          string
}

// ioTotals sum up a descriptor's reads (or writes).
type ioTotals struct {
	calls       int
	bytes       int64
	first, last time.Time
}

// add counts one call of n bytes at t.
func (s *ioTotals) add(t time.Time, n int64) {
	if s.calls == 0 {
		s.first = t
	}
	s.calls++
	s.bytes += n
	s.last = t
}

// maxFileOps bounds the reads and writes kept per descriptor for drawing
// each of them; beyond it they are only counted.
const maxFileOps = 100_000

// fileEvent adds a file system call to the descriptor it concerns.
func (b *builder) fileEvent(e *event.Event, fe *fsevent.Event) {
	if b.fds == nil {
		b.fds = map[[2]int]*exchange{}
	}
	key := [2]int{fe.PID, fe.FD}
	x := b.fds[key]
	if fe.Op == fsevent.Open || x == nil {
		x = &exchange{proto: protoFile, start: e.Start.Time, end: e.End, file: &fileUse{path: fe.Path, pid: fe.PID, fd: fe.FD, comm: fe.Comm}}
		x.image = imageOfPath(fe.Path)
		b.xs = append(b.xs, x)
		if fe.Op == fsevent.Open {
			x.file.open, x.file.openAt = fe, e.Start
			x.req = e
			if fe.Failed() {
				return
			}
		} else {
			// The open came before tracing started (the process already
			// had the file open): the descriptor's first call stands in
			// for it, and the messages say which descriptor it was.
			x.resp = e
		}
		b.fds[key] = x
	}
	f := x.file
	if f.path == "" {
		f.path = fe.Path
		x.image = imageOfPath(fe.Path)
	}
	switch fe.Op {
	case fsevent.Read:
		f.reads.add(e.Start.Time, fe.Bytes)
	case fsevent.Write:
		f.writes.add(e.Start.Time, fe.Bytes)
	case fsevent.Close:
		delete(b.fds, key)
	}
	if (fe.Op == fsevent.Read || fe.Op == fsevent.Write) && len(f.ops) < maxFileOps {
		f.ops = append(f.ops, e)
	}
	if e.End.After(x.end) {
		x.end = e.End
	}
}

// unopened names the descriptor of a use whose open was not traced, as
// a label suffix: " (fd 14, opened before tracing)"; "" otherwise.
func (f *fileUse) unopened() string {
	if f.open != nil {
		return ""
	}
	return fmt.Sprintf(" (fd %d, opened before tracing)", f.fd)
}

// imageOfPath returns the image id a Glance file store path names
// (/var/lib/glance/images/<id>), or "".
func imageOfPath(p string) string {
	base := path.Base(p)
	if len(base) == 36 && strings.Count(base, "-") == 4 {
		return base
	}
	if strings.Contains(p, "/images/") && base != "" && base != "." && base != "/" {
		return base
	}
	return ""
}

// fileCaller names the process behind file events: the service its
// command name says ("glance-api" is glance), else the service serving a
// request for the image the file holds.
func (b *builder) fileCaller(x *exchange, active []*exchange) *party {
	comm := x.file.comm
	name := strings.TrimSuffix(strings.TrimSuffix(comm, "-api"), "-worker")
	switch name {
	case "glance", "nova", "cinder", "swift", "keystone":
		return b.parties.service(name)
	}
	for i := len(active) - 1; i >= 0; i-- {
		if y := active[i]; x.image != "" && y.call != nil && y.call.ImageID == x.image {
			return y.callee
		}
	}
	if comm == "" {
		comm = fmt.Sprintf("pid %d", x.file.pid)
	}
	return b.parties.get("process:"+comm, comm, RoleService, "")
}

func (b *builder) filesParty() *party {
	return b.parties.get("files", "Local File System", RoleFiles, "")
}

// fileMessages draws a descriptor's open and its reads and writes, the
// reads and writes summarised unless the detail level is 2.
func (b *builder) fileMessages(x *exchange) []*pending {
	f := x.file
	fs := x.callee
	var out []*pending
	base := func(m *Message) {
		m.Path, m.PID, m.Comm, m.Image = f.path, f.pid, f.comm, x.image
	}
	if f.open != nil {
		m := b.message(x.caller, fs, f.openAt, KindFileOpen)
		base(m)
		m.Calls = 1
		m.Label = fmt.Sprintf("%s %s", f.open.Syscall, f.path)
		if f.open.Failed() {
			m.Label += " = " + f.open.Err
			m.Error = f.open.Err
		} else {
			m.Label += fmt.Sprintf(" = fd %d", f.open.FD)
		}
		if f.open.Flags != "" {
			m.Label += " (" + f.open.Flags + ")"
		}
		if x.image != "" {
			m.Notes = append(m.Notes, Note{Over: []string{m.To}, Text: b.t(noteFileOpen, x.caller.name, x.image)})
		}
		out = append(out, &pending{msg: m, at: f.openAt, x: x, isReq: true, cause: x.cause})
	}
	if b.opts.DetailLevel >= 2 {
		for _, e := range f.ops {
			fe := e.Data.(*fsevent.Event)
			kind, from, to := KindFileRead, fs, x.caller
			if fe.Op == fsevent.Write {
				kind, from, to = KindFileWrite, x.caller, fs
			}
			m := b.message(from, to, e.Start, kind)
			base(m)
			m.Calls = 1
			n := fe.Bytes
			m.Bytes = &n
			m.Label = fmt.Sprintf("%s(fd %d) = %d", fe.Syscall, fe.FD, fe.Result)
			m.Response = kind == KindFileRead
			out = append(out, &pending{msg: m, at: e.Start, x: x, cause: x.cause})
		}
		return out
	}
	// The reads are answers of the file system, the writes calls to it.
	for _, t := range []struct {
		sum      *ioTotals
		kind     Kind
		verb     string
		from, to *party
	}{
		{&f.reads, KindFileRead, "read", fs, x.caller},
		{&f.writes, KindFileWrite, "write", x.caller, fs},
	} {
		if t.sum.calls == 0 {
			continue
		}
		m := b.message(t.from, t.to, event.Position{Time: t.sum.first}, t.kind)
		base(m)
		m.Response = t.kind == KindFileRead
		m.Calls = t.sum.calls
		n := t.sum.bytes
		m.Bytes = &n
		m.Label = fmt.Sprintf("%s %s in %s", t.verb, size(n), plural(t.sum.calls, t.verb)) + f.unopened()
		m.Duration = t.sum.last.Sub(t.sum.first)
		m.End = t.sum.last
		out = append(out, &pending{msg: m, at: event.Position{Time: t.sum.first}, x: x, cause: x.cause})
	}
	return out
}
