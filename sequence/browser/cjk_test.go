package browser_test

import (
	"bytes"
	"testing"

	"github.com/authflow/authflow/sequence/browser"
	"github.com/authflow/authflow/sequence/browser/browsertest"
)

// TestDrawsChinese renders two diagrams that differ only in their Chinese
// characters: with a font for them, the images differ; without one, both
// are the same row of boxes (`--lang zh -f png`). It also checks that
// FontFor finds the font.
func TestDrawsChinese(t *testing.T) {
	b := browsertest.Find(t)
	if ok, err := browser.FontFor('中'); err != nil || !ok {
		t.Errorf("no font draws 中 (%v): .ci/install-render-deps.sh installs one", err)
	}
	var pngs [][]byte
	for _, text := range []string{"令牌已签发", "缓存未命中"} {
		png, err := b.RenderPNG(browsertest.Context(t), "sequenceDiagram\n    participant K as keystone\n    Note over K: "+text+"\n", 1)
		if err != nil {
			t.Fatal(err)
		}
		pngs = append(pngs, png)
	}
	if bytes.Equal(pngs[0], pngs[1]) {
		t.Error("different Chinese texts draw the same image: their characters are boxes")
	}
}
