package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

func TestMermaidText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /v2/images?name=cirros", "GET /v2/images?name=cirros"},
		{"POST /v3/auth/tokens: password admin@Default → project admin", "POST /v3/auth/tokens: password admin@Default → project admin"},
		{"image saved; \"quotes\"", "image saved#59; #34;quotes#34;"},
		{"a # b %% c", "a #35; b #37;#37; c"},
		{"<script>alert(1)</script>", "#60;script#62;alert(1)#60;/script#62;"},
		{"line\nbreak\r\tend", "line break  end"},
		{"end", "end"},
		{"\x1b[31mred", "#92;x1b[31mred"},
		{"a\u202eb\u2028c", "a#92;u202eb c"},
		{"", "#32;"},
		{"{json}", "#123;json#125;"},
	}
	for _, tt := range tests {
		if got := MermaidText(tt.in); got != tt.want {
			t.Errorf("MermaidText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func sample() *sequence.Flow {
	t0 := time.Date(2026, 11, 22, 12, 16, 14, 607604000, time.UTC)
	return &sequence.Flow{
		Participants: []*sequence.Participant{{ID: "C", Name: "OpenStackClient", Role: "client"}, {ID: "K", Name: "keystone", Role: "keystone"}},
		Messages: []*sequence.Message{
			{Seq: 1, Time: t0, From: "C", To: "K", Kind: "keystone.token.issue", Label: "POST /v3/auth/tokens: password admin@Default → project admin", Method: "POST", Target: "/v3/auth/tokens",
				Frames: []sequence.Frame{{File: "ens.pcap", Number: 16}}},
			{Seq: 2, Time: t0.Add(725 * time.Millisecond), From: "K", To: "C", Kind: "keystone.token.issued", Label: "201 Created: token 047cf66b0773", Status: 201, Token: "047cf66b0773", Response: true, ReplyTo: 1,
				Notes: []sequence.Note{{Over: []string{"K"}, Text: "token issued; see #22"}}, Frames: []sequence.Frame{{File: "ens.pcap", Number: 22}}},
		},
		Warnings: []string{},
		Inputs:   []string{"ens.pcap"},
	}
}

func TestWriters(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample(), "mermaid", Options{}); err != nil {
		t.Fatal(err)
	}
	want := `sequenceDiagram
    autonumber
    participant C as OpenStackClient
    participant K as keystone
    C->>K: POST /v3/auth/tokens: password admin@Default → project admin
    K-->>C: 201 Created: token 047cf66b0773
    Note over K: token issued#59; see #35;22
`
	if b.String() != want {
		t.Errorf("mermaid:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	Write(&b, sample(), "markdown", Options{Frames: true})
	if !strings.HasPrefix(b.String(), "```mermaid\n") || !strings.HasSuffix(b.String(), "```\n") || !strings.Contains(b.String(), "(frame 22)") {
		t.Errorf("markdown: %s", b.String())
	}
	b.Reset()
	Write(&b, sample(), "json", Options{})
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"participants", "messages", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("json has no %q", k)
		}
	}
	msg := m["messages"].([]any)[1].(map[string]any)
	for _, k := range []string{"seq", "time", "from", "to", "kind", "label", "status", "token", "frames", "reply_to"} {
		if _, ok := msg[k]; !ok {
			t.Errorf("json message has no %q: %v", k, msg)
		}
	}
	if msg["time"] != "2026-11-22T12:16:15.332604Z" {
		t.Errorf("time %v", msg["time"])
	}
	b.Reset()
	Write(&b, sample(), "text", Options{})
	if !strings.Contains(b.String(), "OpenStackClient ← keystone: 201 Created") {
		t.Errorf("text: %s", b.String())
	}
	b.Reset()
	Write(&b, sample(), "plantuml", Options{})
	if !strings.Contains(b.String(), "@startuml") || !strings.Contains(b.String(), "K --> C : 201 Created") {
		t.Errorf("plantuml: %s", b.String())
	}
	if err := Write(&b, sample(), "nope", Options{}); err == nil {
		t.Error("unknown format accepted")
	}
}

// errAfter fails every write after n bytes.
type errAfter struct{ n int }

func (e *errAfter) Write(p []byte) (int, error) {
	if e.n -= len(p); e.n < 0 {
		return 0, bytes.ErrTooLarge
	}
	return len(p), nil
}

func TestWriteErrorsAreReported(t *testing.T) {
	for _, f := range []string{"mermaid", "markdown", "json", "text", "plantuml"} {
		if err := Write(&errAfter{n: 10}, sample(), f, Options{}); err == nil {
			t.Errorf("%s: write error not reported", f)
		}
	}
}

// TestSummaryEscaped checks that a hostile request line cannot break out
// of the summary in any format that carries it.
func TestSummaryEscaped(t *testing.T) {
	flow := sample()
	flow.Participants[1].Role = sequence.RoleKeystone
	flow.Messages[0].Label = "x"
	flow.Messages[0].Target = "/a|b</td><script>alert(1)</script>\n%%{init}"
	flow.Messages[1].Duration = 5e6
	for _, c := range []struct {
		format string
		bad    []string
	}{
		{"markdown", []string{"a|b", "<script>", "\n%%{init}"}},
		{"mermaid", []string{"\n%%{init}", "\n<script>"}},
		{"plantuml", []string{"\n%%{init}"}},
		{"text", []string{"\n%%{init}"}},
	} {
		var b bytes.Buffer
		if err := Write(&b, flow, c.format, Options{Summary: true}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "itself") || !strings.Contains(b.String(), "/a") {
			t.Errorf("%s: no summary:\n%s", c.format, b.String())
		}
		for _, bad := range c.bad {
			if strings.Contains(b.String(), bad) {
				t.Errorf("%s: %q unescaped:\n%s", c.format, bad, b.String())
			}
		}
	}
}
