package main

import (
	"encoding/json"
	"github.com/authflow/authflow/sequence/browser/browsertest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nonOpenStackCaptures writes an empty capture and one holding only an ssh
// connection: captures with nothing authflow draws.
func nonOpenStackCaptures(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pcap")
	if err := os.WriteFile(empty, newCapFile().pcap(), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newCapFile()
	c := newConn(f, "198.18.0.100:40022", "198.18.0.11:22")
	c.handshake()
	c.sendString(false, "SSH-2.0-OpenSSH_9.2p1\r\n")
	c.sendString(true, "SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
	c.close()
	ssh := filepath.Join(dir, "ssh.pcap")
	if err := os.WriteFile(ssh, f.pcap(), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"empty": empty, "ssh": ssh}
}

// TestJSONListsAreArrays checks that the documented lists of the JSON
// output are arrays even when empty, never null or missing.
func TestJSONListsAreArrays(t *testing.T) {
	for name, path := range nonOpenStackCaptures(t) {
		t.Run(name, func(t *testing.T) {
			out, stderr, code := runCLI(t, "analyze", "-f", "json", path)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"participants", "messages", "warnings", "findings", "inputs", "clocks"} {
				if v := strings.TrimSpace(string(m[k])); !strings.HasPrefix(v, "[") {
					t.Errorf("%q is %q, want an array", k, v)
				}
			}
		})
	}
	// A selection that keeps no participant's endpoint still has arrays,
	// and so do the findings' evidence lists.
	out, _, _ := runCLI(t, "analyze", "-f", "json", "--example", "image-list-cold")
	var flow struct {
		Participants []map[string]json.RawMessage `json:"participants"`
		Findings     []map[string]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &flow); err != nil {
		t.Fatal(err)
	}
	for _, p := range flow.Participants {
		if v := string(p["endpoints"]); !strings.HasPrefix(v, "[") {
			t.Errorf("participant %s: endpoints %q", p["name"], v)
		}
	}
	for _, f := range flow.Findings {
		for _, k := range []string{"messages", "frames"} {
			if v := string(f[k]); !strings.HasPrefix(v, "[") {
				t.Errorf("finding %s: %s %q", f["kind"], k, v)
			}
		}
	}
}

// TestHTMLSaysWhetherTokensAreWhole checks the page's header: fingerprints
// by default, whole tokens with --show-secrets.
func TestHTMLSaysWhetherTokensAreWhole(t *testing.T) {
	for _, c := range []struct {
		args      []string
		want, not string
	}{
		{nil, "Tokens are shown as fingerprints", "whole"},
		{[]string{"--show-secrets"}, "Tokens are shown whole", "Tokens are shown as fingerprints"},
	} {
		out, stderr, code := runCLI(t, append([]string{"analyze", "-f", "html", "--example", "token-issue"}, c.args...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		header, _, _ := strings.Cut(out, `<pre class="mermaid"`)
		if i := strings.LastIndex(header, "</script>"); i >= 0 {
			header = header[i:]
		}
		if !strings.Contains(header, c.want) || strings.Contains(header, c.not) {
			t.Errorf("%v: the page header does not say %q (or says %q)", c.args, c.want, c.not)
		}
	}
}

// TestSummaryInsideFormat checks that --summary adds the table to the
// chosen format instead of replacing it: the diagram (or JSON) stays and
// the summary is in it, in that format's own way (svg and png: on stderr).
func TestSummaryInsideFormat(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		format string
		check  func(t *testing.T, out, stderr string)
	}{
		{"json", func(t *testing.T, out, _ string) {
			var flow struct {
				Messages []json.RawMessage `json:"messages"`
				Summary  []struct {
					Seq     int                `json:"seq"`
					Request string             `json:"request"`
					TotalMS float64            `json:"total_ms"`
					Spent   map[string]float64 `json:"spent_ms"`
				} `json:"summary"`
			}
			if err := json.Unmarshal([]byte(out), &flow); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if len(flow.Messages) == 0 || len(flow.Summary) == 0 || flow.Summary[0].Request == "" || flow.Summary[0].TotalMS <= 0 {
				t.Errorf("messages %d, summary %+v", len(flow.Messages), flow.Summary)
			}
		}},
		{"markdown", func(t *testing.T, out, _ string) {
			mustContain(t, out, "```mermaid\nsequenceDiagram\n", "\n## Summary\n", "\n| # | request | status | total |", "\n|---|")
		}},
		{"text", func(t *testing.T, out, _ string) {
			mustContain(t, out, "OpenStackClient → keystone", "\nsummary: where each request's time went\n#   request", "itself")
		}},
		{"mermaid", func(t *testing.T, out, _ string) {
			mustContain(t, out, "sequenceDiagram\n", "\n%% summary: where each request's time went\n%% #   request", "itself")
			path := filepath.Join(dir, "summary.mmd")
			os.WriteFile(path, []byte(out), 0o600)
			browsertest.CheckMermaidFiles(t, path)
		}},
		{"plantuml", func(t *testing.T, out, _ string) {
			mustContain(t, out, "@startuml\n", "\n' summary: where each request's time went\n' #   request", "itself")
			if !strings.HasSuffix(out, "@enduml\n") {
				t.Error("does not end with @enduml")
			}
		}},
		{"html", func(t *testing.T, out, _ string) {
			mustContain(t, out, `<pre class="mermaid"`, "<table class=\"summary\">", "<th>request</th>")
		}},
		{"svg", func(t *testing.T, out, stderr string) {
			mustContain(t, out, "<svg")
			mustContain(t, stderr, "summary: where each request's time went\n#   request", "itself")
		}},
		{"jsonl", func(t *testing.T, out, _ string) {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			var rest struct {
				Summary []json.RawMessage `json:"summary"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rest); err != nil || len(lines) < 2 || len(rest.Summary) == 0 {
				t.Errorf("the last line has no summary (%v): %.300s", err, lines[len(lines)-1])
			}
		}},
		{"otlp", func(t *testing.T, out, stderr string) {
			mustContain(t, out, `"resourceSpans"`)
			mustContain(t, stderr, "summary: where each request's time went\n#   request", "itself")
		}},
		{"png", func(t *testing.T, out, stderr string) {
			if !strings.HasPrefix(out, "\x89PNG") {
				t.Errorf("not a PNG: %q", out[:min(len(out), 40)])
			}
			mustContain(t, stderr, "summary: where each request's time went\n#   request", "itself")
		}},
	} {
		t.Run(c.format, func(t *testing.T) {
			if c.format == "svg" || c.format == "png" {
				browsertest.Find(t)
			}
			out := filepath.Join(dir, "summary."+c.format)
			_, stderr, code := runCLI(t, "analyze", "--example", "image-save", "--summary", "-f", c.format, "-o", out)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, string(data), stderr)
		})
	}
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("no %q in:\n%.600s", sub, s)
		}
	}
}

// TestImageNeedsCJKFont checks that svg and png of Chinese notes fail with
// a clear error when no installed font draws Chinese, instead of drawing
// boxes; fontconfig is pointed at a configuration with Latin fonts only.
func TestImageNeedsCJKFont(t *testing.T) {
	browsertest.Find(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "fonts.conf")
	os.WriteFile(conf, []byte(`<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>`+dir+`/cache</cachedir></fontconfig>
`), 0o600)
	t.Setenv("FONTCONFIG_FILE", conf)
	for _, format := range []string{"svg", "png"} {
		out := filepath.Join(dir, "zh."+format)
		_, stderr, code := runCLI(t, "analyze", "--example", "image-save", "--lang", "zh", "-o", out)
		if code != exitFailure || !strings.Contains(stderr, "no installed font draws") || !strings.Contains(stderr, "fonts-wqy-microhei") {
			t.Errorf("%s: exit %d: %s", format, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s written", format, out)
		}
	}
	// English notes need no CJK font.
	if _, stderr, code := runCLI(t, "analyze", "--example", "token-issue", "-o", filepath.Join(dir, "en.svg")); code != exitOK {
		t.Errorf("en: exit %d: %s", code, stderr)
	}
}
