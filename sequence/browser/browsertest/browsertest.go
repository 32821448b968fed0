// Package browsertest helps tests prove that Mermaid diagrams render in a
// real headless Chromium: it finds Chromium (skipping, or failing when
// AUTHFLOW_REQUIRE_CHROMIUM=1, if there is none), checks Mermaid files,
// counts network requests through a local proxy, and checks that a
// screenshot shows a diagram.
package browsertest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence/browser"
)

// EnvRequire names the environment variable that, set to 1, makes a missing
// Chromium fail tests instead of skipping them. The project's test command
// sets it after installing Chromium, so that a broken install cannot pass
// unnoticed.
const EnvRequire = "AUTHFLOW_REQUIRE_CHROMIUM"

// Timeout bounds each helper's Chromium runs.
const Timeout = 5 * time.Minute

// Find returns the local Chromium. Without one it skips the test with a
// message that says what to install, or fails it if $AUTHFLOW_REQUIRE_CHROMIUM
// is 1.
func Find(t testing.TB) *browser.Browser {
	t.Helper()
	b, err := browser.Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (and %s=1)", err, EnvRequire)
		}
		t.Skipf("skipping: %v; .ci/install-render-deps.sh installs it", err)
	}
	return b
}

// Context returns a context for the test's Chromium runs, ended after
// Timeout or when the test ends.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// CheckMermaidFiles renders every Mermaid file in paths with the real Mermaid
// in headless Chromium (one Chromium run for all of them) and reports each
// file that Mermaid cannot draw, with Mermaid's message. It skips like Find
// when there is no Chromium.
func CheckMermaidFiles(t testing.TB, paths ...string) {
	t.Helper()
	if len(paths) == 0 {
		t.Fatal("CheckMermaidFiles: no files given")
	}
	b := Find(t)
	sources := make([]string, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read mermaid file: %v", err)
		}
		sources[i] = string(data)
	}
	results, err := b.RenderMermaid(Context(t), sources)
	if err != nil {
		t.Fatalf("render %d mermaid files: %v", len(paths), err)
	}
	for i, r := range results {
		if !r.Rendered {
			t.Errorf("%s: mermaid cannot draw it: %s", paths[i], r.Error)
		} else if r.SVG == "" {
			t.Errorf("%s: mermaid drew no SVG", paths[i])
		}
	}
}

// CheckPage proves that the HTML page at htmlPath, as written by package
// htmlpage, draws its diagram in headless Chromium without a single network
// request, and that a screenshot of it shows the diagram. It returns the
// render result for further checks. It skips like Find when there is no
// Chromium.
func CheckPage(t testing.TB, htmlPath string) browser.Result {
	t.Helper()
	b := Find(t)
	counter := NewNetworkCounter(t)
	offline := *b
	offline.Proxy = counter.ProxyURL()
	ctx := Context(t)

	res, err := offline.RenderHTML(ctx, htmlPath)
	if err != nil {
		t.Fatalf("render %s: %v", htmlPath, err)
	}
	if !res.Rendered {
		t.Fatalf("%s: mermaid did not draw the diagram: %s", htmlPath, res.Error)
	}
	if res.Width < 1 || res.Height < 1 {
		t.Fatalf("%s: drawn diagram has no size (%gx%g)", htmlPath, res.Width, res.Height)
	}

	// A screenshot as tall as the diagram, within reason.
	height := min(int(res.Y+res.Height)+20, 4096)
	shot := filepath.Join(t.TempDir(), "page.png")
	if err := offline.Screenshot(ctx, htmlPath, shot, browser.WindowWidth, height); err != nil {
		t.Fatalf("screenshot %s: %v", htmlPath, err)
	}
	img := DecodePNG(t, shot)
	box := image.Rect(int(res.X), int(res.Y), int(res.X+res.Width), int(res.Y+res.Height)).Intersect(img.Bounds())
	Keep(t, shot)
	if err := CheckDiagramArea(img, box); err != nil {
		t.Errorf("%s: screenshot: %v", htmlPath, err)
	}
	if reqs := counter.PageRequests(); len(reqs) != 0 {
		t.Errorf("%s: the page made %d network request(s): %q", htmlPath, len(reqs), reqs)
	}
	t.Logf("%s: drawn at %gx%g; proxy saw %d connection(s), %d request(s), none from the page",
		htmlPath, res.Width, res.Height, counter.Connections(), len(counter.Requests()))
	return res
}

// EnvKeepScreenshots names the environment variable that, set to a folder,
// makes Keep copy screenshots there.
const EnvKeepScreenshots = "AUTHFLOW_KEEP_SCREENSHOTS"

