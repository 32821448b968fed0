// Package pipeline assembles authflow's stages for both of its ways in:
// packets from a source (capture files, or a live capture) are decoded,
// the file events that go with them are added, everything is correlated
// into a flow, the findings are made over the whole flow, and the
// selection is applied. `authflow analyze`, `filter` and `capture` all run
// it; the command line only maps its flags to Options.
package pipeline

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/secrets"
	"github.com/authflow/authflow/decode/stream"
	"github.com/authflow/authflow/decode/tls"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/findings"
)

// Options say how packets become a flow.
type Options struct {
	// Decode bounds decoding and may set Notify to watch each event.
	Decode decode.Options
	// Bounds name the flags behind Decode's bounds, for the warnings
	// saying which were hit.
	Bounds Bounds
	// Build says how the flow is correlated and labelled; its Inputs are
	// filled in by the pipeline.
	Build sequence.Options
	// TLSKeyLogs name NSS key logs (--tls-keylog) whose secrets decrypt
	// TLS, besides Decode.TLSKeys. A key log that cannot be read, or has
	// malformed lines, is an input error; what it holds is still used.
	TLSKeyLogs []string
	// PathPrefix keeps the file events on paths under it ("" for all).
	PathPrefix string
	// Selection, if set, says what to keep of the flow, after the findings
	// are made on the whole flow. It is called once the packets are read:
	// a selection by frame number looks in the capture files, which a live
	// capture has only written by then.
	Selection func() (sequence.Selection, error)
	// OnRequest, if set, is called with each user request's causal tree
	// (sequence.Request) of the whole flow, before the selection, once
	// per tree in the order the trees completed, on Run's goroutine. The
	// flow is built by the end of the input today, so the calls come
	// then; see sequence.Request for when a tree counts as complete.
	OnRequest func(*sequence.Request)
}

// Bounds are how the bounds of decoding are spelt on the command line.
type Bounds struct {
	// MaxConnections is the value of --max-connections.
	MaxConnections int
	// MaxMemory is the value of --max-memory as written (e.g. "512MiB").
	MaxMemory string
	// MaxEvents is the value of --max-events.
	MaxEvents int
}

// Packets is one run's input.
type Packets struct {
	// Source yields the packets in time order. Run reads it to its end
	// but does not close it.
	Source capture.Source
	// Names name the inputs, indexed like capture.Packet.Input.
	Names []string
	// FileEvents, if set, is called once every packet is decoded and
	// returns the file events that go with the packets, and what went
	// wrong getting them (the events that could be had are kept).
	FileEvents func() ([]fsevent.Event, []error)
	// Drops, if set, is called once every packet is decoded (after
	// FileEvents) and returns the kernel's drops while the inputs were
	// captured.
	Drops func() []sequence.Drop
}

// Result is a correlated flow and what went wrong making it.
type Result struct {
	// Flow is the selected flow, with the findings of the whole flow and
	// its warnings (the bounds hit first).
	Flow *sequence.Flow
	// InputErrors are one-line errors about inputs that could not be
	// read wholly; what could be read is in Flow.
	InputErrors []error
	// Stats counts what decoding saw.
	Stats decode.Stats
	// Dropped, if not nil, says that a bound the user set (--max-memory,
	// --max-events) dropped messages or HTTP bodies, or closed
	// connections early: one error naming the flag and the counts. Its text is also the flow's first warning.
	// The default bounds never drop a message.
	Dropped error
	// Selected says a selection was applied: Flow is part of the whole
	// flow, which had WholeMessages messages.
	Selected      bool
	WholeMessages int
	// Unmatched are the parts of the selection that match nothing in the
	// whole flow, with what it has instead.
	Unmatched []sequence.Unmatched
}

