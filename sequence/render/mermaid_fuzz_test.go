package render

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/authflow/authflow/sequence/render/escape"
)

// mermaidEntity matches Mermaid's #NN; entity codes.
var mermaidEntity = regexp.MustCompile(`#([0-9]+);`)

// unMermaid undoes Mermaid's entity codes, as Mermaid does when it draws.
func unMermaid(s string) string {
	return mermaidEntity.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		return string(rune(n))
	})
}

// FuzzMermaidText: what Mermaid draws of escaped text is the text (made
// safe for a terminal, on one line, trimmed), and nothing Mermaid reads
// as syntax is left.
func FuzzMermaidText(f *testing.F) {
	for _, s := range []string{"GET /v3", "a;b", "%%{init}%%", "<b>x</b>", "#35;", "end", "\x1b[31m\u202e", "a\u2028b", " ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MermaidText(s)
		want := strings.TrimSpace(escape.Terminal(s))
		if want == "" {
			want = " "
		}
		if back := unMermaid(out); back != want {
			t.Fatalf("MermaidText(%q) = %q, drawn as %q, want %q", s, out, back, want)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("MermaidText(%q) = %q: invalid UTF-8", s, out)
		}
		rest := mermaidEntity.ReplaceAllString(out, "")
		for _, r := range rest {
			if r < 0x80 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" ./-_()[]@?=*+!|~^$',:", r)) {
				t.Fatalf("MermaidText(%q) = %q holds %q", s, out, r)
			}
		}
	})
}
