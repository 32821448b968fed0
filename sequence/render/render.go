// Package render writes a flow as Mermaid, Markdown, JSON, a text
// timeline, PlantUML, HTML, SVG, PNG or OpenTelemetry traces (OTLP/JSON).
package render

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/otlp"
	"github.com/authflow/authflow/sequence/render/escape"
)

// Formats lists the output formats Write knows.
var Formats = []string{"mermaid", "markdown", "json", "jsonl", "text", "plantuml", "html", "svg", "png", "otlp"}

// Options change how a flow is written.
type Options struct {
	// Frames appends, to every arrow, the frame where its message starts.
	Frames bool
	// Summary adds the table of where each request's time went, in the
	// format's own way: a "summary" array in JSON (in JSON Lines, in the
	// last line), a table after the text
	// timeline, a Markdown table after the diagram, a comment block in
	// Mermaid and PlantUML sources, an HTML table under the diagram. svg,
	// png and otlp have no place for it: the caller shows it elsewhere.
	Summary bool
	// Color colours the text timeline (for a terminal).
	Color bool
	// Version is authflow's version, for the HTML header.
	Version string
	// ShowSecrets says the flow was built with whole tokens; the HTML
	// header says so.
	ShowSecrets bool
}

// Write writes flow in the named format.
func Write(w io.Writer, flow *sequence.Flow, format string, opts Options) error {
	if opts.Frames {
		flow = withFrames(flow)
	}
	switch format {
	case "mermaid", "mmd":
		if err := Mermaid(w, flow); err != nil || !opts.Summary {
			return err
		}
		return summaryText(w, flow, "%% ", true)
	case "markdown", "md":
		if err := Markdown(w, flow); err != nil || !opts.Summary {
			return err
		}
		return summaryMarkdown(w, flow)
	case "json":
		if opts.Summary {
			return jsonWithSummary(w, flow)
		}
		return JSON(w, flow)
	case "jsonl":
		return jsonLines(w, flow, opts.Summary)
	case "text", "txt":
		if err := text(w, flow, newColorer(opts.Color)); err != nil || !opts.Summary {
			return err
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
		return SummaryBlock(w, flow)
	case "plantuml", "puml":
		return plantUML(w, flow, opts.Summary)
	case "html":
		return HTML(w, flow, HTMLOptions{Version: opts.Version, WholeTokens: opts.ShowSecrets, Summary: opts.Summary})
	case "svg", "png":
		return Image(context.Background(), w, flow, format)
	case "otlp":
		// OpenTelemetry traces as OTLP/JSON, one trace per request tree.
		return otlp.WriteJSON(w, otlp.FlowTraces(flow, opts.Version))
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// withFrames returns a copy of flow whose labels end with the frame each
// message starts at, e.g. "(frame 22)" or "(lo.pcap:533)" when the flow
// has several inputs.
func withFrames(flow *sequence.Flow) *sequence.Flow {
	out := *flow
	out.Messages = make([]*sequence.Message, len(flow.Messages))
	for i, m := range flow.Messages {
		c := *m
		if len(m.Frames) > 0 {
			f := m.Frames[0]
			if len(flow.Inputs) > 1 {
				c.Label += fmt.Sprintf(" (%s:%d)", f.File, f.Number)
			} else {
				c.Label += fmt.Sprintf(" (frame %d)", f.Number)
			}
		}
		out.Messages[i] = &c
	}
	return &out
}

// errWriter keeps the first write error (go/printer style), so writers can
// write line after line and check once.
type errWriter struct {
	w   *bufio.Writer
	err error
}

func newErrWriter(w io.Writer) *errWriter { return &errWriter{w: bufio.NewWriter(w)} }

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// Mermaid writes the flow as a Mermaid sequence diagram.
func Mermaid(w io.Writer, flow *sequence.Flow) error {
	ew := newErrWriter(w)
	writeMermaid(ew, flow)
	return ew.flush()
}

func writeMermaid(ew *errWriter, flow *sequence.Flow) {
	ew.printf("sequenceDiagram\n")
	ew.printf("    autonumber\n")
	for _, p := range flow.Participants {
		ew.printf("    participant %s as %s\n", p.ID, MermaidText(p.Name))
	}
	for _, m := range flow.Messages {
		arrow := "->>"
		if m.Response {
			arrow = "-->>"
		}
		ew.printf("    %s%s%s: %s\n", m.From, arrow, m.To, MermaidText(m.Label))
		for _, n := range m.Notes {
			ew.printf("    Note over %s: %s\n", strings.Join(n.Over, ","), MermaidText(n.Text))
		}
	}
}

// MermaidText escapes text for a Mermaid sequence diagram: characters that
// Mermaid would read as syntax (statement separators, comments, entity
// codes, HTML) become entity codes, and line breaks become spaces;
// control characters and bidi controls are first shown escaped (see
// escape.Terminal). Wire text (labels come from captured bytes) can never
// break the diagram.
func MermaidText(s string) string {
	var sb strings.Builder
	for _, r := range escape.Terminal(s) {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			sb.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			// control characters are dropped
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case strings.ContainsRune(" ./-_()[]@?=*+!|~^$',:", r):
			sb.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&sb, "#%d;", r)
		default:
			sb.WriteRune(r)
		}
	}
	out := strings.TrimSpace(sb.String())
	if out == "" {
		return "#32;"
	}
	return out
}

// Markdown writes the Mermaid diagram inside a ```mermaid fence.
func Markdown(w io.Writer, flow *sequence.Flow) error {
	ew := newErrWriter(w)
	ew.printf("```mermaid\n")
	writeMermaid(ew, flow)
	ew.printf("```\n")
	return ew.flush()
}

// JSON writes the flow for machines. Every documented list is an array,
// even when empty: never null, never missing.
func JSON(w io.Writer, flow *sequence.Flow) error {
	f := withArrays(flow)
	msgs := f.Messages
	f.Messages = []*sequence.Message{}
	return encodeJSON(w, f, msgs)
}

// jsonWithSummary writes the flow as JSON with a "summary" array: where
// each request's time went (sequence.Timings).
func jsonWithSummary(w io.Writer, flow *sequence.Flow) error {
	f := withArrays(flow)
	msgs := f.Messages
	f.Messages = []*sequence.Message{}
	return encodeJSON(w, struct {
		*sequence.Flow
		Summary    []sequence.RequestTiming `json:"summary"`
		Operations []sequence.Operation     `json:"operations"`
	}{f, emptyIfNil(sequence.Timings(flow)), emptyIfNil(sequence.Operations(flow))}, msgs)
}

// encodeJSON writes v, a flow or a struct embedding one, as indented
// JSON. The messages, most of a big flow, are written one by one rather
// than indented all at once: the document is the same, byte for byte, as
// encoding v whole, without holding a second copy of it in memory.
func encodeJSON(w io.Writer, v any, msgs []*sequence.Message) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// v was encoded with an empty messages list; the messages go there.
	doc := head.Bytes()
	const slot = "\n  \"messages\": []"
	i := bytes.Index(doc, []byte(slot))
	if i < 0 && len(msgs) > 0 {
		return fmt.Errorf("json: no place for the %d messages in the document", len(msgs))
	}
	if len(msgs) == 0 {
		bw.Write(doc)
		return bw.Flush()
	}
	bw.Write(doc[:i+len(slot)-1])
	bw.WriteString("\n")
	var one bytes.Buffer
	menc := json.NewEncoder(&one)
	menc.SetIndent("    ", "  ")
	menc.SetEscapeHTML(false)
	for k, m := range msgs {
		one.Reset()
		if err := menc.Encode(m); err != nil {
			return err
		}
		bw.WriteString("    ")
		bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
		if k < len(msgs)-1 {
			bw.WriteString(",")
		}
		if _, err := bw.WriteString("\n"); err != nil {
			return err
		}
	}
	bw.WriteString("  ]")
	bw.Write(doc[i+len(slot):])
	return bw.Flush()
}

