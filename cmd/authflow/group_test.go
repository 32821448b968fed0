package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow/sequence"
)

// TestGoldenGroupStorms: the lab's two storms drawn with --group. The
// golden files are also rendered by Mermaid in Chromium
// (TestGoldenMermaidRenders renders every golden .mmd).
func TestGoldenGroupStorms(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string // labels the grouped diagram must have
	}{
		// One token, 20 image lists: the first a cache miss and a
		// validation, the 19 others cache hits.
		{"token-storm", []string{"GET /v2/images: list images ×19", "cache hits 19/19 (100#37;)", "3.0 statements per request", "p50 "}},
		// 20 `openstack image list`, each with a new token: every
		// step ×20, every lookup a miss.
		{"image-list-storm", []string{"GET /v3 ×20", "POST /v3/auth/tokens: password admin@Default → project admin@Default ×20", "GET /v2/images: list images ×20", "cache hits 0/20 (0#37;)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, append([]string{"analyze", "--group"}, scenarioArgs(c.name)...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the grouped diagram has no %q:\n%s", w, out)
				}
			}
			golden(t, c.name+".group.mmd", out)
		})
	}
}

// TestAutoGroup: a diagram longer than Mermaid draws is grouped, with a
// warning saying so; a short one, or JSON, is not.
func TestAutoGroup(t *testing.T) {
	big := &sequence.Flow{Participants: []*sequence.Participant{{ID: "C", Name: "client", Role: sequence.RoleClient}, {ID: "G", Name: "glance", Role: sequence.RoleGlance}}}
	for i := range 2000 {
		req := &sequence.Message{Seq: 2*i + 1, From: "C", To: "G", Kind: sequence.KindHTTPRequest, Method: "GET", Target: "/v2/images", Label: "GET /v2/images: list images"}
		big.Messages = append(big.Messages, req, &sequence.Message{Seq: 2*i + 2, From: "G", To: "C", Kind: sequence.KindHTTPResponse, Status: 200, ReplyTo: req.Seq, Response: true, Label: "200 OK: 1 image"})
	}
	for _, c := range []struct {
		format string
		n      int
		warn   bool
	}{{"mermaid", 2, true}, {"html", 2, true}, {"json", 4000, false}, {"text", 4000, false}} {
		var stderr bytes.Buffer
		cmd := &cobra.Command{}
		cmd.SetErr(&stderr)
		g := grouped(cmd, big, c.format, false)
		if len(g.Messages) != c.n || strings.Contains(stderr.String(), "more than the 50000 Mermaid draws") != c.warn {
			t.Errorf("%s: %d messages, stderr %q; want %d messages, warning %v", c.format, len(g.Messages), stderr.String(), c.n, c.warn)
		}
	}
	small := &sequence.Flow{Participants: big.Participants, Messages: big.Messages[:20]}
	if g := grouped(&cobra.Command{}, small, "mermaid", false); len(g.Messages) != 20 {
		t.Errorf("a short diagram was grouped: %d messages", len(g.Messages))
	}
}
