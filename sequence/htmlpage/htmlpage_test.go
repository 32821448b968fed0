package htmlpage

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "update golden files")

const stubLibrary = "/* the Mermaid library goes here */"

func stubLib(w io.Writer) error {
	_, err := io.WriteString(w, stubLibrary)
	return err
}

const sample = `sequenceDiagram
    autonumber
    participant C as OpenStackClient
    participant K as keystone
    participant KD as keystone DB
    C->>K: POST /v3/auth/tokens: password admin@Default → project admin
    K->>KD: 9 queries (user, local_user, password, …)
    KD-->>K: ok, 14 rows
    K-->>C: 201 Created: token 3f2a9c
    Note over C,K: token issued
`

var samplePage = Page{
	Mermaid: sample,
	Header: Header{
		Captures: []string{"image-save.pcapng", "image-save-files.jsonl"},
		Start:    time.Date(2026, 11, 22, 10, 15, 3, 123e6, time.UTC),
		End:      time.Date(2026, 11, 22, 10, 15, 9, 456e6, time.UTC),
		Version:  "v0.1.0",
		Notes:    []string{"2 TCP streams had gaps."},
	},
}

func skeleton(t *testing.T, page Page) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, page, stubLib); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestGoldenSkeletons(t *testing.T) {
	checkGolden(t, "page.golden.html", skeleton(t, samplePage))
	bare := samplePage
	bare.Bare = true
	checkGolden(t, "bare.golden.html", skeleton(t, bare))
	var buf bytes.Buffer
	if err := writeBatch(&buf, []string{sample, "sequenceDiagram\n  A->>: broken"}, stubLib); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "batch.golden.html", buf.Bytes())
}

// parse parses a page and returns its elements by tag name.
func parse(t *testing.T, page []byte) map[string][]*html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	els := map[string][]*html.Node{}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode {
			els[n.Data] = append(els[n.Data], n)
		}
	}
	return els
}

func text(n *html.Node) string {
	var sb strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			sb.WriteString(c.Data)
		}
	}
	return sb.String()
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// TestNoNetworkReferences checks that nothing in a page, outside the
// library, makes a browser fetch anything, and that the page forbids fetches.
func TestNoNetworkReferences(t *testing.T) {
	pages := map[string][]byte{"page": skeleton(t, samplePage), "bare": skeleton(t, Page{Mermaid: sample, Bare: true})}
	var batch bytes.Buffer
	if err := writeBatch(&batch, []string{sample}, stubLib); err != nil {
		t.Fatal(err)
	}
	pages["batch"] = batch.Bytes()
	fetching := regexp.MustCompile(`(?i)(\b(src|href|action|poster|srcset|data|background|formaction|manifest)\s*=|url\(|@import|\bfetch\(|XMLHttpRequest|importScripts|\bimport\b|["'(]//\w|https?://)`)
	// The check must catch the usual ways a page loads Mermaid from a CDN.
	for _, bad := range []string{
		`<script src="https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.min.js"></script>`,
		`<script type="module">import mermaid from '//cdn.jsdelivr.net/npm/mermaid@11/+esm'</script>`,
		`<link rel="stylesheet" href="fonts.css">`,
		`<style>@font-face { src: url(font.woff2) }</style>`,
	} {
		if !fetching.MatchString(bad) {
			t.Errorf("the check misses %s", bad)
		}
	}
	for name, page := range pages {
		for _, m := range fetching.FindAll(page, -1) {
			// The only URLs allowed are in nothing fetched; there are none.
			t.Errorf("%s: page refers to something a browser could fetch: %q", name, m)
		}
		els := parse(t, page)
		for _, tag := range []string{"link", "img", "iframe", "object", "embed", "video", "audio", "source", "base", "form"} {
			if len(els[tag]) > 0 {
				t.Errorf("%s: page has a <%s> element", name, tag)
			}
		}
		for _, s := range els["script"] {
			if _, ok := attr(s, "src"); ok {
				t.Errorf("%s: a script has a src", name)
			}
		}
		var csp string
		for _, m := range els["meta"] {
			if v, _ := attr(m, "http-equiv"); v == "Content-Security-Policy" {
				csp, _ = attr(m, "content")
			}
		}
		if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: page lacks a Content-Security-Policy with default-src 'none'; got %q", name, csp)
		}
	}
}

