package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/authflow/authflow/sequence/htmlpage"
)

// MaxPNGPixels bounds the size of a PNG that RenderPNG makes: Chromium
// needs about 8 bytes of memory per pixel to capture it (a 1600x40000 page
// took 530 MB). A sequence diagram reaches it at roughly a thousand
// messages; larger diagrams should be written as SVG or HTML.
const MaxPNGPixels = 64 << 20

// WindowWidth and WindowHeight are the size, in CSS pixels, of the window in
// which RenderHTML lays out a page. A screenshot of the same width shows the
// diagram where Result says it is.
const (
	WindowWidth  = 1280
	WindowHeight = 1024
)

// Result is what a page reported after Chromium loaded it and its scripts
// finished.
type Result struct {
	// Rendered is true when Mermaid drew the diagram.
	Rendered bool
	// Error is Mermaid's message when it could not draw the diagram (for a
	// parse error it names the line and what was expected), or why the page
	// reported nothing.
	Error string
	// SVG is the drawn diagram. RenderHTML gives it serialized as XML, a
	// file that stands alone; RenderMermaid gives Mermaid's own markup.
	SVG string
	// X, Y, Width and Height are the place of the drawn SVG on the page, in
	// CSS pixels, laid out in a window WindowWidth pixels wide (RenderHTML
	// only).
	X, Y, Width, Height float64
}

// RenderError is the error of RenderSVG, RenderPNG and CheckMermaid when
// Mermaid could not draw the diagram, most often because its source does not
// parse.
type RenderError struct {
	// Message is Mermaid's message.
	Message string
}

func (e *RenderError) Error() string {
	return "mermaid could not draw the diagram: " + e.Message
}

// RenderHTML loads the HTML file at htmlPath, a page written by package
// htmlpage, in headless Chromium, waits until its scripts have finished and
// reports whether Mermaid drew the diagram. The error is for failures to run
// Chromium; Mermaid's own errors are in the Result. The page is opened in
// export mode (htmlpage.ExportFragment), so the Result carries the SVG, in a
// window of WindowWidth×WindowHeight.
func (b *Browser) RenderHTML(ctx context.Context, htmlPath string) (Result, error) {
	u, err := fileURL(htmlPath, htmlpage.ExportFragment)
	if err != nil {
		return Result{}, err
	}
	dom, err := b.headless(ctx, u, "--dump-dom", fmt.Sprintf("--window-size=%d,%d", WindowWidth, WindowHeight))
	if err != nil {
		return Result{}, fmt.Errorf("render %s: %w", htmlPath, err)
	}
	p, err := parseDump(dom)
	if err != nil {
		return Result{}, fmt.Errorf("render %s: %w", htmlPath, err)
	}
	res := Result{SVG: p.text[htmlpage.SVGElementID]}
	res.X, _ = strconv.ParseFloat(p.body["data-x"], 64)
	res.Y, _ = strconv.ParseFloat(p.body["data-y"], 64)
	res.Width, _ = strconv.ParseFloat(p.body["data-width"], 64)
	res.Height, _ = strconv.ParseFloat(p.body["data-height"], 64)
	status, ok := p.body[htmlpage.RenderedAttr]
	switch {
	case !ok:
		res.Error = "the page reported no result (no " + htmlpage.RenderedAttr + " on its body): it is not an authflow page, or its script did not run"
	case status == "ok":
		res.Rendered = true
	default:
		res.Error = strings.TrimPrefix(status, "error: ")
	}
	return res, nil
}

// Screenshot loads the HTML file at htmlPath in a headless Chromium window
// of width×height CSS pixels, waits until its scripts have finished and
// writes what the window shows (the top of the page, not all of it) to
// pngPath as PNG.
func (b *Browser) Screenshot(ctx context.Context, htmlPath, pngPath string, width, height int) error {
	u, err := fileURL(htmlPath, "")
	if err != nil {
		return err
	}
	if err := b.screenshot(ctx, u, pngPath, width, height, 1); err != nil {
		return fmt.Errorf("screenshot %s: %w", htmlPath, err)
	}
	return nil
}

func (b *Browser) screenshot(ctx context.Context, pageURL, pngPath string, width, height int, scale float64) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("window size %dx%d is not positive", width, height)
	}
	abs, err := filepath.Abs(pngPath)
	if err != nil {
		return fmt.Errorf("png path: %w", err)
	}
	// Chromium says nothing useful if it cannot write the file, so make
	// sure no stale file is taken for its output.
	if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove old %s: %w", pngPath, err)
	}
	_, err = b.headless(ctx, pageURL,
		"--screenshot="+abs,
		fmt.Sprintf("--window-size=%d,%d", width, height),
		"--force-device-scale-factor="+strconv.FormatFloat(scale, 'f', -1, 64),
	)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || fi.Size() == 0 {
		return fmt.Errorf("chromium wrote no screenshot to %s", pngPath)
	}
	return nil
}

// RenderSVG draws the Mermaid source src and returns the diagram as a
// standalone SVG document at its natural size. A diagram Mermaid cannot draw
// gives a *RenderError.
func (b *Browser) RenderSVG(ctx context.Context, src string) ([]byte, error) {
	res, err := b.renderBare(ctx, src, "")
	if err != nil {
		return nil, err
	}
	return []byte(res.SVG), nil
}

