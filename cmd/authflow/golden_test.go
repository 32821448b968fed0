package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const capturesDir = "../../testdata/captures"
const goldenDir = "../../testdata/golden"

// scenarios lists the recorded scenarios in testdata/captures.
func scenarios(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(capturesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// scenarioArgs returns the analyze arguments of a scenario: its two
// interfaces (ens.pcap, lo.pcap), merged; a scenario recorded only as one
// pcapng of both interfaces (kernel-drops) has that file instead.
func scenarioArgs(name string) []string {
	dir := filepath.Join(capturesDir, name)
	if _, err := os.Stat(filepath.Join(dir, "ens.pcap.gz")); err != nil {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng.gz"))
		return files
	}
	return []string{filepath.Join(dir, "ens.pcap.gz"), filepath.Join(dir, "lo.pcap.gz")}
}

// scenarioFlags returns the extra analyze flags of a scenario: its strace
// logs of glance, where recorded.
func scenarioFlags(name string) []string {
	logs, _ := filepath.Glob(filepath.Join(capturesDir, name, "glance.strace.*"))
	if len(logs) == 0 {
		return nil
	}
	return []string{"--strace", filepath.Join(capturesDir, name, "glance.strace.*")}
}

// runCLI runs authflow with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(normalizeArgs(args))
	code := exitOK
	if err := root.Execute(); err != nil {
		code = exitFailure
		if ce, ok := err.(*exitCodeError); ok {
			code = ce.code
		} else if isUsage(err) {
			code = exitUsage
		}
		errb.WriteString(err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/authflow -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./cmd/authflow -update and review the diff):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func TestGoldenScenarios(t *testing.T) {
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			for _, format := range []string{"mermaid", "json"} {
				args := append([]string{"analyze", "-f", format}, scenarioFlags(name)...)
				out, stderr, code := runCLI(t, append(args, scenarioArgs(name)...)...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				ext := map[string]string{"mermaid": ".mmd", "json": ".json"}[format]
				golden(t, name+ext, out)
			}
		})
	}
}

// TestGoldenLiveCapture checks a capture authflow made itself in the lab
// (`authflow capture -i veth-ctl -i lo --trace-files --comm glance-api`
// around `openstack image save`): its pcapng and the eBPF file events in
// the sidecar beside it, found by analyze on its own.
func TestGoldenLiveCapture(t *testing.T) {
	capture := "../../testdata/live/image-save.pcapng.gz"
	for _, format := range []string{"mermaid", "json"} {
		out, stderr, code := runCLI(t, "analyze", "-f", format, capture)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		ext := map[string]string{"mermaid": ".mmd", "json": ".json"}[format]
		golden(t, "live-image-save"+ext, out)
		if format == "mermaid" && !strings.Contains(out, "read 4.3 MiB in 70 reads") {
			t.Errorf("the file reads are not drawn")
		}
	}
}