// TestEscaping checks that whatever the diagram and header say, a page has
// exactly its own scripts and the browser reads back exactly the text given.
func TestEscaping(t *testing.T) {
	hostile := []string{
		"</pre><script>alert(1)</script>",
		"<script>alert(1)</script>",
		"</PRE ><SCRIPT >alert(1)</SCRIPT>",
		"<!-- <script> -->",
		"&amp; &lt; &#60; &nbsp; %20 #lt; #59;",
		`"quotes" 'apostrophes' <b>bold</b>`,
		"</title></textarea></style></head><body onload=alert(1)>",
		"\nleading newline",
		"tab\tand unicode → … ✓",
	}
	for _, h := range hostile {
		src := "sequenceDiagram\n    A->>B: " + h + "\n"
		page := Page{
			Title:   "title " + h,
			Mermaid: src,
			Header:  Header{Captures: []string{h}, Version: h, Notes: []string{h}},
		}
		out := skeleton(t, page)
		els := parse(t, out)
		if n := len(els["script"]); n != 2 {
			t.Errorf("label %q: page has %d script elements, want 2", h, n)
		}
		if len(els["pre"]) != 1 {
			t.Fatalf("label %q: page has %d pre elements, want 1", h, len(els["pre"]))
		}
		if got := text(els["pre"][0]); got != src {
			t.Errorf("label %q: the browser reads the diagram as %q, want %q", h, got, src)
		}
		if got := text(els["title"][0]); got != page.Title {
			t.Errorf("label %q: title reads %q", h, got)
		}
		if len(els["body"]) != 1 || len(els["body"][0].Attr) != 0 {
			t.Errorf("label %q: body has attributes %v", h, els["body"][0].Attr)
		}
		if !strings.Contains(text(els["header"][0]), h) && !strings.Contains(h, "\n") {
			t.Errorf("label %q: header does not show it as text", h)
		}
	}
}

func TestLeadingNewlineKept(t *testing.T) {
	src := "\n\nsequenceDiagram\n  A->>B: x"
	els := parse(t, skeleton(t, Page{Mermaid: src}))
	if got := text(els["pre"][0]); got != src {
		t.Errorf("got %q, want %q", got, src)
	}
}

func TestBatchSourcesRoundTrip(t *testing.T) {
	sources := []string{sample, "</script><script>alert(1)</script>", "<!-- <script>", "\u2028\u2029", ""}
	var buf bytes.Buffer
	if err := writeBatch(&buf, sources, stubLib); err != nil {
		t.Fatal(err)
	}
	els := parse(t, buf.Bytes())
	var data string
	for _, s := range els["script"] {
		if id, _ := attr(s, "id"); id == "authflow-sources" {
			data = text(s)
		}
	}
	var got []string
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("sources do not read back as JSON: %v\n%s", err, data)
	}
	if len(got) != len(sources) {
		t.Fatalf("got %d sources back, want %d", len(got), len(sources))
	}
	for i := range sources {
		if got[i] != sources[i] {
			t.Errorf("source %d reads back as %q, want %q", i, got[i], sources[i])
		}
	}
	if n := len(els["script"]); n != 3 {
		t.Errorf("batch page has %d script elements, want 3", n)
	}
}

