package browser

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"unicode"
)

// FontFor reports whether an installed font (as fontconfig, which
// Chromium uses, sees them) draws the rune r. Without fc-list it cannot
// tell and returns an error.
func FontFor(r rune) (bool, error) {
	fcList, err := exec.LookPath("fc-list")
	if err != nil {
		return false, errors.New("fc-list (fontconfig) not found: cannot tell which fonts are installed")
	}
	out, err := exec.Command(fcList, fmt.Sprintf(":charset=%x", r), "family").Output()
	if err != nil {
		return false, fmt.Errorf("fc-list: %w", err)
	}
	return strings.TrimSpace(string(out)) != "", nil
}

// FirstWide returns the first character of text in a CJK script (Chinese,
// Japanese, Korean), which the Latin fonts do not draw, and whether there
// is one.
func FirstWide(text string) (rune, bool) {
	for _, r := range text {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return r, true
		}
	}
	return 0, false
}

// CheckFonts returns an error naming the first CJK character of text that
// no installed font draws: Chromium would draw it, and all like it, as a
// box. It returns nil when every such character can be drawn, or when it
// cannot tell (no fontconfig).
func CheckFonts(text string) error {
	r, ok := FirstWide(text)
	if !ok {
		return nil
	}
	have, err := FontFor(r)
	if err != nil || have {
		return nil
	}
	return fmt.Errorf("no installed font draws %q (U+%04X): the image would show boxes instead; install a CJK font (Debian: apt-get install fonts-wqy-microhei, as .ci/install-render-deps.sh does) or write html, which the viewer's browser draws", string(r), r)
}