// JSONLines writes the flow for pipelines (-f jsonl): one message per
// line, each the same object as in JSON's "messages", in seq order; then
// a last line holding the rest of the JSON document (participants,
// warnings, findings, inputs, clocks, start, end; "messages" empty).
func JSONLines(w io.Writer, flow *sequence.Flow) error {
	return jsonLines(w, flow, false)
}

// jsonLines writes JSON Lines; with summary the last line, the rest of
// the document, has the "summary" array too.
func jsonLines(w io.Writer, flow *sequence.Flow, summary bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, m := range flow.Messages {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	rest := withArrays(flow)
	rest.Messages = []*sequence.Message{}
	var last any = rest
	if summary {
		last = struct {
			*sequence.Flow
			Summary    []sequence.RequestTiming `json:"summary"`
			Operations []sequence.Operation     `json:"operations"`
		}{rest, emptyIfNil(sequence.Timings(flow)), emptyIfNil(sequence.Operations(flow))}
	}
	if err := enc.Encode(last); err != nil {
		return err
	}
	return bw.Flush()
}

// withArrays returns a copy of flow whose lists (and its participants' and
// findings' lists) are empty slices where they were nil.
func withArrays(flow *sequence.Flow) *sequence.Flow {
	out := *flow
	out.Participants = make([]*sequence.Participant, len(flow.Participants))
	for i, p := range flow.Participants {
		c := *p
		c.Endpoints = emptyIfNil(c.Endpoints)
		out.Participants[i] = &c
	}
	out.Findings = make([]sequence.Finding, len(flow.Findings))
	for i, f := range flow.Findings {
		f.Messages = emptyIfNil(f.Messages)
		f.Frames = emptyIfNil(f.Frames)
		out.Findings[i] = f
	}
	out.Messages = emptyIfNil(out.Messages)
	out.Warnings = emptyIfNil(out.Warnings)
	out.Inputs = emptyIfNil(out.Inputs)
	out.Clocks = emptyIfNil(out.Clocks)
	out.Drops = emptyIfNil(out.Drops)
	return &out
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Text writes a readable timeline: one line per message, time relative to
// the first, downstream calls indented under the request they serve.
func Text(w io.Writer, flow *sequence.Flow) error {
	return text(w, flow, newColorer(false))
}

func text(w io.Writer, flow *sequence.Flow, c *colorer) error {
	ew := newErrWriter(w)
	names := map[string]string{}
	for _, p := range flow.Participants {
		// Names can come from the wire (a process's command name).
		names[p.ID] = oneLine(p.Name)
	}
	depth := map[int]int{}
	var t0 time.Time
	if len(flow.Messages) > 0 {
		t0 = flow.Messages[0].Time
	}
	for _, m := range flow.Messages {
		d := 0
		if m.Cause > 0 {
			d = depth[m.Cause] + 1
		}
		depth[m.Seq] = d
		from, to, arrow := names[m.From], names[m.To], "→"
		if m.Response {
			from, to, arrow = to, from, "←"
		}
		ew.printf("%9.3f %s %s%s %s %s: %s\n", m.Time.Sub(t0).Seconds(), c.seq(fmt.Sprintf("%3d", m.Seq)), strings.Repeat("    ", d),
			c.participant(oneLine(from)), arrow, c.participant(oneLine(to)), c.label(oneLine(m.Label), m.Status, m.Kind))
		for _, n := range m.Notes {
			ew.printf("%13s %s  %s\n", "", strings.Repeat("    ", d), c.note("note: "+oneLine(n.Text)))
		}
	}
	for _, warn := range flow.Warnings {
		ew.printf("warning: %s\n", oneLine(warn))
	}
	return ew.flush()
}

// oneLine makes wire text safe for a terminal line (see
// escape.Terminal): no line breaks, no control characters or escape
// sequences, no bidi controls.
func oneLine(s string) string { return escape.Terminal(s) }