// RenderPNG draws the Mermaid source src and returns it as a PNG image of
// the diagram's natural size times scale (1 when scale is not positive), on
// a white background. A diagram Mermaid cannot draw gives a *RenderError; one
// of more than MaxPNGPixels pixels gives an error that suggests SVG.
func (b *Browser) RenderPNG(ctx context.Context, src string, scale float64) ([]byte, error) {
	if scale <= 0 {
		scale = 1
	}
	dir, err := os.MkdirTemp("", "authflow-render-")
	if err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	defer os.RemoveAll(dir)
	res, err := b.renderBare(ctx, src, dir)
	if err != nil {
		return nil, err
	}
	w, h := int(math.Ceil(res.Width)), int(math.Ceil(res.Height))
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("render png: mermaid drew an empty diagram (%gx%g)", res.Width, res.Height)
	}
	if pw, ph := math.Ceil(float64(w)*scale), math.Ceil(float64(h)*scale); pw*ph > MaxPNGPixels {
		return nil, fmt.Errorf("render png: the diagram would be %.0fx%.0f pixels, more than the %d million a PNG may have; write svg or html instead", pw, ph, MaxPNGPixels>>20)
	}
	svgPath := filepath.Join(dir, "diagram.svg")
	if err := os.WriteFile(svgPath, []byte(res.SVG), 0o600); err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	u, err := fileURL(svgPath, "")
	if err != nil {
		return nil, err
	}
	pngPath := filepath.Join(dir, "diagram.png")
	if err := b.screenshot(ctx, u, pngPath, w, h, scale); err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	data, err := os.ReadFile(pngPath)
	if err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	return data, nil
}

// renderBare draws src on a bare htmlpage page written into dir (a new
// temporary folder when dir is empty) and returns the result, or a
// *RenderError.
func (b *Browser) renderBare(ctx context.Context, src, dir string) (Result, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "authflow-render-")
		if err != nil {
			return Result{}, fmt.Errorf("render diagram: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	page := filepath.Join(dir, "diagram.html")
	if err := writePage(page, func(f *os.File) error {
		return htmlpage.Write(f, htmlpage.Page{Mermaid: src, Bare: true})
	}); err != nil {
		return Result{}, err
	}
	res, err := b.RenderHTML(ctx, page)
	if err != nil {
		return Result{}, err
	}
	if !res.Rendered {
		return Result{}, &RenderError{Message: res.Error}
	}
	if res.SVG == "" {
		return Result{}, fmt.Errorf("render diagram: the page drew the diagram but gave no SVG")
	}
	return res, nil
}

// RenderMermaid draws each source in one Chromium run and returns one
// Result per source, in order, with Mermaid's markup of the SVG or Mermaid's
// error message. The error is for failures to run Chromium.
func (b *Browser) RenderMermaid(ctx context.Context, sources []string) ([]Result, error) {
	dir, err := os.MkdirTemp("", "authflow-check-")
	if err != nil {
		return nil, fmt.Errorf("check diagrams: %w", err)
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "check.html")
	if err := writePage(page, func(f *os.File) error { return htmlpage.WriteBatch(f, sources) }); err != nil {
		return nil, err
	}
	u, err := fileURL(page, "")
	if err != nil {
		return nil, err
	}
	dom, err := b.headless(ctx, u, "--dump-dom")
	if err != nil {
		return nil, fmt.Errorf("check diagrams: %w", err)
	}
	p, err := parseDump(dom)
	if err != nil {
		return nil, fmt.Errorf("check diagrams: %w", err)
	}
	if status := p.body[htmlpage.RenderedAttr]; status != "ok" {
		if status == "" {
			status = "no result"
		}
		return nil, fmt.Errorf("check diagrams: the check page did not finish: %s", status)
	}
	var raw []struct {
		OK    bool   `json:"ok"`
		SVG   string `json:"svg"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(p.text[htmlpage.ResultsElementID]), &raw); err != nil {
		return nil, fmt.Errorf("check diagrams: read results: %w", err)
	}
	if len(raw) != len(sources) {
		return nil, fmt.Errorf("check diagrams: %d results for %d diagrams", len(raw), len(sources))
	}
	out := make([]Result, len(raw))
	for i, r := range raw {
		out[i] = Result{Rendered: r.OK, SVG: r.SVG, Error: r.Error}
	}
	return out, nil
}

// CheckMermaid draws src with Mermaid and returns nil if it drew, a
// *RenderError with Mermaid's message (a parse error names the line) if it
// did not, or another error if Chromium could not be run.
func (b *Browser) CheckMermaid(ctx context.Context, src string) error {
	res, err := b.RenderMermaid(ctx, []string{src})
	if err != nil {
		return err
	}
	if !res[0].Rendered {
		return &RenderError{Message: res[0].Error}
	}
	return nil
}

// writePage creates path and fills it with write.
func writePage(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write page: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write page: %w", err)
	}
	return nil
}

// fileURL returns the file:// URL of path with an optional fragment.
func fileURL(path, fragment string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("page path: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("page: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), Fragment: fragment}
	return u.String(), nil
}

// dump is what parseDump takes from a page that Chromium dumped.
type dump struct {
	body map[string]string // attributes of <body>
	text map[string]string // text of each <textarea> with an id
}

// parseDump reads the DOM that Chromium printed with --dump-dom.
func parseDump(dom []byte) (dump, error) {
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		return dump{}, fmt.Errorf("parse dumped page: %w", err)
	}
	d := dump{body: map[string]string{}, text: map[string]string{}}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "body":
			for _, a := range n.Attr {
				d.body[a.Key] = a.Val
			}
		case "textarea":
			var id string
			for _, a := range n.Attr {
				if a.Key == "id" {
					id = a.Val
				}
			}
			if id == "" {
				continue
			}
			var sb strings.Builder
			for c := range n.ChildNodes() {
				if c.Type == html.TextNode {
					sb.WriteString(c.Data)
				}
			}
			d.text[id] = sb.String()
		}
	}
	if len(dom) == 0 {
		return dump{}, fmt.Errorf("chromium printed no page")
	}
	return d, nil
}
