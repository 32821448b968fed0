// Package htmlpage writes self-contained HTML pages that draw a Mermaid
// diagram in any browser without network access.
//
// The Mermaid library (see MermaidVersion) is embedded in the program,
// gzip-compressed, and written inline into every page, so a page fetches
// nothing: it also carries a Content-Security-Policy that forbids the browser
// to load anything from anywhere.
//
// Pages report the outcome of drawing, for automated checks such as those of
// package browser: when Mermaid has finished, the script sets the body
// attribute data-rendered (RenderedAttr) to "ok" or to "error: " followed by
// Mermaid's message. When the page is opened with the URL fragment
// #authflow-export (ExportFragment), it also puts the drawn SVG, serialized as
// XML, in a hidden textarea with the id SVGElementID, and its place on the
// page in CSS pixels in the body attributes data-x, data-y, data-width and
// data-height.
package htmlpage

//go:generate sh assets/fetch-mermaid.sh 11.17.2

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"time"
)

// MermaidVersion is the version of the npm package mermaid whose
// dist/mermaid.min.js is embedded (assets/SOURCE records its checksum).
const MermaidVersion = "11.17.2"

// Names shared with the code that checks rendered pages.
const (
	// ExportFragment is the URL fragment (without '#') that makes a page
	// expose the drawn SVG and its size.
	ExportFragment = "authflow-export"
	// RenderedAttr is the body attribute that a page sets when drawing ends:
	// "ok" or "error: <message>".
	RenderedAttr = "data-rendered"
	// SVGElementID is the id of the hidden textarea that holds the drawn SVG
	// in export mode.
	SVGElementID = "authflow-svg"
	// ResultsElementID is the id of the hidden textarea in which a batch
	// page (WriteBatch) puts its results as JSON.
	ResultsElementID = "authflow-results"
)

// Limits raised above Mermaid's defaults (maxTextSize 50 000, maxEdges 500)
// so that captures with ten thousand messages and more still render.
const (
	maxTextSize = 100_000_000
	maxEdges    = 1_000_000
)

//go:embed assets/mermaid.min.js.gz
var mermaidGz []byte

// Page describes one HTML page.
type Page struct {
	// Title is the page title and heading; "authflow sequence diagram" when
	// empty.
	Title string
	// Mermaid is the diagram source. It is written HTML-escaped into a
	// <pre> element and handed to Mermaid as that element's text.
	Mermaid string
	// Header says what the diagram shows. It is not shown on bare pages.
	Header Header
	// Lang is the page language for the lang attribute; "en" when empty.
	Lang string
	// Summary, if set, is a table shown under the diagram (not on bare
	// pages).
	Summary *Table
	// Bare leaves out the header and page margins and draws the diagram at
	// its natural size instead of scaling it to the window: a page for
	// making SVG and PNG files.
	Bare bool
}

// Table is a table of text shown under the diagram; every cell is
// HTML-escaped.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// Header is the information shown above the diagram.
type Header struct {
	// Captures are the names of the capture files the diagram was made from.
	Captures []string
	// Start and End bound the time of the traffic shown; zero when unknown.
	Start, End time.Time
	// Version is the authflow version that wrote the page; empty if unknown.
	Version string
	// Notes are further lines shown under the header, in order.
	Notes []string
	// WholeTokens says the diagram shows whole tokens (authflow
	// --show-secrets) instead of fingerprints; the header says so.
	WholeTokens bool
}

// tokenNote is shown in the header of a page whose diagram carries no
// secrets; wholeTokenNote in that of a page that shows whole tokens.
const (
	tokenNote      = "Tokens are shown as fingerprints (short hashes of their values), never as the tokens themselves."
	wholeTokenNote = "Tokens are shown whole (--show-secrets): anyone who reads this page can use them while they are valid; handle it like the capture itself. Passwords are never shown."
)

// Write writes a complete, self-contained HTML page for page to w.
func Write(w io.Writer, page Page) error {
	return write(w, page, writeLibrary)
}

// WriteBatch writes a page that draws each source in turn, for checks that
// many diagrams render: when all are done it sets RenderedAttr to "ok" and
// puts a JSON array in the hidden textarea with the id ResultsElementID, one
// element per source, in order: {"ok": true, "svg": "<svg…"} or
// {"ok": false, "error": "<Mermaid's message>"}.
func WriteBatch(w io.Writer, sources []string) error {
	return writeBatch(w, sources, writeLibrary)
}

