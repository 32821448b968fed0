package sequence

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/strace"
	"github.com/authflow/authflow/decode"
)

// FuzzFileEvents reads the input as a file events sidecar and as an
// strace log, shuffles the events (any order: an fd's reads before its
// open, closes of fds never opened, reuse after close) and builds the flow
// at every detail level: never a panic, and every read and write of the
// files kept is drawn (counted in some file message).
func FuzzFileEvents(f *testing.F) {
	img := "/var/lib/glance/images/c6bca20f-183a-466f-9948-935b243c8190"
	side := func(lines ...string) []byte {
		return []byte(`{"format":"authflow-file-events","version":1,"clock":"realtime"}` + "\n" + strings.Join(lines, "\n") + "\n")
	}
	f.Add(side(
		`{"time":"2026-11-22T12:16:16.443012Z","pid":28685,"tid":28685,"comm":"glance-api","op":"read","syscall":"read","fd":14,"path":"`+img+`","bytes":65536,"result":65536}`,
		`{"time":"2026-11-22T12:16:16.442371Z","pid":28685,"tid":28685,"comm":"glance-api","op":"open","syscall":"openat","fd":14,"path":"`+img+`","flags":"O_RDONLY","result":14}`,
		`{"time":"2026-11-22T12:16:16.485983Z","pid":28685,"tid":28685,"op":"close","syscall":"close","fd":14,"result":0}`,
		`{"time":"2026-11-22T12:16:16.485990Z","pid":28685,"tid":28685,"op":"write","syscall":"write","fd":14,"bytes":3,"result":3}`,
	), "/var/lib/glance/images", uint64(1))
	f.Add([]byte(fmt.Sprintf("28685 1795435200.001000 read(14<%s>, \"\\0\"..., 65536) = 65536\n28685 1795435200.000500 close(14<%s>) = 0\n28685 1795435200.000100 openat(AT_FDCWD, \"%s\", O_RDONLY) = 14\n", img, img, img)), "", uint64(2))
	f.Add([]byte("1 12:16:16.000001 read(3, \"x\", 1) = 1\n1 12:16:16.000000 close(3) = 0\n"), "", uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, prefix string, seed uint64) {
		var fes []fsevent.Event
		if _, evs, _ := fsevent.ReadJSONL(bytes.NewReader(data)); len(evs) > 0 {
			fes = append(fes, evs...)
		}
		if evs, _ := strace.Parse(bytes.NewReader(data), "fuzz.strace", strace.Options{Reference: t0}); len(evs) > 0 {
			fes = append(fes, evs...)
		}
		if len(fes) > 2000 {
			fes = fes[:2000]
		}
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		rng.Shuffle(len(fes), func(i, j int) { fes[i], fes[j] = fes[j], fes[i] })
		events := decode.FileEvents(fes, prefix)
		ops := 0
		for _, e := range events {
			if fe := e.Data.(*fsevent.Event); fe.Op == fsevent.Read || fe.Op == fsevent.Write {
				ops++
			}
		}
		for detail := range 3 {
			flow := Build(events, Options{DetailLevel: detail})
			calls := 0
			for _, m := range flow.Messages {
				if m.Kind == "file.read" || m.Kind == "file.write" {
					calls += m.Calls
				}
			}
			if calls != ops {
				t.Fatalf("detail %d: %d reads and writes, %d drawn", detail, ops, calls)
			}
		}
	})
}
