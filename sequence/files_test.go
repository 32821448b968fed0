package sequence

import (
	"strings"
	"testing"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
)

// fileEv returns the event of one file system call at ms.
func (s *script) fileEv(ms int, op fsevent.Op, syscall string, fd int, path string, n int64) *event.Event {
	fe := &fsevent.Event{PID: 28685, TID: 28685, Comm: "glance-api", Op: op, Syscall: syscall, FD: fd, Path: path, Bytes: n, Result: n}
	e := &event.Event{Kind: event.FileOp, Start: s.at(ms), Data: fe}
	e.End = e.Start.Time
	s.evs = append(s.evs, e)
	return e
}

// TestFileEventsWithoutOpen: reads, writes and closes of a descriptor
// whose open came before tracing started (glance already had the image
// open) are drawn with what is known, in every order, at every detail.
func TestFileEventsWithoutOpen(t *testing.T) {
	const img = "/var/lib/glance/images/" + "c6bca20f-183a-466f-9948-935b243c8190"
	cases := map[string]func(s *script){
		"read":  func(s *script) { s.fileEv(1, fsevent.Read, "read", 14, img, 65536) },
		"write": func(s *script) { s.fileEv(1, fsevent.Write, "write", 14, img, 4096) },
		"close": func(s *script) { s.fileEv(1, fsevent.Close, "close", 14, img, 0) },
		"read-close-read": func(s *script) {
			s.fileEv(1, fsevent.Read, "read", 14, img, 100)
			s.fileEv(2, fsevent.Close, "close", 14, img, 0)
			s.fileEv(3, fsevent.Read, "pread64", 14, "", 7)
		},
		"no path": func(s *script) { s.fileEv(1, fsevent.Read, "read", 3, "", 10) },
	}
	for name, build := range cases {
		for _, detail := range []int{0, 1, 2} {
			t.Run(name, func(t *testing.T) {
				s := &script{}
				build(s)
				f := Build(s.evs, Options{DetailLevel: detail})
				for _, m := range f.Messages {
					t.Logf("%s → %s: %s", m.From, m.To, m.Label)
				}
				if strings.HasPrefix(name, "read") || name == "write" {
					if len(f.Messages) == 0 {
						t.Fatal("no message drawn")
					}
					if !strings.Contains(f.Messages[0].Label, "fd ") {
						t.Errorf("label %q does not name the descriptor", f.Messages[0].Label)
					}
				}
			})
		}
	}
}