// Run decodes every packet of in.Source, adds the file events, builds the
// flow, makes the findings and applies the selection. The error is the
// selection's.
func Run(in Packets, opts Options) (*Result, error) {
	res := &Result{}
	if len(opts.TLSKeyLogs) > 0 {
		keys := opts.Decode.TLSKeys
		if keys == nil {
			keys = &tls.KeyLog{}
		}
		for _, p := range opts.TLSKeyLogs {
			if err := keys.ReadFile(p); err != nil {
				res.InputErrors = append(res.InputErrors, fmt.Errorf("--tls-keylog %w", err))
			}
		}
		opts.Decode.TLSKeys = keys
	}
	build := opts.Build
	build.Inputs = in.Names
	if build.Secrets == nil {
		build.Secrets = secrets.New(build.ShowSecrets)
	}
	// Messages are interpreted as they are decoded, and what the flow does
	// not need freed at once; the secrets they reveal are learnt first.
	dec := opts.Decode
	dec.Interpret = true
	dec.Observe = build.Secrets.Observe
	events, stats, err := decode.Run(in.Source, dec)
	res.Stats = stats
	if err != nil && !errors.Is(err, io.EOF) {
		res.InputErrors = append(res.InputErrors, err)
	}
	if stats.TLSNoKey > 0 {
		res.InputErrors = append(res.InputErrors, fmt.Errorf("%d TLS connections could not be decrypted (the warnings starting %q say which): give their key log with --tls-keylog", stats.TLSNoKey, tls.NoKey))
	}
	if in.FileEvents != nil {
		fes, errs := in.FileEvents()
		events = append(events, decode.FileEvents(fes, opts.PathPrefix)...)
		res.InputErrors = append(res.InputErrors, errs...)
	}
	if in.Drops != nil {
		build.Drops = in.Drops()
	}
	flow := sequence.Build(events, build)
	// The packets the kernel dropped, then the bounds hit, come first:
	// they say the flow is not whole.
	lw := sequence.DropWarnings(build.Drops)
	if d := opts.Bounds.dropped(stats); d != "" {
		res.Dropped = errors.New(d)
		lw = append(lw, d)
	}
	lw = append(lw, opts.Bounds.warnings(stats)...)
	if len(lw) > 0 {
		flow.Warnings = append(lw, flow.Warnings...)
	}
	// Findings look at the whole flow, before any selection.
	flow.Findings = findings.Analyze(flow, findings.Options{Lang: build.Lang})
	if opts.OnRequest != nil {
		for _, r := range sequence.Requests(flow) {
			opts.OnRequest(r)
		}
	}
	res.Flow = flow
	if opts.Selection != nil {
		sel, err := opts.Selection()
		if err != nil {
			return nil, err
		}
		if !sel.Empty() {
			res.Selected, res.WholeMessages = true, len(flow.Messages)
			res.Unmatched = sel.Unmatched(flow)
		}
		res.Flow = sequence.Select(flow, sel)
	}
	return res, nil
}

// warnings say which bounds on memory decoding hit: where they were hit,
// the flow is not whole.
func (b Bounds) warnings(st decode.Stats) []string {
	var w []string
	if st.Evicted > 0 {
		w = append(w, fmt.Sprintf("%d connections were closed early to stay within --max-connections=%d: what they carried after that is missing", st.Evicted, b.MaxConnections))
	}
	if st.EvictedMemory > 0 && !b.memorySet() {
		w = append(w, fmt.Sprintf("%d connections were closed early to keep the connections tracked within %dMiB (set --max-memory for more): what they carried after that is missing", st.EvictedMemory, stream.DefaultMaxMemory>>20))
	}
	return w
}

// memorySet says --max-memory was given.
func (b Bounds) memorySet() bool { return b.MaxMemory != "" && b.MaxMemory != "0" }

// dropped says, in one line, which messages and bodies the bounds the
// user set dropped, or "" if none were.
func (b Bounds) dropped(st decode.Stats) string {
	var parts []string
	if st.EvictedMemory > 0 && b.memorySet() {
		parts = append(parts, fmt.Sprintf("%d connections were closed early to stay within --max-memory=%s: what they carried after that is missing", st.EvictedMemory, b.MaxMemory))
	}
	if st.EventsDropped > 0 {
		limit := "--max-memory=" + b.MaxMemory
		if b.MaxEvents > 0 && st.Events >= b.MaxEvents {
			limit = fmt.Sprintf("--max-events=%d", b.MaxEvents)
		}
		parts = append(parts, fmt.Sprintf("%d messages were dropped to stay within %s", st.EventsDropped, limit))
	}
	if st.BodiesDropped > 0 {
		parts = append(parts, fmt.Sprintf("%d HTTP bodies were not kept to stay within --max-memory=%s: tokens and catalogs in them are not shown", st.BodiesDropped, b.MaxMemory))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + " (without the flag nothing is dropped)"
}
