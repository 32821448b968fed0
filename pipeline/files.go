package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/clocksync"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/strace"
	"github.com/authflow/authflow/decode/tls"
	"github.com/authflow/authflow/sequence"
)

// FileOptions say how capture files are read.
type FileOptions struct {
	// ClockSync estimates the clock offsets between captures of different
	// hosts from the TCP segments they share, and corrects them.
	ClockSync bool
	// Strace names strace logs (files or globs) to read file events from,
	// besides each capture's sidecar (CAPTURE.files.jsonl).
	Strace []string
	// Progress, if set, is started once the files are open and its
	// result called when they have been read (e.g. a progress bar).
	Progress func(Progress) (stop func())
	// MaxInput bounds the bytes of each capture after decompression (0:
	// no bound; gzip data is bounded by capture.MaxInflateRatio anyway).
	MaxInput int64
}

// Progress says how much of the input has been read.
type Progress interface {
	Progress() (read, total int64)
}

// Files analyses capture files (merged by time, gzip'd or not) with the
// file events that go with them: each capture's sidecar and the strace
// logs named. The error is for files none of which could be opened, or
// the selection's; problems with some inputs are in Result.InputErrors.
func Files(paths []string, fo FileOptions, opts Options) (*Result, error) {
	var offsets []time.Duration
	var clocks []string
	// Standard input ("-") is read once, by the analysis: clock offsets
	// are not estimated ahead of it.
	if fo.ClockSync && len(paths) > 1 && !slices.Contains(paths, capture.StdinPath) {
		if est, err := clocksync.Estimate(paths, clocksync.Options{MaxPackets: 50000}); err == nil {
			offsets = est.Offsets
			for i := range paths {
				if est.Offsets[i] != 0 {
					clocks = append(clocks, est.Line(i))
				}
			}
		}
	}
	src, err := capture.OpenFiles(paths, capture.FileOptions{Offsets: offsets, MaxInput: fo.MaxInput})
	if err != nil {
		return nil, err
	}
	keyErrs := embeddedKeys(paths, &opts)
	stop := func() {}
	if fo.Progress != nil {
		stop = fo.Progress(src)
	}
	// Reading and merging the files runs in its own goroutine, decoding
	// in this one: both cores are used.
	prefetch := capture.NewPrefetcher(src)
	defer prefetch.Close() // closes src too
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
		if p == capture.StdinPath {
			names[i] = "stdin"
		}
	}
	res, err := Run(Packets{
		Source: prefetch,
		Names:  names,
		FileEvents: func() ([]fsevent.Event, []error) {
			stop()
			prefetch.Close() // the source's own methods may be used again
			return fileEvents(paths, fo.Strace, src.Inputs(), opts.PathPrefix)
		},
		Drops: func() []sequence.Drop {
			prefetch.Close()
			var drops []sequence.Drop
			for i, in := range src.Inputs() {
				for _, d := range in.Drops {
					drops = append(drops, sequence.Drop{File: names[i], Interface: d.Interface, Received: d.Received, Dropped: d.Dropped})
				}
			}
			return drops
		},
	}, opts)
	if err != nil {
		return nil, err
	}
	res.Flow.Clocks = clocks
	var errs []error
	errs = append(errs, src.Errors()...)
	infos := src.Inputs()
	for _, i := range res.Stats.Undecodable {
		if i < len(infos) {
			errs = append(errs, fmt.Errorf("%s: link type %s is not supported: none of its packets could be decoded", filepath.Base(infos[i].Path), linkTypes(infos[i].LinkTypes)))
		}
	}
	res.InputErrors = append(append(errs, keyErrs...), res.InputErrors...)
	return res, nil
}

// embeddedKeys adds the TLS key logs embedded in the captures (pcapng
// Decryption Secrets Blocks) to the keys TLS is decrypted with.
func embeddedKeys(paths []string, opts *Options) []error {
	var errs []error
	for _, p := range paths {
		logs, err := capture.TLSKeyLogs(p)
		if err != nil {
			errs = append(errs, err)
		}
		for _, l := range logs {
			if opts.Decode.TLSKeys == nil {
				opts.Decode.TLSKeys = &tls.KeyLog{}
			}
			if err := opts.Decode.TLSKeys.Read(bytes.NewReader(l), filepath.Base(p)+" (Decryption Secrets Block)"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// fileEvents loads the file events that go with the captures: the
// sidecar of each capture (CAPTURE.files.jsonl, written by `authflow
// capture --trace-files`) and the strace logs named. Problems are returned
// as one-line errors; the events that could be read are kept.
func fileEvents(paths, stracePatterns []string, inputs []capture.InputInfo, pathPrefix string) ([]fsevent.Event, []error) {
	var evs []fsevent.Event
	var errs []error
	for _, p := range paths {
		if p == capture.StdinPath {
			continue
		}
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
		got, err := strace.ParseFiles(stracePatterns, strace.Options{PathPrefix: pathPrefix, Reference: ref})
		if err != nil {
			errs = append(errs, fmt.Errorf("--strace: %w", err))
		}
		evs = append(evs, got...)
	}
	return evs, errs
}

// linkTypes lists link types by number, e.g. "147".
func linkTypes(lts []layers.LinkType) string {
	var parts []string
	for _, lt := range lts {
		parts = append(parts, fmt.Sprintf("%d", uint16(lt)))
	}
	return strings.Join(parts, ", ")
}
