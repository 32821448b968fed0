package fsevent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Format is the value of the header's "format" field.
const Format = "authflow-file-events"

// Version is the sidecar format version this package writes and reads.
const Version = 1

// ClockRealtime is the header's "clock" value for wall-clock (UTC) times.
const ClockRealtime = "realtime"

// MaxLineLength is the longest sidecar line, newline included, that
// [ReadJSONL] accepts; longer lines are skipped and reported.
const MaxLineLength = 64 << 10

// maxBadLines is how many bad lines a BadLinesError keeps in detail.
const maxBadLines = 20

// SidecarPath returns the name of the file events sidecar that belongs to
// the capture file capturePath: capturePath + ".files.jsonl".
func SidecarPath(capturePath string) string {
	return capturePath + ".files.jsonl"
}

// Header is the first line of a sidecar.
type Header struct {
	// Format is always [Format].
	Format string `json:"format"`
	// Version is the format version, [Version] for new files.
	Version int `json:"version"`
	// Clock names the clock of the events' times: [ClockRealtime].
	Clock string `json:"clock"`
	// Source says where the events came from: "ebpf" or "strace".
	Source string `json:"source,omitempty"`
	// Created is when the sidecar was started (optional).
	Created time.Time `json:"created,omitzero"`
	// ClockErrorNS bounds, in nanoseconds, the error of the conversion of
	// the tracer's clock to Clock (optional, 0 when unknown).
	ClockErrorNS int64 `json:"clock_error_ns,omitempty"`
	// Comment is free text (optional).
	Comment string `json:"comment,omitempty"`
}

// NewHeader returns a header for the current format with the given source.
func NewHeader(source string) Header {
	return Header{Format: Format, Version: Version, Clock: ClockRealtime, Source: source}
}

// Writer writes a sidecar: the header, then one event per line. Errors
// are sticky: after the first one, every call returns it. Call Flush at the
// end. A Writer is not safe for concurrent use.
type Writer struct {
	bw          *bufio.Writer
	err         error
	wroteHeader bool
	h           Header
}

// NewWriter returns a Writer that writes h as the first line (before the
// first event, or at Flush).
func NewWriter(w io.Writer, h Header) *Writer {
	if h.Format == "" {
		h.Format = Format
	}
	if h.Version == 0 {
		h.Version = Version
	}
	if h.Clock == "" {
		h.Clock = ClockRealtime
	}
	return &Writer{bw: bufio.NewWriter(w), h: h}
}

func (w *Writer) writeLine(v any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("encode file event: %w", err)
		return
	}
	if len(b)+1 > MaxLineLength {
		w.err = fmt.Errorf("encode file event: line of %d bytes is longer than %d", len(b)+1, MaxLineLength)
		return
	}
	b = append(b, '\n')
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("write file events: %w", err)
	}
}

func (w *Writer) header() {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.writeLine(w.h)
	}
}

// Write appends one event.
func (w *Writer) Write(ev Event) error {
	w.header()
	w.writeLine(ev)
	return w.err
}

// Flush writes the header if no event was written, then any buffered data.
func (w *Writer) Flush() error {
	w.header()
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write file events: %w", err)
	}
	return w.err
}

