package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow"
	"github.com/authflow/authflow/capture/filetrace"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/sequence/browser/browsertest"
	"github.com/authflow/authflow/sequence/render"
)

// foreignFlags are flags the README mentions of other tools in spans that
// do not name the tool: strace's -ttt/-T/-ff and go test's -update.
var foreignFlags = []string{"-tt", "-ttt", "-T", "-ff", "-update"}

// readmeFlags returns every authflow flag the README names in `code`: the
// flag tables, the prose, the usage lines. Spans that start with another
// command (`strace -f -tt`, `sudo lab/setup.sh --tls`) are that command's.
func readmeFlags(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	span := regexp.MustCompile("`[^`\n]+`")
	flag := regexp.MustCompile(`(?:^|[\s(,/|])(--?[a-zA-Z][a-zA-Z0-9-]*)`)
	var out []string
	for _, s := range span.FindAllString(string(b), -1) {
		s = strings.Trim(s, "`")
		words := strings.Fields(strings.TrimPrefix(s, "sudo "))
		if len(words) > 1 && !strings.HasPrefix(words[0], "-") && words[0] != "authflow" {
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(foreignFlags, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readmeValues returns the backticked words of the README table row whose
// first cell mentions flag: the values it documents.
func readmeValues(t *testing.T, flag string) []string {
	t.Helper()
	b, _ := os.ReadFile(readmePath)
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 2 || !strings.Contains(cells[0], "`"+flag) {
			continue
		}
		var vals []string
		for _, m := range regexp.MustCompile("`([a-z0-9-]+)`").FindAllStringSubmatch(strings.Join(cells[1:], " | "), -1) {
			vals = append(vals, m[1])
		}
		return vals
	}
	t.Fatalf("README has no table row for %s", flag)
	return nil
}

// outputKind checks that out is of the named kind.
func outputKind(t *testing.T, kind, out string) {
	t.Helper()
	ok := false
	switch kind {
	case "mermaid":
		ok = strings.HasPrefix(out, "sequenceDiagram\n") && strings.Contains(out, "->>")
	case "markdown":
		ok = strings.HasPrefix(out, "```mermaid\nsequenceDiagram\n")
	case "json":
		var f struct {
			Messages []json.RawMessage `json:"messages"`
		}
		ok = json.Unmarshal([]byte(out), &f) == nil && len(f.Messages) > 0
	case "jsonl":
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		ok = len(lines) > 1
		for _, l := range lines {
			ok = ok && json.Valid([]byte(l))
		}
	case "otlp":
		var f struct {
			ResourceSpans []json.RawMessage `json:"resourceSpans"`
		}
		ok = json.Unmarshal([]byte(out), &f) == nil && len(f.ResourceSpans) > 0
	case "text":
		ok = strings.Contains(out, " → ") && !strings.Contains(out, "->>")
	case "plantuml":
		ok = strings.HasPrefix(out, "@startuml\n") && strings.HasSuffix(out, "@enduml\n")
	case "html":
		ok = strings.HasPrefix(out, "<!DOCTYPE html>") && strings.Contains(out, `<pre class="mermaid"`)
	case "svg":
		ok = strings.Contains(out, "<svg")
	case "png":
		ok = strings.HasPrefix(out, "\x89PNG")
	case "filter":
		ok = strings.Contains(out, "frame.number in {")
	case "completion":
		ok = len(out) > 100
	case "version":
		ok = strings.HasPrefix(out, "authflow ")
	case "none":
		ok = true
	default:
		t.Fatalf("unknown output kind %q", kind)
	}
	if !ok {
		t.Errorf("output is not %s:\n%.300s", kind, out)
	}
}

// flagCase runs authflow with args and expects the exit code and the kind
// of output (on stdout, or in the file -o names).
type flagCase struct {
	args []string
	code int
	kind string
	// root: a live capture, run only with the privileges for it.
	root bool
}

// memcacheSecretFile writes the lab's memcache secret key to a file in dir.
func memcacheSecretFile(t *testing.T, dir string) string {
	p := filepath.Join(dir, "memcache-secret")
	if err := os.WriteFile(p, []byte("lab-secret-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestREADMEFlags runs every flag the README documents, with every value it
// lists, on a real capture. A flag named in the README without a case here
// fails the test, and so does one that no authflow command has.
func TestREADMEFlags(t *testing.T) {
	dir := t.TempDir()
	capture := scenarioArgs("image-save")
	strace := filepath.Join(capturesDir, "image-save", "glance.strace.*")
	// an runs analyze on the capture; kinds other than mermaid are asked
	// for with -f unless args choose the format.
	an := func(kind string, args ...string) flagCase {
		full := []string{"analyze"}
		if kind != "mermaid" && !slices.ContainsFunc(args, func(a string) bool { return a == "-f" || a == "--format" || a == "-o" || a == "--output" }) {
			full = append(full, "-f", kind)
		}
		return flagCase{args: append(append(full, args...), capture...), code: exitOK, kind: kind}
	}
	idle := exec.Command("sleep", "600")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idle.Process.Kill(); _, _ = idle.Process.Wait() })
	// A cgroup v2 directory: the root of the hierarchy (hybrid systems
	// mount it at /sys/fs/cgroup/unified).
	cg := "/sys/fs/cgroup"
	if (filetrace.Options{CgroupPath: cg}).Validate() != nil {
		cg = "/sys/fs/cgroup/unified"
	}
	sink := newOTLPSink(t)
	otlp := func(args ...string) flagCase {
		return flagCase{args: append(append([]string{"analyze", "--otlp-endpoint", sink.plain.URL}, args...), capture...), code: exitOK, kind: "none"}
	}
	otlpTLS := func(args ...string) flagCase {
		return flagCase{args: append(append([]string{"analyze", "--otlp-endpoint", sink.tls.URL}, args...), capture...), code: exitOK, kind: "none"}
	}
	liveCase := func(args ...string) flagCase {
		return flagCase{args: append([]string{"capture", "-i", "lo", "--duration", "200ms", "-w", filepath.Join(dir, "live.pcapng")}, args...), code: exitOK, kind: "none", root: true}
	}
	cases := map[string][]flagCase{
		"-o":       {an("json", "-o", filepath.Join(dir, "o.json"))},
		"--output": {an("mermaid", "--output", filepath.Join(dir, "o.mmd")), an("html", "--output", filepath.Join(dir, "o.html"))},
		"--alias": {an("mermaid", "--alias", "198.18.0.11=controller"), an("mermaid", "--alias", "198.18.0.11:9292=glance-api"),
			{args: []string{"analyze", "--alias", "nonsense"}, code: exitUsage, kind: "none"}},
		"--detail": {an("json", "--detail"), an("json", "--detail", "1"), an("json", "--detail=2"), an("json", "--detail", "0"),
			{args: append([]string{"analyze", "--detail=3"}, capture...), code: exitUsage, kind: "none"}},
		"--timing":   {an("text", "--timing", "-f", "text")},
		"--findings": {an("text", "--findings", "-f", "text"), an("markdown", "--findings", "-f", "markdown")},
		"--summary":  {an("text", "--summary", "-f", "text"), an("json", "--summary", "-f", "json")},
		"--frames":   {an("mermaid", "--frames")},
		"--tls-keylog": {
			{args: []string{"analyze", "--tls-keylog", "../../testdata/tls/tls-token-issue/keys.txt", "../../testdata/tls/tls-token-issue/ens.pcap.gz"}, code: exitOK, kind: "mermaid"},
			{args: []string{"analyze", "../../testdata/tls/tls-token-issue/ens.pcap.gz"}, code: exitPartial, kind: "mermaid"},
		},
		"--group":                     {an("mermaid", "--group"), an("html", "--group", "-f", "html")},
		"--token":                     {an("mermaid", "--token", "047cf66b0773")},
		"--image":                     {an("mermaid", "--image", "c6bca20f")},
		"--participant":               {an("mermaid", "--participant", "memcached")},
		"--since":                     {an("mermaid", "--since", "+1s"), an("mermaid", "--since", "ens.pcap.gz:30")},
		"--until":                     {an("mermaid", "--until", "+2s"), an("mermaid", "--until", "100")},
		"--no-db":                     {an("mermaid", "--no-db")},
		"--no-cache":                  {an("mermaid", "--no-cache")},
		"--memcache-secret":           {{args: append([]string{"analyze", "--memcache-secret", "lab-secret-key"}, scenarioArgs("memcache-encrypt")...), code: exitOK, kind: "mermaid"}},
		"--strace":                    {an("json", "--strace", strace)},
		"--path-prefix":               {an("json", "--strace", strace, "--path-prefix", "/var/lib/glance"), an("json", "--strace", strace, "--path-prefix", "")},
		"--show-secrets":              {an("mermaid", "--show-secrets")},
		"--body-limit":                {an("mermaid", "--body-limit", "64KiB"), an("mermaid", "--body-limit", "1048576")},
		"--max-memory":                {an("mermaid", "--max-memory", "512MiB")},
		"--max-input":                 {an("json", "--max-input", "20GiB"), {args: append([]string{"analyze", "--max-input", "1KiB"}, capture...), code: exitPartial, kind: "mermaid"}},
		"--memcache-secret-file":      {{args: append([]string{"analyze", "--memcache-secret-file", memcacheSecretFile(t, dir)}, scenarioArgs("memcache-encrypt")...), code: exitOK, kind: "mermaid"}},
		"--max-connections":           {an("mermaid", "--max-connections", "100")},
		"--max-events":                {an("mermaid", "--max-events", "100000")},
		"-q":                          {an("mermaid", "-q")},
		"--quiet":                     {an("mermaid", "--quiet")},
		"--input":                     {{args: append([]string{"filter", "--input", "lo.pcap.gz"}, capture...), code: exitOK, kind: "filter"}},
		"--cpuprofile":                {an("mermaid", "--cpuprofile", filepath.Join(dir, "cpu.pprof"))},
		"--memprofile":                {an("mermaid", "--memprofile", filepath.Join(dir, "mem.pprof"))},
		"--otlp-endpoint":             {otlp(), an("mermaid", "--otlp-endpoint", sink.plain.URL, "-f", "mermaid"), {args: []string{"analyze", "--otlp-endpoint", "nowhere"}, code: exitUsage, kind: "none"}},
		"--otlp-header":               {otlp("--otlp-header", "Authorization=Bearer x")},
		"--otlp-ca":                   {otlpTLS("--otlp-ca", sink.caFile)},
		"--otlp-cert":                 {otlpTLS("--otlp-ca", sink.caFile, "--otlp-cert", sink.certFile, "--otlp-key", sink.keyFile)},
		"--otlp-key":                  {otlpTLS("--otlp-ca", sink.caFile, "--otlp-cert", sink.certFile, "--otlp-key", sink.keyFile)},
		"--otlp-insecure-skip-verify": {otlpTLS("--otlp-insecure-skip-verify")},
		"--otlp-retry":                {otlp("--otlp-retry", "5s")},
		"--otlp-queue":                {otlp("--otlp-queue", "100")},
		// capture: live on lo, as root.
		"-i":            {liveCase()},
		"--duration":    {liveCase()},
		"-w":            {liveCase()},
		"--buffer-size": {liveCase("--buffer-size", "8"), liveCase("--buffer-size", "16MiB")},
		"--ports":       {liveCase("--ports", "5000,9292")},
		"--all":         {liveCase("--all")},
		"--trace-files": {liveCase("--trace-files")},
		"--pid":         {liveCase("--trace-files", "--pid", strconv.Itoa(idle.Process.Pid))},
		"--comm":        {liveCase("--trace-files", "--comm", "glance-api")},
		"--cgroup":      {liveCase("--trace-files", "--cgroup", cg)},
		"--version":     {{args: []string{"--version"}, code: exitOK, kind: "version"}},
	}
	for _, f := range render.Formats {
		cases["-f"] = append(cases["-f"], an(f, "-f", f))
		cases["--format"] = append(cases["--format"], an(f, "--format", f))
	}
	for _, l := range []string{"en", "zh"} {
		cases["--lang"] = append(cases["--lang"], an("mermaid", "--lang", l))
	}
	for _, m := range []string{"auto", "off"} {
		cases["--clock-sync"] = append(cases["--clock-sync"], an("mermaid", "--clock-sync", m))
	}
	for _, ex := range authflow.Examples() {
		cases["--example"] = append(cases["--example"], flagCase{args: []string{"analyze", "--example", ex}, code: exitOK, kind: "mermaid"})
	}

	// The values the README lists are the ones the program has.
	for flag, want := range map[string][]string{"--example": authflow.Examples(), "-f, --format": render.Formats} {
		got := readmeValues(t, flag)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("README's %s row does not list %q", flag, w)
			}
		}
	}

	root := newRootCmd()
	privileged := live.CheckPrivileges() == nil && filetrace.Check() == nil
	for _, flag := range readmeFlags(t) {
		known := false
		for _, name := range []string{"analyze", "capture", "filter"} {
			c, _, _ := root.Find([]string{name})
			name := strings.TrimLeft(flag, "-")
			if len(name) == 1 && c.Flags().ShorthandLookup(name) != nil || len(name) > 1 && c.Flags().Lookup(name) != nil {
				known = true
			}
		}
		if flag == "--version" {
			known = true
		}
		if !known {
			t.Errorf("README documents %s, which no authflow command has", flag)
			continue
		}
		cs, ok := cases[flag]
		if !ok {
			t.Errorf("README documents %s but this test has no case running it", flag)
			continue
		}
		for i, c := range cs {
			t.Run(flag+"/"+strconv.Itoa(i), func(t *testing.T) {
				if c.root && !privileged {
					t.Skip("live capture and file tracing need root")
				}
				if c.kind == "svg" || c.kind == "png" {
					browsertest.Find(t)
				}
				if c.root && flag == "--cgroup" && (filetrace.Options{CgroupPath: cg}).Validate() != nil {
					t.Skip("no cgroup v2 hierarchy")
				}
				out, stderr, code := runCLI(t, c.args...)
				if code != c.code {
					t.Fatalf("%v: exit %d, want %d: %s", c.args, code, c.code, stderr)
				}
				if i := slices.IndexFunc(c.args, func(a string) bool { return a == "-o" || a == "--output" }); i >= 0 {
					b, err := os.ReadFile(c.args[i+1])
					if err != nil {
						t.Fatal(err)
					}
					out = string(b)
				}
				if code == exitOK {
					outputKind(t, c.kind, out)
				}
			})
		}
	}
}

// readmeCommands returns the authflow command lines of the README's code
// blocks (fenced or indented), the ones inside $(…) included, without
// comments, pipes and sudo.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if !inFence && !strings.HasPrefix(line, "    ") {
			continue
		}
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "$(authflow "); i >= 0 {
			line = line[i+2 : strings.Index(line[i:], ")")+i]
		}
		line = strings.TrimPrefix(strings.TrimPrefix(line, "$ "), "sudo ")
		line = strings.Replace(line, "go run ./cmd/authflow ", "authflow ", 1)
		if !strings.HasPrefix(line, "authflow ") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// TestREADMECommands runs the README's own example commands on the real
