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

// HTML writes one self-contained page that draws the diagram in any
// browser without network access, with a header naming the captures and
// the time range shown. wholeTokens says the flow shows whole tokens
// (built with ShowSecrets): the header says so instead of promising
// fingerprints.
func HTML(w io.Writer, flow *sequence.Flow, version string, wholeTokens bool) error {
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
	return htmlpage.Write(w, htmlpage.Page{
		Title:   title,
		Mermaid: src.String(),
		Header: htmlpage.Header{
			Captures: flow.Inputs,
			Start:    flow.Start,
			End:      flow.End,
			Version:  version,
			// The header promises fingerprints only when that is true.
			WholeTokens: wholeTokens,
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