// WriteJSONL writes a whole sidecar: h, then evs, one per line.
func WriteJSONL(w io.Writer, h Header, evs []Event) error {
	sw := NewWriter(w, h)
	for _, ev := range evs {
		if err := sw.Write(ev); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// LineError is a bad line of a sidecar or log.
type LineError struct {
	// Name is the file name, or empty.
	Name string
	// Line is the 1-based line number.
	Line int
	// Err says what is wrong.
	Err error
}

// Error returns "name:line: what", on one line.
func (e *LineError) Error() string {
	msg := strings.ReplaceAll(e.Err.Error(), "\n", " ")
	if e.Name != "" {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, msg)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// BadLinesError reports lines that were skipped. The events of the good
// lines are returned along with it.
type BadLinesError struct {
	// Lines holds the first bad lines (at most 20).
	Lines []*LineError
	// Count is the number of bad lines, which may exceed len(Lines).
	Count int
}

// Add records a bad line.
func (e *BadLinesError) Add(le *LineError) {
	e.Count++
	if len(e.Lines) < maxBadLines {
		e.Lines = append(e.Lines, le)
	}
}

// Error returns a one-line summary naming the first bad line.
func (e *BadLinesError) Error() string {
	if e.Count == 0 || len(e.Lines) == 0 {
		return "no bad lines"
	}
	if e.Count == 1 {
		return "skipped bad line: " + e.Lines[0].Error()
	}
	return fmt.Sprintf("skipped %d bad lines, first: %s", e.Count, e.Lines[0].Error())
}

// Unwrap returns the recorded line errors.
func (e *BadLinesError) Unwrap() []error {
	errs := make([]error, len(e.Lines))
	for i, le := range e.Lines {
		errs[i] = le
	}
	return errs
}

// OrNil returns e if it holds bad lines, else nil.
func (e *BadLinesError) OrNil() error {
	if e == nil || e.Count == 0 {
		return nil
	}
	return e
}

// LineReader reads lines of at most max bytes (newline included) and
// reports longer lines without keeping them. It is exported for the strace
// parser, which shares the limit.
type LineReader struct {
	br   *bufio.Reader
	max  int
	line int
}

// NewLineReader returns a LineReader over r with lines of at most max bytes.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, max), max: max}
}

// ErrLineTooLong is returned (wrapped in a *LineError) for an overlong line.
var ErrLineTooLong = errors.New("line too long")

// Next returns the next line without its "\n" (and "\r") and its 1-based
// number. The bytes are valid until the next call. It returns io.EOF at the
// end, a *LineError wrapping ErrLineTooLong for a line longer than the limit
// (which is skipped: call Next again), or a read error.
func (lr *LineReader) Next() ([]byte, int, error) {
	b, err := lr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.line++
		n := lr.line
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = lr.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, n, err
		}
		return nil, n, &LineError{Line: n, Err: fmt.Errorf("%w (more than %d bytes)", ErrLineTooLong, lr.max)}
	}
	if err == io.EOF && len(b) == 0 {
		return nil, lr.line, io.EOF
	}
	if err != nil && err != io.EOF {
		return nil, lr.line, err
	}
	lr.line++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, lr.line, nil
}

// ReadJSONL reads a sidecar. It returns the header and the events of the
// good lines. A missing or unsupported header, or a read error, is fatal
// (nil events). Bad event lines are skipped and reported, after reading
// everything, as a *BadLinesError with their line numbers; the events are
// returned with it.
func ReadJSONL(r io.Reader) (Header, []Event, error) {
	lr := NewLineReader(r, MaxLineLength)
	var (
		h    Header
		evs  []Event
		bad  BadLinesError
		seen bool
	)
	for {
		b, n, err := lr.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			if !seen {
				return h, nil, fmt.Errorf("line 1: not a file events header: %w", err)
			}
			bad.Add(le)
			continue
		}
		if err != nil {
			return h, nil, fmt.Errorf("read file events: %w", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if !seen {
			seen = true
			if err := parseHeader(b, &h); err != nil {
				return h, nil, fmt.Errorf("line %d: %w", n, err)
			}
			continue
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			bad.Add(&LineError{Line: n, Err: fmt.Errorf("bad event: %w", err)})
			continue
		}
		evs = append(evs, ev)
	}
	if !seen {
		return h, nil, errors.New("empty file: no file events header")
	}
	return h, evs, bad.OrNil()
}

func parseHeader(b []byte, h *Header) error {
	if err := json.Unmarshal(b, h); err != nil {
		return fmt.Errorf("not a file events header: %w", err)
	}
	if h.Format != Format {
		return fmt.Errorf("not a file events header: format %q, want %q", truncate(h.Format, 40), Format)
	}
	if h.Version < 1 || h.Version > Version {
		return fmt.Errorf("file events format version %d is not supported (this build reads version %d)", h.Version, Version)
	}
	if h.Clock != ClockRealtime {
		return fmt.Errorf("file events clock %q is not supported (want %q)", truncate(h.Clock, 40), ClockRealtime)
	}
	return nil
}

// ReadFile reads the sidecar at path (see [ReadJSONL]); errors name the
// file. Only a regular file is read: a FIFO would block, a device may
// never end.
func ReadFile(path string) (Header, []Event, error) {
	if fi, err := os.Stat(path); err != nil {
		return Header{}, nil, fmt.Errorf("read file events: %w", err)
	} else if !fi.Mode().IsRegular() {
		return Header{}, nil, fmt.Errorf("read file events: %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, fmt.Errorf("read file events: %w", err)
	}
	defer f.Close()
	h, evs, err := ReadJSONL(f)
	var bad *BadLinesError
	if errors.As(err, &bad) {
		for _, le := range bad.Lines {
			le.Name = path
		}
		return h, evs, err
	}
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, evs, nil
}
