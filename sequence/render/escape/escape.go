// Package escape makes text taken from the wire safe for where authflow
// writes it: a terminal or a text file (Terminal), PlantUML markup
// (PlantUML). Both keep the text on one line; neither lets a control
// character, an escape sequence (ANSI CSI, OSC, …), a Unicode bidi
// override or a line separator through.
package escape

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Terminal returns s on one line and safe to print on a terminal: line
// breaks, tabs and the Unicode line and paragraph separators (and NEL)
// become spaces; other C0 and C1 control characters and DEL (ESC starts
// every ANSI escape sequence, CSI and OSC are C1 controls too) are shown
// as \xNN, and the bidi controls that reorder what follows (U+202A–U+202E,
// U+2066–U+2069, U+200E, U+200F, U+061C) as \uNNNN; invalid UTF-8
// becomes U+FFFD.
func Terminal(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Bidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r) // invalid UTF-8 was decoded as U+FFFD
		}
	}
	return b.String()
}

// safe reports whether s needs no change: printable ASCII only, or valid
// UTF-8 without any character Terminal changes.
func safe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < 0x80 {
			return false
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || Bidi(r) {
			return false
		}
		i += n
	}
	return true
}

// Bidi reports whether r is a Unicode bidi control: an embedding,
// override or isolate (and their terminators), or a directional mark.
func Bidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// PlantUML returns s (made safe as by Terminal) for a PlantUML label,
// note or quoted participant name: every character that PlantUML's
// preprocessor (%functions, $variables, !directives) or creole markup
// (<img:…>, <U+…>, <color>, [[links]], {{sub-diagrams}}, **bold**,
// //italics//, --strike--, __underline__, ~~waves~~, ""monospace"", ~
// escapes, \n breaks, tables) could read becomes an HTML character
// reference (&#37;), which PlantUML draws as the character itself.
// Markup pairs are broken by encoding the second of two equal characters.
func PlantUML(s string) string {
	s = Terminal(s)
	var b strings.Builder
	b.Grow(len(s) + 16)
	prev := rune(-1)
	for _, r := range s {
		switch {
		case strings.ContainsRune(`&<>[]{}%$!"'\|~^#@`, r),
			strings.ContainsRune(`*/-_=.,:;`, r) && r == prev:
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
