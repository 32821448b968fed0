package main

import (
	"fmt"
	"html"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence/browser/browsertest"
)

// docsPicture is the picture of the image-save traces README shows;
// go test ./cmd/authflow -run TestJaegerOTLPEndpoint -update rewrites it.
const docsPicture = "../../docs/jaeger-image-save.png"

// serviceColors colour the services in the waterfall.
var serviceColors = map[string]string{
	"glance": "#1f77b4", "keystone": "#d62728", "memcached": "#2ca02c",
	"glance DB": "#9467bd", "keystone DB": "#8c564b",
}

// screenshotJaeger takes, with headless Chromium, a picture of the
// image-save traces as Jaeger stored them. The Jaeger built from its Go
// module serves a placeholder instead of its UI (the UI's JavaScript is
// built from another repository and not in the module), so the test draws
// the traces Jaeger's query API returned as a waterfall, as Jaeger's trace
// view does, and checks the picture is not blank and names every service.
func screenshotJaeger(t *testing.T, j *jaeger, spans []*span, start, end time.Time) {
	t.Helper()
	resp, err := http.Get(j.query + "/")
	if err != nil {
		t.Fatal(err)
	}
	home, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(home), "not the Jaeger UI") {
		t.Logf("this Jaeger serves its UI; the picture is still drawn from its query API")
	}
	b := browsertest.Find(t)
	page, height := waterfall(spans, []string{"GET /v2/images/{id}", "GET /v2/images/{id}/file"})
	for _, svc := range imageSaveServices {
		if !strings.Contains(page, ">"+html.EscapeString(svc)+"<") {
			t.Errorf("the waterfall does not name %s", svc)
		}
	}
	dir := t.TempDir()
	htmlPath := filepath.Join(dir, "traces.html")
	if err := os.WriteFile(htmlPath, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "traces.png")
	const width = 1100
	if err := b.Screenshot(browsertest.Context(t), htmlPath, shot, width, height); err != nil {
		t.Fatal(err)
	}
	img := browsertest.DecodePNG(t, shot)
	browsertest.Keep(t, shot)
	if n, inked := browsertest.Ink(img, img.Bounds()); n*100 < width*height || inked.Dx() < width/2 || inked.Dy() < height/2 {
		t.Errorf("the picture is nearly blank: %d pixels drawn in %v", n, inked)
	}
	if colours := distinctColours(img); colours < len(serviceColors) {
		t.Errorf("the picture has %d colours, fewer than the services", colours)
	}
	if *update {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(docsPicture), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docsPicture, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func distinctColours(img image.Image) int {
	seen := map[[3]uint32]bool{}
	bb := img.Bounds()
	for y := bb.Min.Y; y < bb.Max.Y; y += 2 {
		for x := bb.Min.X; x < bb.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	return len(seen)
}

// waterfall draws the traces whose root is at glance with one of the
// names as HTML: one row per span, indented under its parent, with its
// service, its name and a bar placed by its times. It returns the page and
// its height in pixels.
func waterfall(spans []*span, roots []string) (string, int) {
	children := map[string][]*span{}
	for _, s := range spans {
		children[s.parent] = append(children[s.parent], s)
	}
	for _, c := range children {
		slices.SortFunc(c, func(a, b *span) int { return a.start.Compare(b.start) })
	}
	var sb strings.Builder
	rows := 0
	sb.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{font:13px sans-serif;margin:12px;background:#fff;color:#222}
h1{font-size:16px;margin:4px 0} h2{font-size:14px;margin:14px 0 4px}
.row{display:flex;align-items:center;height:22px;border-bottom:1px solid #eee}
.name{flex:0 0 430px;box-sizing:border-box;white-space:nowrap;overflow:hidden}
.svc{display:inline-block;padding:0 4px;margin-right:6px;color:#fff;border-radius:3px}
.lane{position:relative;flex:1;height:14px;background:#f6f6f6}
.bar{position:absolute;height:14px;border-radius:2px}
.dur{flex:0 0 80px;text-align:right;color:#555}
</style></head><body><h1>authflow analyze --example image-save --otlp-endpoint … : the traces as Jaeger's query API returns them</h1>
`)
	for _, name := range roots {
		for _, r := range children[""] {
			if r.service != "glance" || r.name != name {
				continue
			}
			total := r.end.Sub(r.start)
			fmt.Fprintf(&sb, "<h2>trace %s: %s %s, %s, status %s</h2>\n", r.trace[:16], html.EscapeString(r.service), html.EscapeString(r.name), ms(total), r.attr("http.response.status_code"))
			var walk func(s *span, depth int)
			walk = func(s *span, depth int) {
				rows++
				left := float64(s.start.Sub(r.start)) / float64(total) * 100
				width := max(float64(s.end.Sub(s.start))/float64(total)*100, 0.3)
				left = min(left, 99.7)
				width = min(width, 100-left)
				colour := serviceColors[s.service]
				if colour == "" {
					colour = "#777"
				}
				fmt.Fprintf(&sb, `<div class="row"><div class="name" style="padding-left:%dpx"><span class="svc" style="background:%s">%s</span>%s</div><div class="lane"><div class="bar" style="left:%.2f%%;width:%.2f%%;background:%s"></div></div><div class="dur">%s</div></div>`+"\n",
					depth*16, colour, html.EscapeString(s.service), html.EscapeString(s.name), left, width, colour, ms(s.end.Sub(s.start)))
				for _, c := range children[s.id] {
					walk(c, depth+1)
				}
			}
			walk(r, 0)
		}
	}
	sb.WriteString("</body></html>\n")
	return sb.String(), 60 + len(roots)*40 + rows*23
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
