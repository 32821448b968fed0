package main

import (
	"strings"
	"testing"
)

// TestSelectionMatchingNothing checks that a selection naming what the
// capture does not have says so, lists what it has, and fails (usage, exit
// 2) when nothing is left to show; a name among several that matches
// nothing is a warning.
func TestSelectionMatchingNothing(t *testing.T) {
	imageSave := scenarioArgs("image-save")
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr []string // all must be on stderr
		stdout string   // must be on stdout ("" for nothing at all)
	}{
		{"participant", []string{"analyze", "--participant", "nosuch"}, exitUsage,
			[]string{"--participant nosuch matches no participant", "keystone", "glance DB"}, ""},
		{"one participant of two", []string{"analyze", "--participant", "nosuch", "--participant", "memcached"}, exitOK,
			[]string{"warning: --participant nosuch matches no participant"}, "participant M as memcached"},
		{"token", []string{"analyze", "--token", "ffffffffffff"}, exitUsage,
			[]string{"--token ffffffffffff matches no token", "047cf66b0773"}, ""},
		{"image", []string{"analyze", "--image", "nosuch"}, exitUsage,
			[]string{"--image nosuch matches no image", "cirros"}, ""},
		{"window", []string{"analyze", "--since", "+1h"}, exitUsage,
			[]string{"--since/--until", "keep no message", "2026-11-"}, ""},
		{"combination", []string{"analyze", "--token", "047cf66b0773", "--no-db", "--participant", "keystone DB"}, exitUsage,
			[]string{"the selection keeps none of the"}, ""},
		{"token found", []string{"analyze", "--token", "047cf66b0773"}, exitOK, nil, "sequenceDiagram"},
		{"filter token", []string{"filter", "--token", "ffffffffffff"}, exitUsage,
			[]string{"--token ffffffffffff matches no token"}, ""},
		{"filter input", []string{"filter", "--input", "nosuch.pcap"}, exitUsage,
			[]string{"--input nosuch.pcap names no capture file", "ens.pcap.gz", "lo.pcap.gz"}, ""},
		{"filter input found", []string{"filter", "--input", "lo.pcap.gz"}, exitOK, nil, "frame.number in {"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, append(c.args, imageSave...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr)
				}
			}
			if c.stdout == "" && out != "" {
				t.Errorf("output written although nothing was selected:\n%.300s", out)
			}
			if !strings.Contains(out, c.stdout) {
				t.Errorf("no %q in the output:\n%.300s", c.stdout, out)
			}
		})
	}
}

// TestMemcacheSecretThatTiesNothing checks that a --memcache-secret that
// ties no cache key to a token says so.
func TestMemcacheSecretThatTiesNothing(t *testing.T) {
	for _, c := range []struct {
		scenario, secret string
		warn             string // "" for none
	}{
		{"memcache-encrypt", "lab-secret-key", ""},
		{"memcache-encrypt", "wrong-secret", "--memcache-secret ties none of the"},
		{"image-save", "lab-secret-key", "--memcache-secret: no cache key in the capture is protected"},
	} {
		t.Run(c.scenario+"/"+c.secret, func(t *testing.T) {
			flow := analyzeJSON(t, append([]string{"--memcache-secret", c.secret}, scenarioArgs(c.scenario)...)...)
			got := strings.Join(flow.Warnings, "\n")
			if c.warn == "" && strings.Contains(got, "memcache-secret") {
				t.Errorf("warns with the right secret: %s", got)
			}
			if c.warn != "" && !strings.Contains(got, c.warn) {
				t.Errorf("no warning %q in %q", c.warn, got)
			}
		})
	}
}
