package sequence

import (
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
)

// TestLiveFileReads: a descriptor's open is drawn when it happens, its
// reads once, summed, when it is closed; one still open is drawn at Flush.
func TestLiveFileReads(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fe := func(ms int, op fsevent.Op, fd int, n int64) *event.Event {
		e := &fsevent.Event{Time: t0.Add(time.Duration(ms) * time.Millisecond), PID: 7, TID: 7, Comm: "glance-api", Op: op, FD: fd, Bytes: n, Result: n}
		switch op {
		case fsevent.Open:
			e.Syscall, e.Path, e.Result = "openat", "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190", int64(fd)
		case fsevent.Read:
			e.Syscall = "read"
		case fsevent.Close:
			e.Syscall = "close"
		}
		return &event.Event{Kind: event.FileOp, Start: event.Position{Time: e.Time}, End: e.Time, Data: e}
	}
	l := NewLive(Options{})
	labels := func(ms []*Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, l.Name(m.From)+" → "+l.Name(m.To)+": "+m.Label)
		}
		return out
	}
	steps := []struct {
		e    *event.Event
		want []string
	}{
		{fe(0, fsevent.Open, 5, 0), []string{"glance → Local File System: openat /var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190 = fd 5"}},
		{fe(1, fsevent.Read, 5, 65536), nil},
		{fe(2, fsevent.Read, 5, 1000), nil},
		{fe(3, fsevent.Close, 5, 0), []string{"Local File System → glance: read 65.0 KiB in 2 reads"}},
		{fe(4, fsevent.Open, 6, 0), []string{"glance → Local File System: openat /var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190 = fd 6"}},
		{fe(5, fsevent.Read, 6, 10), nil},
	}
	for i, s := range steps {
		got := labels(l.Add(s.e))
		if len(got) != len(s.want) || len(got) > 0 && got[0] != s.want[0] {
			t.Errorf("step %d: got %q, want %q", i, got, s.want)
		}
	}
	if got := labels(l.Flush()); len(got) != 1 || got[0] != "Local File System → glance: read 10 bytes in 1 read" {
		t.Errorf("flush: got %q", got)
	}
}
