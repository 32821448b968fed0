package browser_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence/browser"
	"github.com/authflow/authflow/sequence/browser/browsertest"
	"github.com/authflow/authflow/sequence/htmlpage"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeHTML(t *testing.T, page htmlpage.Page) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "diagram.html")
	var buf bytes.Buffer
	if err := htmlpage.Write(&buf, page); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGoldenMermaidFiles renders every Mermaid file of testdata with the real
// Mermaid in headless Chromium.
func TestGoldenMermaidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.mmd")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.mmd: %v", err)
	}
	browsertest.CheckMermaidFiles(t, files...)
}

func TestRenderMermaid(t *testing.T) {
	b := browsertest.Find(t)
	sources := []string{
		readFile(t, "testdata/keystone-token.mmd"),
		"sequenceDiagram\n  A->>: broken\n",
		"not a diagram at all",
	}
	res, err := b.RenderMermaid(browsertest.Context(t), sources)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results, want 3", len(res))
	}
	if !res[0].Rendered {
		t.Errorf("valid diagram not drawn: %s", res[0].Error)
	}
	for _, want := range []string{"OpenStackClient", "keystone DB", "201 Created: token 3f2a9c", "token issued"} {
		if !strings.Contains(res[0].SVG, want) {
			t.Errorf("drawn SVG lacks %q", want)
		}
	}
	if res[1].Rendered || !strings.Contains(res[1].Error, "Parse error on line 2") {
		t.Errorf("broken diagram: got rendered=%v error %q, want a parse error on line 2", res[1].Rendered, res[1].Error)
	}
	if res[2].Rendered || res[2].Error == "" {
		t.Errorf("non-diagram: got rendered=%v error %q, want an error", res[2].Rendered, res[2].Error)
	}
	t.Logf("parse error message: %s", res[1].Error)
}

func TestCheckMermaid(t *testing.T) {
	b := browsertest.Find(t)
	ctx := browsertest.Context(t)
	if err := b.CheckMermaid(ctx, readFile(t, "testdata/keystone-token.mmd")); err != nil {
		t.Errorf("valid diagram: %v", err)
	}
	err := b.CheckMermaid(ctx, "sequenceDiagram\n  A->>: broken")
	var re *browser.RenderError
	if !errors.As(err, &re) {
		t.Fatalf("broken diagram: got %v, want a *RenderError", err)
	}
	if !strings.Contains(re.Message, "Parse error on line 2") || !strings.Contains(re.Message, "A->>: broken") {
		t.Errorf("broken diagram: message %q does not show the line", re.Message)
	}
}

// TestHTMLPageOffline is the acceptance check for the HTML export: the page
// draws its diagram with no network request and a screenshot shows it.
func TestHTMLPageOffline(t *testing.T) {
	path := writeHTML(t, htmlpage.Page{
		Mermaid: readFile(t, "testdata/features.mmd"),
		Header: htmlpage.Header{
			Captures: []string{"image-save.pcapng"},
			Start:    time.Date(2026, 11, 22, 10, 15, 3, 123e6, time.UTC),
			End:      time.Date(2026, 11, 22, 10, 15, 9, 456e6, time.UTC),
			Version:  "test",
		},
	})
	res := browsertest.CheckPage(t, path)
	for _, want := range []string{"glance-api", "memcached", "cache miss", "204 No Content"} {
		if !strings.Contains(res.SVG, want) {
			t.Errorf("drawn SVG lacks %q", want)
		}
	}
}