// writeLibrary inflates the embedded Mermaid bundle into w.
func writeLibrary(w io.Writer) error {
	zr, err := gzip.NewReader(bytes.NewReader(mermaidGz))
	if err != nil {
		return fmt.Errorf("open embedded mermaid: %w", err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		return fmt.Errorf("inflate embedded mermaid: %w", err)
	}
	if err := zr.Close(); err != nil {
		return fmt.Errorf("inflate embedded mermaid: %w", err)
	}
	return nil
}

// mermaidConfig returns the options passed to mermaid.initialize.
func mermaidConfig(bare bool) map[string]any {
	return map[string]any{
		"startOnLoad":            false,
		"securityLevel":          "strict",
		"maxTextSize":            maxTextSize,
		"maxEdges":               maxEdges,
		"suppressErrorRendering": true,
		"deterministicIds":       true,
		"sequence":               map[string]any{"useMaxWidth": !bare},
	}
}

type pageData struct {
	Title     string
	Lang      string
	Bare      bool
	Captures  []string
	TimeRange string
	Version   string
	Notes     []string
	Summary   *Table
	Source    string
	Config    map[string]any
	Export    string
	Rendered  string
	SVGID     string
	ResultsID string
	Sources   []string
}

func write(w io.Writer, page Page, lib func(io.Writer) error) error {
	d := pageData{
		Title:    page.Title,
		Lang:     page.Lang,
		Bare:     page.Bare,
		Captures: page.Header.Captures,
		Version:  page.Header.Version,
		Notes:    append([]string{tokenNote}, page.Header.Notes...),
		Summary:  page.Summary,
		// A newline right after <pre> is dropped by the HTML parser; this
		// one keeps a leading newline of the source, if any.
		Source: "\n" + page.Mermaid,
		Config: mermaidConfig(page.Bare),
	}
	if page.Header.WholeTokens {
		d.Notes[0] = wholeTokenNote
	}
	if d.Title == "" {
		d.Title = "authflow sequence diagram"
	}
	d.TimeRange = FormatTimeRange(page.Header.Start, page.Header.End)
	return render(w, "page", d, lib)
}

func writeBatch(w io.Writer, sources []string, lib func(io.Writer) error) error {
	d := pageData{
		Title:   "authflow diagram check",
		Config:  mermaidConfig(true),
		Sources: sources,
	}
	if d.Sources == nil {
		d.Sources = []string{}
	}
	return render(w, "batch", d, lib)
}

// render executes the two halves of template name around the library.
func render(w io.Writer, name string, d pageData, lib func(io.Writer) error) error {
	if d.Lang == "" {
		d.Lang = "en"
	}
	d.Export = "#" + ExportFragment
	d.Rendered = RenderedAttr
	d.SVGID = SVGElementID
	d.ResultsID = ResultsElementID
	if err := pageTemplates.ExecuteTemplate(w, name+"-head", d); err != nil {
		return fmt.Errorf("write html page: %w", err)
	}
	if _, err := io.WriteString(w, "\n<script>\n"); err != nil {
		return fmt.Errorf("write html page: %w", err)
	}
	if err := lib(w); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n</script>\n"); err != nil {
		return fmt.Errorf("write html page: %w", err)
	}
	if err := pageTemplates.ExecuteTemplate(w, name+"-tail", d); err != nil {
		return fmt.Errorf("write html page: %w", err)
	}
	return nil
}

// FormatTimeRange formats the time range shown in the header, in UTC, e.g.
// "2026-11-22 10:15:03.123 – 10:15:09.456 UTC (6.333 s)". Zero times are
// unknown.
func FormatTimeRange(start, end time.Time) string {
	const day = "2006-01-02 "
	const clock = "15:04:05.000"
	switch {
	case start.IsZero() && end.IsZero():
		return "unknown"
	case end.IsZero():
		return "from " + start.UTC().Format(day+clock) + " UTC"
	case start.IsZero():
		return "until " + end.UTC().Format(day+clock) + " UTC"
	}
	s, e := start.UTC(), end.UTC()
	endLayout := clock
	if s.Format(day) != e.Format(day) {
		endLayout = day + clock
	}
	return fmt.Sprintf("%s – %s UTC (%.3f s)", s.Format(day+clock), e.Format(endLayout), e.Sub(s).Seconds())
}
