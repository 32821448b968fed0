package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestFilterSelectsCitedFrames checks, with tshark, that the display
// filter `authflow filter` prints selects exactly the frames the diagram's
// arrows cite.
func TestFilterSelectsCitedFrames(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (make deps installs it)")
	}
	for _, tc := range []struct {
		scenario string
		flags    []string
	}{
		{"image-save", nil},
		{"image-save", []string{"--token", "047cf66b0773", "--no-db"}},
		{"revoked-token", nil},
	} {
		args := scenarioArgs(tc.scenario)
		flow := analyzeJSON(t, append(slices.Clone(tc.flags), args...)...)
		cited := Filters(flow)
		for _, path := range args {
			name := filepath.Base(path)
			out, stderr, code := runCLI(t, append(append([]string{"filter", "--input", path}, tc.flags...), args...)...)
			if code != exitOK {
				t.Fatalf("filter: exit %d: %s", code, stderr)
			}
			filter := strings.TrimSpace(out)
			cmd := exec.Command(tshark, "-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number")
			var got bytes.Buffer
			cmd.Stdout = &got
			if err := cmd.Run(); err != nil {
				t.Fatalf("tshark -Y %q: %v", filter, err)
			}
			var frames []int
			for _, f := range strings.Fields(got.String()) {
				n, _ := strconv.Atoi(f)
				frames = append(frames, n)
			}
			if !slices.Equal(frames, cited[name]) {
				t.Errorf("%s %v %s: tshark selected %v, the diagram cites %v", tc.scenario, tc.flags, name, frames, cited[name])
			}
			if len(cited[name]) == 0 && name == "ens.pcap.gz" {
				t.Errorf("%s: no frames cited", name)
			}
		}
	}
}