// Keep copies the image file at path, named after the test, into the folder
// named by $AUTHFLOW_KEEP_SCREENSHOTS, if it is set, so that a person can
// look at what a test saw.
func Keep(t testing.TB, path string) {
	t.Helper()
	dir := os.Getenv(EnvKeepScreenshots)
	if dir == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err == nil {
		dst := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+filepath.Ext(path))
		if err = os.WriteFile(dst, data, 0o644); err == nil {
			t.Logf("kept screenshot as %s", dst)
		}
	}
}

// DecodePNG reads a PNG file.
func DecodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open png: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode png %s: %v", path, err)
	}
	return img
}

// inkLimit is the channel value (0-255) below which a pixel counts as ink:
// the page and header backgrounds and Mermaid's pale box fills stay above
// it; text, lines and borders fall below.
const inkLimit = 200

// IsInk reports whether the pixel at x, y of img is drawn rather than
// background: any of its colour channels is darker than a light grey.
func IsInk(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	const lim = inkLimit * 0x101
	return r < lim || g < lim || b < lim
}

// Ink returns how many pixels of img inside box are ink (see IsInk) and the
// smallest rectangle that holds them.
func Ink(img image.Image, box image.Rectangle) (int, image.Rectangle) {
	box = box.Intersect(img.Bounds())
	n := 0
	var inked image.Rectangle
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if IsInk(img, x, y) {
				n++
				inked = inked.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return n, inked
}

// CheckDiagramArea checks that box, the place of a drawn diagram in a
// screenshot, is not blank: at least 0.3% of its pixels are ink, and the ink
// spreads over most of the box (a sequence diagram has participants at both
// ends and at top and bottom), so a few stray pixels or a one-line error
// message cannot pass.
func CheckDiagramArea(img image.Image, box image.Rectangle) error {
	if box.Dx() < 20 || box.Dy() < 20 {
		return fmt.Errorf("diagram area %v is too small to check", box)
	}
	n, inked := Ink(img, box)
	area := box.Dx() * box.Dy()
	if n*1000 < area*3 {
		return fmt.Errorf("diagram area %v is nearly blank: %d of %d pixels drawn", box, n, area)
	}
	if inked.Dx()*10 < box.Dx()*6 || inked.Dy()*10 < box.Dy()*6 {
		return fmt.Errorf("drawing covers only %v of the diagram area %v", inked, box)
	}
	return nil
}

// NetworkCounter is a local listener that serves as Chromium's HTTP proxy
// and records every connection made to it, answering each request with 502
// Bad Gateway. With Chromium told to send all requests to it
// (browser.Browser.Proxy), no page request proves a page fetched nothing.
type NetworkCounter struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string // first line of each connection's request, "" if it sent nothing
	wg    sync.WaitGroup
}

// NewNetworkCounter starts a counter on a loopback port; it stops when the
// test ends.
func NewNetworkCounter(t testing.TB) *NetworkCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for proxy: %v", err)
	}
	c := &NetworkCounter{ln: ln}
	c.wg.Add(1)
	go c.serve()
	t.Cleanup(func() {
		ln.Close()
		c.wg.Wait()
	})
	return c
}

// ProxyURL is the URL to give as browser.Browser.Proxy.
func (c *NetworkCounter) ProxyURL() string {
	return "http://" + c.ln.Addr().String()
}

// Connections returns how many connections were made so far, whatever
// they carried.
func (c *NetworkCounter) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// Requests returns the first line of every request made so far, such as
// "GET http://example.invalid/x.png HTTP/1.1" or "CONNECT host:443 HTTP/1.1".
// Connections that sent nothing (Chromium opens some ahead of need) are left
// out: nothing left the machine through them.
func (c *NetworkCounter) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// PageRequests returns Requests less those that Chromium's own background
// services make to hosts under browser.InternalHostSuffix: the requests a
// page made.
func (c *NetworkCounter) PageRequests() []string {
	var out []string
	for _, l := range c.Requests() {
		if !IsInternalRequest(l) {
			out = append(out, l)
		}
	}
	return out
}

// IsInternalRequest reports whether a request line asks for a host under
// browser.InternalHostSuffix.
func IsInternalRequest(line string) bool {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return false
	}
	target := fields[1]
	var host string
	if fields[0] == "CONNECT" {
		host = target
		if h, _, err := net.SplitHostPort(target); err == nil {
			host = h
		}
	} else {
		u, err := url.Parse(target)
		if err != nil {
			return false
		}
		host = u.Hostname()
	}
	return strings.HasSuffix(strings.ToLower(host), browser.InternalHostSuffix)
}

func (c *NetworkCounter) serve() {
	defer c.wg.Done()
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c.mu.Lock()
		i := len(c.lines)
		c.lines = append(c.lines, "")
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReaderSize(conn, 4096).ReadSlice('\n')
			if len(line) > 0 {
				c.mu.Lock()
				c.lines[i] = strings.TrimRight(string(line), "\r\n")
				c.mu.Unlock()
			}
			_, _ = conn.Write([]byte("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}()
	}
}
