package render

import (
	"github.com/fatih/color"

	"github.com/authflow/authflow/sequence"
)

// colorer colours the text timeline for a terminal, with semantic methods;
// with colour off every method returns its text unchanged.
type colorer struct {
	on                               bool
	name, ok, redirect, fail, dim, n *color.Color
}

func newColorer(on bool) *colorer {
	c := &colorer{
		on:       on,
		name:     color.New(color.Bold),
		ok:       color.New(color.FgGreen),
		redirect: color.New(color.FgYellow),
		fail:     color.New(color.FgRed, color.Bold),
		dim:      color.New(color.Faint),
		n:        color.New(color.FgCyan),
	}
	for _, x := range []*color.Color{c.name, c.ok, c.redirect, c.fail, c.dim, c.n} {
		if on {
			x.EnableColor()
		} else {
			x.DisableColor()
		}
	}
	return c
}

func (c *colorer) participant(s string) string { return c.name.Sprint(s) }
func (c *colorer) note(s string) string        { return c.dim.Sprint(s) }
func (c *colorer) seq(s string) string         { return c.n.Sprint(s) }

// label colours an answer by its outcome.
func (c *colorer) label(s string, status int, kind sequence.Kind) string {
	switch {
	case status >= 400 || kind.Failed():
		return c.fail.Sprint(s)
	case status >= 300:
		return c.redirect.Sprint(s)
	case status >= 200 || kind == sequence.KindTokenIssued || kind == sequence.KindTokenValid:
		return c.ok.Sprint(s)
	}
	return s
}
