package main

import (
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/sequence/browser/browsertest"
)

// TestGoldenMermaidRenders renders every golden Mermaid file with the real
// Mermaid renderer in headless Chromium: none may fail to parse.
func TestGoldenMermaidRenders(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.mmd"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden Mermaid files (%v)", err)
	}
	browsertest.CheckMermaidFiles(t, files...)
}

// TestHTMLExportOffline opens the HTML export of the image-save example in
// headless Chromium: it must draw the diagram without any network request,
// and its screenshot must not be blank.
func TestHTMLExportOffline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "image-save.html")
	if _, stderr, code := runCLI(t, "analyze", "--example", "image-save", "-o", path); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	res := browsertest.CheckPage(t, path)
	if !res.Rendered {
		t.Fatalf("the page did not render: %s", res.Error)
	}
}
