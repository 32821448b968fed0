package render

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render/escape"
)

// TestPlantUMLRendersLiterally renders authflow's PlantUML for a flow
// whose every text is hostile (an image from a local listener, a file,
// %getenv, a link, creole, escape sequences) with the real plantuml: the
// SVG holds each text exactly as captured (made safe for a terminal),
// and the renderer fetches nothing and reads no file. It needs plantuml
// (Debian: .ci/install-render-deps.sh); without it the test is skipped,
// or fails with AUTHFLOW_REQUIRE_PLANTUML=1.
func TestPlantUMLRendersLiterally(t *testing.T) {
	bin, err := exec.LookPath("plantuml")
	if err != nil {
		if os.Getenv("AUTHFLOW_REQUIRE_PLANTUML") == "1" {
			t.Fatal("plantuml not found (and AUTHFLOW_REQUIRE_PLANTUML=1)")
		}
		t.Skip("plantuml not found; .ci/install-render-deps.sh installs it")
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	texts := []string{
		"GET <img:" + srv.URL + "/label.png> %getenv(\"PATH\") [[" + srv.URL + "/link]] <img:/etc/passwd> !include /etc/hosts",
		"note **bold** //italic// --strike-- __under__ ~~wave~~ \"\"mono\"\" {{ A -> B }} $x <U+0041> &#60; \\n ~x |a|b| <color:red>c</color>",
		"participant <img:" + srv.URL + "/name.png>\x1b]0;pwned\x07\u202eevil\u2028end",
	}
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	flow := &sequence.Flow{
		Participants: []*sequence.Participant{{ID: "C", Name: texts[2], Role: "client"}, {ID: "K", Name: "keystone", Role: "keystone"}},
		Messages: []*sequence.Message{{Seq: 1, Time: t0, From: "C", To: "K", Kind: "http.request", Label: texts[0],
			Notes: []sequence.Note{{Over: []string{"K"}, Text: texts[1]}}}},
	}
	var src bytes.Buffer
	if err := PlantUML(&src, flow); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-tsvg", "-pipe")
	cmd.Stdin = &src
	var svg, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &svg, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plantuml: %v: %s", err, stderr.String())
	}
	drawn := svgTexts(t, svg.Bytes())
	for _, want := range texts {
		if !strings.Contains(drawn, escape.Terminal(want)) {
			t.Errorf("the SVG does not show %q literally; it shows:\n%s", escape.Terminal(want), drawn)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("plantuml made %d requests to the local listener", hits.Load())
	}
	for _, bad := range []string{"Cannot decode", "<image", "<a ", os.Getenv("PATH")} {
		if bad != "" && strings.Contains(svg.String(), bad) {
			t.Errorf("the SVG holds %q", bad)
		}
	}
}

// svgTexts returns the text of an SVG's <text> elements, one per line,
// no-break spaces as spaces.
func svgTexts(t *testing.T, svg []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var out []string
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			in = el.Name.Local == "text"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				out = append(out, strings.ReplaceAll(string(el), "\u00a0", " "))
			}
		}
	}
	return strings.Join(out, "\n")
}