// TestNetworkCounterSeesRequests is the positive control for the offline
// check: a page that fetches must be seen fetching.
func TestNetworkCounterSeesRequests(t *testing.T) {
	b := browsertest.Find(t)
	counter := browsertest.NewNetworkCounter(t)
	b.Proxy = counter.ProxyURL()
	path := filepath.Join(t.TempDir(), "fetching.html")
	page := `<!DOCTYPE html><html><body><img src="http://authflow-test.invalid/pixel.png">` +
		`<script src="https://cdn.authflow-test.invalid/mermaid.min.js"></script></body></html>`
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := b.RenderHTML(browsertest.Context(t), path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rendered || !strings.Contains(res.Error, "reported no result") {
		t.Errorf("foreign page: got rendered=%v error %q, want no result", res.Rendered, res.Error)
	}
	reqs := counter.PageRequests()
	if len(reqs) == 0 {
		t.Fatal("the proxy saw no connection from a page that fetches: the offline check would pass vacuously")
	}
	all := strings.Join(reqs, "\n")
	for _, want := range []string{"GET http://authflow-test.invalid/pixel.png", "CONNECT cdn.authflow-test.invalid:443"} {
		if !strings.Contains(all, want) {
			t.Errorf("proxy did not see %s; saw %q", want, reqs)
		}
	}
}

// TestHostileLabels checks that diagram text cannot break out of the page:
// it draws, runs no script of its own and fetches nothing.
func TestHostileLabels(t *testing.T) {
	b := browsertest.Find(t)
	counter := browsertest.NewNetworkCounter(t)
	b.Proxy = counter.ProxyURL()
	src := "sequenceDiagram\n" +
		"    participant A as </pre><script>document.body.dataset.rendered='pwned'</script>\n" +
		"    participant B as <img src=\"http://authflow-test.invalid/label.png\">\n" +
		"    A->>B: </textarea></pre><img src=x onerror=\"document.title='pwned'\"> &amp; %20 &lt;\n"
	res, err := b.RenderHTML(browsertest.Context(t), writeHTML(t, htmlpage.Page{Mermaid: src}))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rendered {
		t.Fatalf("not drawn: %s", res.Error)
	}
	if strings.Contains(res.SVG, "pwned") && strings.Contains(res.SVG, "<script") {
		t.Errorf("drawn SVG carries a script: %s", res.SVG)
	}
	if reqs := counter.PageRequests(); len(reqs) != 0 {
		t.Errorf("page made %d request(s): %q", len(reqs), reqs)
	}
}

func TestRenderHTMLParseError(t *testing.T) {
	b := browsertest.Find(t)
	res, err := b.RenderHTML(browsertest.Context(t), writeHTML(t, htmlpage.Page{Mermaid: "sequenceDiagram\n  A->>: broken\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rendered || !strings.Contains(res.Error, "Parse error on line 2") {
		t.Errorf("got rendered=%v error %q, want a parse error on line 2", res.Rendered, res.Error)
	}
}

// TestBlankScreenshotFails is the negative control for the screenshot
// check: an empty page and a page with only an error message must fail it.
func TestBlankScreenshotFails(t *testing.T) {
	b := browsertest.Find(t)
	ctx := browsertest.Context(t)
	dir := t.TempDir()
	blank := filepath.Join(dir, "blank.html")
	if err := os.WriteFile(blank, []byte("<!DOCTYPE html><html><body></body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "blank.png")
	if err := b.Screenshot(ctx, blank, shot, 800, 600); err != nil {
		t.Fatal(err)
	}
	img := browsertest.DecodePNG(t, shot)
	if got := img.Bounds().Size(); got != image.Pt(800, 600) {
		t.Errorf("screenshot size %v, want 800x600", got)
	}
	if err := browsertest.CheckDiagramArea(img, image.Rect(20, 150, 780, 580)); err == nil {
		t.Error("a blank page passed the screenshot check")
	}

	broken := writeHTML(t, htmlpage.Page{Mermaid: "sequenceDiagram\n  A->>: broken\n"})
	if err := b.Screenshot(ctx, broken, shot, 800, 600); err != nil {
		t.Fatal(err)
	}
	browsertest.Keep(t, shot)
	img = browsertest.DecodePNG(t, shot)
	if n, _ := browsertest.Ink(img, img.Bounds()); n == 0 {
		t.Error("the page of a broken diagram shows nothing, not even its header and error")
	}
	if err := browsertest.CheckDiagramArea(img, image.Rect(20, 200, 780, 580)); err == nil {
		t.Error("the page of a broken diagram passed the screenshot check")
	}
}

func TestRenderSVG(t *testing.T) {
	b := browsertest.Find(t)
	svg, err := b.RenderSVG(browsertest.Context(t), readFile(t, "testdata/keystone-token.mmd"))
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		XMLName xml.Name
		Width   string `xml:"width,attr"`
		Height  string `xml:"height,attr"`
	}
	if err := xml.Unmarshal(svg, &root); err != nil {
		t.Fatalf("svg is not well-formed XML: %v", err)
	}
	if root.XMLName.Space != "http://www.w3.org/2000/svg" || root.XMLName.Local != "svg" {
		t.Errorf("root element %v, want svg in the SVG namespace", root.XMLName)
	}
	if w, err := strconv.ParseFloat(root.Width, 64); err != nil || w < 100 {
		t.Errorf("width %q, want a natural size in pixels", root.Width)
	}
	for _, want := range []string{"OpenStackClient", "token issued", "→"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("svg lacks %q", want)
		}
	}

	_, err = b.RenderSVG(browsertest.Context(t), "sequenceDiagram\n  A->>: broken")
	var re *browser.RenderError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "Parse error") {
		t.Errorf("broken diagram: got %v, want a *RenderError with the parse error", err)
	}
}

func TestRenderPNG(t *testing.T) {
	b := browsertest.Find(t)
	ctx := browsertest.Context(t)
	src := readFile(t, "testdata/keystone-token.mmd")
	data, err := b.RenderPNG(ctx, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	// The bare page draws the sample 1084x398 CSS pixels; allow other fonts.
	size := img.Bounds().Size()
	if size.X < 1000 || size.Y < 400 || size.X%2 != 0 || size.Y%2 != 0 {
		t.Errorf("png is %v, want the diagram's size at scale 2", size)
	}
	if err := browsertest.CheckDiagramArea(img, img.Bounds()); err != nil {
		t.Errorf("png: %v", err)
	}
	t.Logf("png %v, %d bytes", size, len(data))
	out := filepath.Join(t.TempDir(), "diagram.png")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	browsertest.Keep(t, out)
}

func TestRenderPNGTooLarge(t *testing.T) {
	b := browsertest.Find(t)
	// The sample is about 1084x398 CSS pixels: at scale 20 it is 172 million.
	_, err := b.RenderPNG(browsertest.Context(t), readFile(t, "testdata/keystone-token.mmd"), 20)
	if err == nil || !strings.Contains(err.Error(), "write svg or html instead") {
		t.Errorf("got %v, want an error that suggests svg", err)
	}
}

// TestTimeoutKillsChromium checks that a run past its deadline ends at once
// with the context's error and leaves no Chromium process behind.
func TestTimeoutKillsChromium(t *testing.T) {
	b := browsertest.Find(t)
	// Scratch folders are made under TMPDIR: a unique one tells this test's
	// processes from those of tests running at the same time.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(t.TempDir(), "busy.html")
	page := `<!DOCTYPE html><html><body><script>var t = Date.now(); while (Date.now() - t < 600000) {}</script></body></html>`
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := b.RenderHTML(ctx, path)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	t.Logf("returned %v after the start", time.Since(start).Round(time.Millisecond))
	if left := processesMentioning(t, tmp); len(left) > 0 {
		t.Errorf("chromium processes left after the timeout: %v", left)
	}
}

// processesMentioning lists the processes whose command line contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	var left []string
	// Killed processes may take a moment to be reaped by their parent.
	for range 50 {
		left = left[:0]
		entries, err := os.ReadDir("/proc")
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && bytes.Contains(cmd, []byte(s)) {
				left = append(left, e.Name())
			}
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return left
}

func TestFindEnv(t *testing.T) {
	t.Setenv(browser.EnvChromium, filepath.Join(t.TempDir(), "no-such-chromium"))
	_, err := browser.Find()
	if err == nil || !strings.Contains(err.Error(), browser.EnvChromium) {
		t.Errorf("got %v, want an error naming %s", err, browser.EnvChromium)
	}
	if !strings.Contains(browser.ErrNotFound.Error(), "apt-get install chromium") {
		t.Errorf("ErrNotFound does not say what to install: %v", browser.ErrNotFound)
	}
}

func TestIsInternalRequest(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"POST http://gaia" + browser.InternalHostSuffix + "/ListAccounts?x=1 HTTP/1.1", true},
		{"CONNECT updater" + browser.InternalHostSuffix + ":443 HTTP/1.1", true},
		{"GET http://authflow-internal.invalid.example.com/ HTTP/1.1", false},
		{"GET http://cdn.jsdelivr.net/npm/mermaid HTTP/1.1", false},
		{"CONNECT cdn.jsdelivr.net:443 HTTP/1.1", false},
		{"garbage", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := browsertest.IsInternalRequest(tt.line); got != tt.want {
			t.Errorf("IsInternalRequest(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}
