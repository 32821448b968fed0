package escape

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /v3 → 200", "GET /v3 → 200"},
		{"a\nb\r\tc", "a b  c"},
		{"\x1b]0;title\x07\x1b[2J", `\x1b]0;title\x07\x1b[2J`},
		{"\u009b31m\u0085x", `\x9b31m x`},
		{"abc\u202edef\u2066g\u200fh", `abc\u202edef\u2066g\u200fh`},
		{"l\u2028p\u2029", "l p "},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"\x7f", `\x7f`},
	}
	for _, tt := range tests {
		if got := Terminal(tt.in); got != tt.want {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// unicodeRef matches PlantUML's <U+XXXX> character references.
var unicodeRef = regexp.MustCompile(`<U\+([0-9A-F]{4,6})>`)

// unPlantUML undoes PlantUML's character references, as PlantUML does
// when it draws text.
func unPlantUML(s string) string {
	return unicodeRef.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[3:len(m)-1], 16, 32)
		return string(rune(n))
	})
}

func TestPlantUML(t *testing.T) {
	for _, in := range []string{
		`<img:http://127.0.0.1:1/x.png> %getenv("PATH") [[http://e]] !include /etc/passwd **b** //i// --s-- __u__ ~~w~~ ""m"" {{ A -> B }} $x \n <U+0025> &#60;`,
		"plain GET /v3/auth/tokens: password admin@Default → project admin",
	} {
		got := PlantUML(in)
		if back := unPlantUML(got); back != Terminal(in) {
			t.Errorf("PlantUML(%q) = %q, which PlantUML draws as %q", in, got, back)
		}
		checkPlantUMLMarkup(t, in, got)
	}
}

// checkPlantUMLMarkup fails if out, PlantUML's escaping of in, holds
// anything PlantUML's preprocessor or creole could read.
func checkPlantUMLMarkup(t *testing.T, in, out string) {
	t.Helper()
	// A reference is one atom to PlantUML: it separates what is around
	// it ("/<U+0021>/" is no "//").
	rest := unicodeRef.ReplaceAllString(out, "X")
	if i := strings.IndexAny(rest, `&<>[]{}%$!"'\|~^#@`); i >= 0 {
		t.Fatalf("PlantUML(%q) = %q holds %q", in, out, rest[i])
	}
	for _, pair := range []string{"**", "//", "--", "__", "==", "..", ",,", "::", ";;"} {
		if strings.Contains(rest, pair) {
			t.Fatalf("PlantUML(%q) = %q holds %q", in, out, pair)
		}
	}
	for _, r := range rest {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || Bidi(r) {
			t.Fatalf("PlantUML(%q) = %q holds %U", in, out, r)
		}
	}
}

// FuzzPlantUML: what PlantUML draws of escaped text is the text (made
// safe for a terminal), and no markup survives.
func FuzzPlantUML(f *testing.F) {
	for _, s := range []string{"<img:http://x/y.png>", "%getenv(\"PATH\")", "[[http://a]]", "!include x", "**b** //i//", "\x1b[31m\u202e", "a\u2028b", "<U+0041>", "&#60;", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := PlantUML(s)
		if back := unPlantUML(out); back != Terminal(s) {
			t.Fatalf("PlantUML(%q) = %q, drawn as %q, want %q", s, out, back, Terminal(s))
		}
		checkPlantUMLMarkup(t, s, out)
		if !utf8.ValidString(out) {
			t.Fatalf("PlantUML(%q) = %q: invalid UTF-8", s, out)
		}
	})
}

// FuzzTerminal: the output is valid UTF-8 on one line without control
// characters or bidi controls, and safe text is left alone.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "\u202e", "\u2028", "\u009b", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Terminal(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || Bidi(r) {
				t.Fatalf("Terminal(%q) = %q holds %U", s, out, r)
			}
		}
		if Terminal(out) != out {
			t.Fatalf("Terminal is not idempotent on %q", s)
		}
	})
}
