package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/strace"
	"github.com/authflow/authflow/decode/event"
)

// fileEvents loads the file events that go with the captures: the
// sidecar of each capture (CAPTURE.files.jsonl, written by `authflow
// capture --trace-files`) and the strace logs named. Problems are returned
// as one-line errors; the events that could be read are kept.
func (o *inputOptions) fileEvents(paths, stracePatterns []string, inputs []capture.InputInfo) ([]*event.Event, []error) {
	var evs []fsevent.Event
	var errs []error
	for _, p := range paths {
		side := fsevent.SidecarPath(p)
		if strings.HasSuffix(p, ".gz") {
			if _, err := os.Stat(side); errors.Is(err, fs.ErrNotExist) {
				side = fsevent.SidecarPath(strings.TrimSuffix(p, ".gz"))
			}
		}
		if _, err := os.Stat(side); err != nil {
			continue
		}
		_, got, err := fsevent.ReadFile(side)
		if err != nil {
			errs = append(errs, err)
		}
		evs = append(evs, got...)
	}
	if len(stracePatterns) > 0 {
		// strace -tt prints times of day: date them by the capture.
		var ref time.Time
		for _, in := range inputs {
			if !in.First.IsZero() && (ref.IsZero() || in.First.Before(ref)) {
				ref = in.First
			}
		}
		got, err := strace.ParseFiles(stracePatterns, strace.Options{PathPrefix: o.pathPrefix, Reference: ref})
		if err != nil {
			errs = append(errs, fmt.Errorf("--strace: %w", err))
		}
		evs = append(evs, got...)
	}
	out := make([]*event.Event, 0, len(evs))
	for i := range evs {
		fe := &evs[i]
		if o.pathPrefix != "" && fe.Path != "" && !strings.HasPrefix(fe.Path, o.pathPrefix) {
			continue
		}
		out = append(out, &event.Event{
			Kind:  event.FileOp,
			Start: event.Position{Time: fe.Time},
			End:   fe.Time.Add(fe.Duration),
			Data:  fe,
		})
	}
	return out, errs
}
