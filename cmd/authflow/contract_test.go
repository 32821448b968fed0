package main

import (
	"strings"
	"testing"
)

// TestCLIContract checks the commands and flags the issues specify (and
// README documents): others rely on them, so they may be added to, never
// renamed.
func TestCLIContract(t *testing.T) {
	root := newRootCmd()
	want := map[string][]string{
		"analyze": {"output", "o", "format", "f", "alias", "example", "detail", "memcache-secret", "show-secrets", "timing", "summary",
			"frames", "token", "image", "participant", "since", "until", "no-db", "no-cache", "lang", "quiet", "q", "strace", "path-prefix",
			"findings", "clock-sync", "max-connections", "body-limit"},
		"capture": {"interface", "i", "ports", "all", "write", "w", "duration", "count", "c", "trace-files", "comm", "pid", "cgroup",
			"path-prefix", "output", "o", "format", "f", "buffer-size"},
		"filter": {"input", "token", "image", "no-db", "no-cache", "since", "until"},
	}
	for name, flags := range want {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Errorf("no %s command", name)
			continue
		}
		for _, f := range flags {
			if len(f) == 1 {
				if cmd.Flags().ShorthandLookup(f) == nil {
					t.Errorf("%s: no -%s", name, f)
				}
			} else if cmd.Flags().Lookup(f) == nil {
				t.Errorf("%s: no --%s", name, f)
			}
		}
		if cmd.Example == "" {
			t.Errorf("%s --help has no examples", name)
		}
	}
	out, _, code := runCLI(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "authflow ") {
		t.Errorf("--version: %q (exit %d)", out, code)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out, _, code := runCLI(t, "completion", shell); code != exitOK || len(out) < 100 {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
	if _, _, code := runCLI(t, "analyze", "--no-such-flag"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := runCLI(t, "analyze"); code != exitUsage {
		t.Errorf("no capture: exit %d, want %d", code, exitUsage)
	}
	if _, stderr, code := runCLI(t, "analyze", "../../README.md"); code != exitFailure || !strings.Contains(stderr, "README.md: not a pcap or pcapng file") {
		t.Errorf("not a capture: exit %d, %q", code, stderr)
	}
}
