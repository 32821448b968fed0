package decode

import (
	"strings"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
)

// FileEvents wraps traced file system calls (from the eBPF tracer, a
// capture's sidecar or strace logs) as events spanning each call, keeping
// the calls on paths under pathPrefix ("" keeps every path; calls without
// a path, such as reads of a descriptor opened earlier, are kept).
func FileEvents(evs []fsevent.Event, pathPrefix string) []*event.Event {
	out := make([]*event.Event, 0, len(evs))
	for i := range evs {
		fe := &evs[i]
		if pathPrefix != "" && fe.Path != "" && !strings.HasPrefix(fe.Path, pathPrefix) {
			continue
		}
		out = append(out, &event.Event{
			Kind:  event.FileOp,
			Start: event.Position{Time: fe.Time},
			End:   fe.Time.Add(fe.Duration),
			Data:  fe,
		})
	}
	return out
}
