package render

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/browser"
	"github.com/authflow/authflow/sequence/htmlpage"
)

// HTMLOptions change what the HTML page shows besides the diagram.
type HTMLOptions struct {
	// Version is authflow's version, for the header.
	Version string
	// WholeTokens says the flow shows whole tokens (built with
	// ShowSecrets): the header says so instead of promising fingerprints.
	WholeTokens bool
	// Summary adds the table of where each request's time went.
	Summary bool
}

// HTML writes one self-contained page that draws the diagram in any
// browser without network access, with a header naming the captures and
// the time range shown.
func HTML(w io.Writer, flow *sequence.Flow, opts HTMLOptions) error {
	var src bytes.Buffer
	if err := Mermaid(&src, flow); err != nil {
		return err
	}
	title := "authflow"
	if len(flow.Inputs) > 0 {
		title += ": " + flow.Inputs[0]
		if len(flow.Inputs) > 1 {
			title += fmt.Sprintf(" and %d more", len(flow.Inputs)-1)
		}
	}
	var summary *htmlpage.Table
	if opts.Summary {
		header, rows := summaryRows(flow)
		summary = &htmlpage.Table{Caption: "Where each request's time went", Header: header, Rows: rows}
	}
	return htmlpage.Write(w, htmlpage.Page{
		Summary: summary,
		Title:   title,
		Mermaid: src.String(),
		Header: htmlpage.Header{
			Captures: flow.Inputs,
			Start:    flow.Start,
			End:      flow.End,
			Version:  opts.Version,
			// The header promises fingerprints only when that is true.
			WholeTokens: opts.WholeTokens,
		},
	})
}

// Image renders the diagram as svg or png with Mermaid in a local
// Chromium; without Chromium it fails saying what to install.
func Image(ctx context.Context, w io.Writer, flow *sequence.Flow, format string) error {
	b, err := browser.Find()
	if err != nil {
		return err
	}
	var src bytes.Buffer
	if err := Mermaid(&src, flow); err != nil {
		return err
	}
	// Chromium draws characters no font has as boxes, silently.
	if err := browser.CheckFonts(src.String()); err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	var out []byte
	if format == "png" {
		out, err = b.RenderPNG(ctx, src.String(), 1)
	} else {
		out, err = b.RenderSVG(ctx, src.String())
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	_, err = w.Write(out)
	return err
}
