package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// timeline prints, while capturing, one line per message of the flow as
// soon as it is complete, with the names and labels of the diagram, and
// the packets the kernel drops as it drops them.
type timeline struct {
	mu         sync.Mutex
	off        bool
	live       *sequence.Live
	out        *render.Timeline
	pathPrefix string
	// dropped is the kernel's drop count last reported, per interface.
	dropped map[string]uint64
}

func newTimeline(w io.Writer, quiet bool, opts sequence.Options, pathPrefix string) *timeline {
	return &timeline{off: quiet, live: sequence.NewLive(opts), out: render.NewTimeline(w, colorWanted(w)), pathPrefix: pathPrefix, dropped: map[string]uint64{}}
}

// event takes a decoded event (decode.Options.Notify).
func (t *timeline) event(e *event.Event) {
	if t.off {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.write(t.live.Add(e))
}

// file takes a traced file call.
func (t *timeline) file(fe *fsevent.Event) {
	if t.off {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range decode.FileEvents([]fsevent.Event{*fe}, t.pathPrefix) {
		t.write(t.live.Add(e))
	}
}

// flush prints what is still pending at the end: the reads of files
// still open.
func (t *timeline) flush() {
	if t.off {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.write(t.live.Flush())
}

// drops reports the packets the kernel dropped since the last report.
func (t *timeline) drops(at time.Time, stats []live.InterfaceStats) {
	if t.off {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range stats {
		if st.Dropped > t.dropped[st.Name] {
			t.out.Warning(at, fmt.Sprintf("%s: %d packets dropped by the kernel (%d in all): the flow has gaps; raise --buffer-size", st.Name, st.Dropped-t.dropped[st.Name], st.Dropped))
			t.dropped[st.Name] = st.Dropped
		}
	}
}

func (t *timeline) write(ms []*sequence.Message) {
	for _, m := range ms {
		t.out.Message(m, t.live.Name)
	}
}