// captures their file names stand for, and checks the exit code and the
// format of what they write.
func TestREADMECommands(t *testing.T) {
	dir := t.TempDir()
	save := filepath.Join(capturesDir, "image-save")
	files := map[string]string{
		"ens.pcap":          filepath.Join(save, "ens.pcap.gz"),
		"lo.pcap":           filepath.Join(save, "lo.pcap.gz"),
		"capture.pcap":      filepath.Join(save, "ens.pcap.gz"),
		"any.pcapng":        filepath.Join(save, "both.pcapng.gz"),
		"save.pcapng":       filepath.Join(save, "both.pcapng.gz"),
		"'glance.strace.*'": filepath.Join(save, "glance.strace.*"),
		"keys.txt":          "../../testdata/tls/tls-token-issue/keys.txt",
	}
	sink := newOTLPSink(t)
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("found only %d authflow commands in the README: %q", len(cmds), cmds)
	}
	ran := 0
	for _, line := range cmds {
		t.Run(line, func(t *testing.T) {
			line, pipe, _ := strings.Cut(line, " | ")
			args := strings.Fields(line)[1:]
			switch {
			case strings.Contains(line, "[flags]") || strings.Contains(line, "..."):
				t.Skip("a synopsis")
			case args[0] == "capture":
				t.Skip("a live capture: TestREADMEFlags runs its flags")
			case args[0] == "completion":
				args = args[:2]
				args[1] = strings.Split(args[1], "|")[0]
			}
			kind := "mermaid"
			if slices.Contains(args, "--otlp-endpoint") && !slices.ContainsFunc(args, func(a string) bool { return a == "-o" || a == "-f" }) {
				kind = "none" // the traces are sent, no diagram is written
			}
			for i, a := range args {
				// Traces go to the test's OTLP receiver, wherever the
				// README sends them.
				if a == "--otlp-endpoint" && i+1 < len(args) {
					args[i+1] = sink.plain.URL
				}
				// A recording's files, wherever the README puts them.
				if p, ok := files[filepath.Base(a)]; ok {
					args[i] = p
				}
				if (a == "-o" || a == "--output") && i+1 < len(args) {
					args[i+1] = filepath.Join(dir, args[i+1])
					kind = formatFromPath(args[i+1])
				}
				if (a == "-f" || a == "--format") && i+1 < len(args) {
					kind = args[i+1]
				}
			}
			switch args[0] {
			case "filter":
				kind = "filter"
			case "completion":
				kind = "completion"
			case "--version":
				kind = "version"
			}
			out, stderr, code := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			if i := slices.IndexFunc(args, func(a string) bool { return a == "-o" || a == "--output" }); i >= 0 {
				b, err := os.ReadFile(args[i+1])
				if err != nil {
					t.Fatal(err)
				}
				out = string(b)
			}
			outputKind(t, kind, out)
			if pipe == "jq .messages" && !strings.Contains(out, `"messages": [`) {
				t.Errorf("no messages array for jq")
			}
			ran++
		})
	}
	if ran < 8 {
		t.Errorf("ran only %d of the README's commands", ran)
	}
}
