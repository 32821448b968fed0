package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

// sgr matches the colour sequences the colourer writes.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// hostileText is wire text that tries every trick on a terminal and on
// diagram markup.
const hostileText = "x\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\u2028line\u2029para\u0085nel\u2066iso <img:http://127.0.0.1:1/x.png> %getenv(\"PATH\") [[http://e.example]] !include /etc/passwd **b**"

// hostileFlow is a flow whose every piece of wire text is hostileText.
func hostileFlow() *sequence.Flow {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return &sequence.Flow{
		Participants: []*sequence.Participant{{ID: "C", Name: "client " + hostileText, Role: "client"}, {ID: "K", Name: "svc " + hostileText, Role: "service"}},
		Messages: []*sequence.Message{
			{Seq: 1, Time: t0, From: "C", To: "K", Kind: "http.request", Label: "GET " + hostileText,
				Notes: []sequence.Note{{Over: []string{"K"}, Text: "note " + hostileText}}},
		},
		Warnings: []string{"warning " + hostileText},
	}
}

// TestTextEscapesEverything: no control character, escape sequence, bidi
// control or line separator reaches the text timeline, participant names
// included.
func TestTextEscapesEverything(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := text(&buf, hostileFlow(), newColorer(color)); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if color {
			// The colourer's own SGR sequences are the only ESCs allowed.
			out = sgr.ReplaceAllString(out, "")
		}
		for _, r := range out {
			if r == '\n' {
				continue
			}
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Errorf("color=%v: text output carries %U:\n%q", color, r, out)
				break
			}
		}
		if !strings.Contains(out, `\u202eevil`) || !strings.Contains(out, `\x1b]0;pwned`) {
			t.Errorf("color=%v: controls are not shown escaped:\n%s", color, out)
		}
	}
}

// TestPlantUMLEscapesMarkup: no creole or preprocessor syntax of wire
// text reaches the PlantUML source.
func TestPlantUMLEscapesMarkup(t *testing.T) {
	var buf bytes.Buffer
	if err := PlantUML(&buf, hostileFlow()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<img", "%getenv", "[[", "!include", "**", "\x1b", "\u202e", "\u2028"} {
		if strings.Contains(out, bad) {
			t.Errorf("PlantUML source contains %q:\n%s", bad, out)
		}
	}
}