func TestFormatTimeRange(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 15, 3, 123e6, time.UTC)
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name       string
		start, end time.Time
		want       string
	}{
		{"unknown", time.Time{}, time.Time{}, "unknown"},
		{"same day", t0, t0.Add(6333 * time.Millisecond), "2026-11-22 10:15:03.123 – 10:15:09.456 UTC (6.333 s)"},
		{"across midnight", t0.Add(13 * time.Hour), t0.Add(14 * time.Hour), "2026-11-22 23:15:03.123 – 2026-11-23 00:15:03.123 UTC (3600.000 s)"},
		{"other zone shown in UTC", t0.In(cet), t0.Add(time.Second).In(cet), "2026-11-22 10:15:03.123 – 10:15:04.123 UTC (1.000 s)"},
		{"start only", t0, time.Time{}, "from 2026-11-22 10:15:03.123 UTC"},
		{"end only", time.Time{}, t0, "until 2026-11-22 10:15:03.123 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatTimeRange(tt.start, tt.end); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLibrary checks the embedded bundle: its checksum and version match
// assets/SOURCE and MermaidVersion, and it is safe to inline.
func TestLibrary(t *testing.T) {
	if len(mermaidGz) > 2<<20 {
		t.Errorf("embedded mermaid is %d bytes compressed; keep committed assets small", len(mermaidGz))
	}
	var lib bytes.Buffer
	if err := writeLibrary(&lib); err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("assets/SOURCE")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(source))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			fields[k] = v
		}
	}
	sum := sha256.Sum256(lib.Bytes())
	if got := hex.EncodeToString(sum[:]); got != fields["sha256"] {
		t.Errorf("embedded mermaid has sha256 %s, assets/SOURCE says %s", got, fields["sha256"])
	}
	if want := "mermaid@" + MermaidVersion; fields["package"] != want {
		t.Errorf("assets/SOURCE names %s, MermaidVersion is %s", fields["package"], MermaidVersion)
	}
	if !bytes.Contains(lib.Bytes(), []byte(`version:"`+MermaidVersion+`"`)) {
		t.Errorf("embedded mermaid does not declare version %s", MermaidVersion)
	}
	lower := bytes.ToLower(lib.Bytes())
	for _, bad := range []string{"<script", "</script"} {
		if bytes.Contains(lower, []byte(bad)) {
			t.Errorf("embedded mermaid contains %q and cannot be inlined in a <script> element", bad)
		}
	}
	if !utf8.Valid(lib.Bytes()) {
		t.Error("embedded mermaid is not valid UTF-8")
	}
}

// TestWriteFullPage checks the real page around the real library.
func TestWriteFullPage(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, samplePage); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if len(out) < 3<<20 {
		t.Errorf("page is %d bytes; the library alone is over 3 MB", len(out))
	}
	els := parse(t, out)
	if n := len(els["script"]); n != 2 {
		t.Errorf("page has %d script elements, want 2", n)
	}
	if !strings.Contains(text(els["script"][0]), `globalThis["mermaid"]`) {
		t.Error("first script is not the Mermaid library")
	}
	if got := text(els["pre"][0]); got != sample {
		t.Errorf("diagram reads back as %q", got)
	}
}

type failWriter struct{ left int }

var errFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, errFull
	}
	f.left -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	var full bytes.Buffer
	if err := Write(&full, samplePage); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, 5000, full.Len() / 2, full.Len() - 10} {
		if err := Write(&failWriter{left: n}, samplePage); !errors.Is(err, errFull) {
			t.Errorf("writer failing after %d bytes: got %v, want %v", n, err, errFull)
		}
	}
	if err := WriteBatch(&failWriter{left: 10}, []string{sample}); !errors.Is(err, errFull) {
		t.Errorf("batch: got %v, want %v", err, errFull)
	}
}

// FuzzEscaping checks that any diagram source and header text reach the
// browser unchanged and cannot add elements to the page.
func FuzzEscaping(f *testing.F) {
	f.Add(sample, "image-save.pcapng")
	f.Add("</pre><script>alert(1)</script>", "<!--")
	f.Add("<!-- <script>", "</dd></dl><img src=x>")
	f.Add("&amp;&#0;&#x110000;", "\u2028")
	f.Fuzz(func(t *testing.T, src, capture string) {
		page := Page{Mermaid: src, Title: capture, Header: Header{Captures: []string{capture}}}
		var buf bytes.Buffer
		if err := write(&buf, page, stubLib); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(&buf)
		if err != nil {
			t.Fatal(err)
		}
		var scripts, pres int
		var got string
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			switch n.Data {
			case "script":
				scripts++
			case "pre":
				pres++
				got = text(n)
			}
		}
		if scripts != 2 || pres != 1 {
			t.Fatalf("page has %d scripts and %d pre elements, want 2 and 1", scripts, pres)
		}
		// The HTML parser turns CR and CR LF into LF and NUL into U+FFFD,
		// and reads invalid UTF-8 as U+FFFD: compare what it must give back.
		if utf8.ValidString(src) && !strings.ContainsAny(src, "\r\x00") && got != src {
			t.Fatalf("diagram reads back as %q, want %q", got, src)
		}
	})
}
