package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence"
)

// wholeJSON is how the JSON writer used to write a flow: the document
// indented all at once. The streaming writer must write the same bytes.
func wholeJSON(t *testing.T, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestJSONStreamsSameDocument: writing the messages one by one gives the
// document encoding the flow whole gives, with and without the summary,
// with no messages, and with text a findings' "messages" key or HTML
// characters could confuse.
func TestJSONStreamsSameDocument(t *testing.T) {
	tricky := sample()
	tricky.Messages[0].Label = "<b> & \"messages\": []"
	tricky.Findings = []sequence.Finding{{Kind: "k", Severity: "info", Summary: "s", Messages: []int{1, 2}, Frames: []sequence.Frame{}}}
	empty := sample()
	empty.Messages = nil
	for name, f := range map[string]*sequence.Flow{"sample": sample(), "tricky": tricky, "empty": empty} {
		var got bytes.Buffer
		if err := Write(&got, f, "json", Options{}); err != nil {
			t.Fatal(err)
		}
		if want := wholeJSON(t, withArrays(f)); got.String() != want {
			t.Errorf("%s: streamed JSON differs:\n%s\nwant:\n%s", name, got.String(), want)
		}
		got.Reset()
		if err := Write(&got, f, "json", Options{Summary: true}); err != nil {
			t.Fatal(err)
		}
		want := wholeJSON(t, struct {
			*sequence.Flow
			Summary    []sequence.RequestTiming `json:"summary"`
			Operations []sequence.Operation     `json:"operations"`
		}{withArrays(f), emptyIfNil(sequence.Timings(f)), emptyIfNil(sequence.Operations(f))})
		if got.String() != want {
			t.Errorf("%s: streamed JSON with summary differs:\n%s\nwant:\n%s", name, got.String(), want)
		}
	}
}

// TestJSONLines: one message per line, each the object JSON's messages
// hold, then one line with the rest of the document.
func TestJSONLines(t *testing.T) {
	f := sample()
	var b bytes.Buffer
	if err := Write(&b, f, "jsonl", Options{}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != len(f.Messages)+1 {
		t.Fatalf("%d lines, want %d messages and one more:\n%s", len(lines), len(f.Messages), strings.Join(lines, "\n"))
	}
	for i, m := range f.Messages {
		var got sequence.Message
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if got.Seq != m.Seq || got.Label != m.Label || got.Kind != m.Kind || got.ReplyTo != m.ReplyTo {
			t.Errorf("line %d: %+v, want message %d", i+1, got, m.Seq)
		}
	}
	var rest map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rest); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"participants", "warnings", "findings", "inputs", "clocks"} {
		if _, ok := rest[k].([]any); !ok {
			t.Errorf("last line: %q is not an array: %v", k, rest[k])
		}
	}
	if ms, _ := rest["messages"].([]any); len(ms) != 0 {
		t.Errorf("last line repeats the messages: %v", rest["messages"])
	}
}
