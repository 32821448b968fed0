package main

import (
	"os"
	"strings"
	"testing"
)

const readmePath = "../../README.md"

// readmeExampleCommand opens the README's example block; the lines after
// it are the command's real output, cut with a last line "    …".
const readmeExampleCommand = "```\n$ go run ./cmd/authflow analyze --example image-save\n"

// readmeExampleLines is how many lines of the output the README shows.
const readmeExampleLines = 32

// TestREADMEExample checks the README's example output against what the
// command prints; with -update it rewrites the block from the real output.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, readmeExampleCommand)
	if start < 0 {
		t.Fatalf("README has no block starting %q", readmeExampleCommand)
	}
	start += len(readmeExampleCommand)
	end := strings.Index(readme[start:], "```\n")
	if end < 0 {
		t.Fatal("README's example block is not closed")
	}
	end += start
	out, stderr, code := runCLI(t, "analyze", "--example", "image-save")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	real := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if *update {
		shown := strings.Join(real[:min(readmeExampleLines, len(real))], "\n") + "\n"
		if len(real) > readmeExampleLines {
			shown += "    …\n"
		}
		readme = readme[:start] + shown + readme[end:]
		if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	shown := strings.Split(strings.TrimSuffix(readme[start:end], "\n"), "\n")
	if n := len(shown); n > 0 && shown[n-1] == "    …" {
		shown = shown[:n-1]
	}
	if len(shown) < 10 {
		t.Fatalf("the README shows only %d lines of the example", len(shown))
	}
	for i, line := range shown {
		if i >= len(real) || real[i] != line {
			got := ""
			if i < len(real) {
				got = real[i]
			}
			t.Fatalf("README example line %d:\n  README: %s\n  real:   %s\n(go test ./cmd/authflow -run TestREADMEExample -update rewrites it)", i+1, line, got)
		}
	}
}
