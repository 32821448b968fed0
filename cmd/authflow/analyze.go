package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authflow/authflow"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/secrets"
	"github.com/authflow/authflow/decode/stream"
	"github.com/authflow/authflow/pipeline"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/findings"
	"github.com/authflow/authflow/sequence/render"
)

// inputOptions say what to read and how to correlate it; analyze and
// filter share them.
type inputOptions struct {
	aliases        []string
	example        string
	detail         int
	memcacheSecret string
	// memcacheSecretFile names a file holding the memcache secret key.
	memcacheSecretFile string
	showSecrets        bool
	timing             bool
	lang               string
	bodyLimit          byteSize
	maxConns           int
	maxMemory          byteSize
	maxInput           byteSize
	maxEvents          int
	quiet              bool

	// selection
	token        string
	image        string
	participants []string
	since, until string
	noDB         bool
	noCache      bool

	strace     []string
	tlsKeylogs []string
	pathPrefix string
	clockSync  string

	cpuProfile, memProfile string
}

func (o *inputOptions) addFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.aliases, "alias", nil, "name an endpoint: `ADDR[:PORT]=NAME` (repeatable)")
	f.StringVar(&o.example, "example", "", "analyze an embedded real capture: "+strings.Join(authflow.Examples(), ", "))
	f.IntVar(&o.detail, "detail", 0, "detail `LEVEL`: 0 summarises query bursts and runs of file reads, 1 (--detail) draws every query and cache lookup, 2 also every file read and write")
	f.Lookup("detail").NoOptDefVal = "1"
	f.StringVar(&o.memcacheSecret, "memcache-secret", "", "keystonemiddleware's memcache_secret_key, to recognise token cache keys under the MAC and ENCRYPT strategies (visible in ps: prefer --memcache-secret-file or $"+envMemcacheSecret+")")
	f.StringVar(&o.memcacheSecretFile, "memcache-secret-file", "", "read the memcache_secret_key from `FILE` (its first line); the environment variable "+envMemcacheSecret+" holds it too")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "show whole tokens instead of fingerprints (passwords are never shown)")
	f.BoolVar(&o.timing, "timing", false, "put the elapsed time on each response")
	f.StringVar(&o.lang, "lang", "en", "`LANGUAGE` of the notes: "+strings.Join(sequence.Languages, ", "))
	o.bodyLimit = 64 << 10
	f.Var(&o.bodyLimit, "body-limit", "`SIZE` of each HTTP body kept for decoding (e.g. 65536, 64KiB, 1MiB)")
	f.IntVar(&o.maxConns, "max-connections", 16384, "TCP connections tracked at once; beyond it the idlest are closed")
	f.Var(&o.maxInput, "max-input", "`SIZE` each capture may have once decompressed (e.g. 20GiB; default no bound): a bigger one ends with an error; gzip data that expands more than 200 times past 64 MiB (a decompression bomb) always does")
	f.Var(&o.maxMemory, "max-memory", "`SIZE` of memory (e.g. 512MiB, 2GiB) for the connections tracked and for the messages kept, half each (estimated); beyond it the idlest connections are closed, then message bodies and messages dropped, and authflow exits 3 (default: nothing dropped, connections within 256MiB)")
	f.IntVar(&o.maxEvents, "max-events", 0, "`N` messages kept for correlation at most; beyond it they are dropped and authflow exits 3 (default: no bound)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print no warnings or progress on standard error")
	f.StringArrayVar(&o.strace, "strace", nil, "read file events from strace logs (`FILE|GLOB`, repeatable; strace -f -tt/-ttt, -ff files): which image file glance opened and read")
	f.StringArrayVar(&o.tlsKeylogs, "tls-keylog", nil, "decrypt TLS with the secrets of an NSS key log (`FILE`, as SSLKEYLOGFILE writes; repeatable): TLS 1.2 AES-GCM and ChaCha20-Poly1305, TLS 1.3")
	f.StringVar(&o.clockSync, "clock-sync", "auto", "`MODE` auto: estimate the clock offsets between captures of different hosts from the TCP segments they share, and correct them; off: take timestamps as recorded")
	f.StringVar(&o.pathPrefix, "path-prefix", "/var/lib/glance/images", "keep file events on paths under `PREFIX` (\"\" for all)")

	f.StringVar(&o.token, "token", "", "keep only what the token with this `FINGERPRINT` (or prefix) touched")
	f.StringVar(&o.image, "image", "", "keep only what concerns the image `ID` (or prefix)")
	f.StringArrayVar(&o.participants, "participant", nil, "keep only messages from or to `NAME` (repeatable)")
	f.StringVar(&o.since, "since", "", "keep messages from `WHEN` on: a time (RFC 3339 or 15:04:05.000 UTC), +DURATION from the start, or a frame number N or FILE:N")
	f.StringVar(&o.until, "until", "", "keep messages up to `WHEN` (as --since)")
	f.BoolVar(&o.noDB, "no-db", false, "leave database messages out")
	f.BoolVar(&o.noCache, "no-cache", false, "leave memcached messages out")

	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	f.StringVar(&o.memProfile, "memprofile", "", "write a heap profile to `FILE` at the end")
	f.MarkHidden("cpuprofile")
	f.MarkHidden("memprofile")
}

// analyzeOptions are the flags of `authflow analyze`.
type analyzeOptions struct {
	inputOptions
	output   string
	format   string
	frames   bool
	summary  bool
	findings bool
	group    bool
	otlp     otlpOptions
}

func newAnalyzeCmd() *cobra.Command {
	o := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze [flags] CAPTURE...",
		Short: "Draw the flow of one or more captures",
		Long: `Analyze reads capture files (pcap or pcapng, gzip-compressed or not; several
files are merged by time, e.g. the NIC and the loopback of one host) and
writes the OpenStack flow they contain: a Mermaid sequence diagram by default.`,
		Example: `  authflow analyze --example image-save            # embedded real capture
  authflow analyze ens.pcap lo.pcap -o flow.mmd     # two interfaces, merged by time
  authflow analyze any.pcapng --format json | jq .messages
  authflow analyze --alias 198.18.0.100=OpenStackClient --alias 198.18.0.11=controller capture.pcap
  authflow analyze --timing --summary -f text ens.pcap lo.pcap
  authflow analyze --token 047cf66b0773 --no-db ens.pcap lo.pcap
  authflow analyze -f otlp -o flow.otlp.json ens.pcap lo.pcap   # OpenTelemetry traces as OTLP/JSON
  authflow analyze --otlp-endpoint grpc://127.0.0.1:4317 ens.pcap lo.pcap   # send them to Jaeger`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output")
	f.StringVarP(&o.format, "format", "f", "", "output `FORMAT`: "+strings.Join(render.Formats, ", ")+" (default: from the output file's extension, else mermaid)")
	f.BoolVar(&o.frames, "frames", false, "show on each arrow the frame its message starts at")
	f.BoolVar(&o.group, "group", false, "draw requests of the same shape (method, route template such as GET /v2/images/{id}/file, the same downstream steps) once, with ×N, latency p50/p95/max, cache hit ratio and statements per request; automatic, with a warning, when a Mermaid diagram would exceed the 50 000 characters Mermaid draws")
	f.BoolVar(&o.summary, "summary", false, "add the table of where each request's time went to the output, in its format: a \"summary\" array in JSON, a table after the text timeline or the Markdown diagram, a comment block in Mermaid and PlantUML, a table under the HTML diagram; with svg and png on stderr")
	f.BoolVar(&o.findings, "findings", false, "report what an operator would point at (dead cache, re-authentication, slow validation, tokens used after revocation, …) with the evidence: after the text timeline or the Markdown diagram, else on stderr (JSON always has them)")
	o.addFlags(f)
	o.otlp.addFlags(f)
	registerCompletions(cmd)
	return cmd
}

// formatFromPath guesses the output format from a file name.
func formatFromPath(p string) string {
	if strings.HasSuffix(strings.ToLower(p), ".otlp.json") {
		return "otlp"
	}
	switch strings.ToLower(filepath.Ext(p)) {
	case ".mmd", ".mermaid":
		return "mermaid"
	case ".md", ".markdown":
		return "markdown"
	case ".json":
		return "json"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".txt":
		return "text"
	case ".puml", ".plantuml":
		return "plantuml"
	case ".html", ".htm":
		return "html"
	case ".svg":
		return "svg"
	case ".png":
		return "png"
	}
	return ""
}

func parseAliases(list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range list {
		addr, name, ok := strings.Cut(a, "=")
		_, perr := netip.ParseAddr(strings.Trim(addr, "[]"))
		if _, err := netip.ParseAddrPort(addr); err == nil {
			perr = nil
		}
		if !ok || addr == "" || name == "" || perr != nil {
			return nil, usageError{fmt.Errorf("--alias %q: want ADDR[:PORT]=NAME, ADDR an IP address", a)}
		}
		m[addr] = name
	}
	return m, nil
}

func runAnalyze(cmd *cobra.Command, o *analyzeOptions, args []string) error {
	format, err := outputFormat(o.format, o.output)
	if err != nil {
		return err
	}
	sending := o.otlp.endpoint != ""
	if sending {
		if _, err := o.otlp.config(); err != nil {
			return err
		}
	}
	res, err := loadFlow(cmd, &o.inputOptions, args)
	if err != nil {
		return err
	}
	// Sending traces replaces the diagram on standard output; -o or -f
	// asks for both.
	if !sending || o.output != "" || o.format != "" {
		if err := writeFlow(cmd, res.flow, outputOptions{output: o.output, format: format, frames: o.frames, summary: o.summary, findings: o.findings, group: o.group, showSecrets: o.showSecrets}); err != nil {
			return err
		}
	}
	var sendErr error
	if sending {
		s, err := o.otlp.startSender(cmd.ErrOrStderr(), false)
		if err != nil {
			return err
		}
		s.flow(res.flow)
		sendErr = s.finish(cmd.ErrOrStderr(), o.quiet)
	}
	if err := res.finish(cmd, o.quiet); err != nil {
		if sendErr != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "authflow:", sendErr)
		}
		return err
	}
	return sendErr
}

// outputFormat is the format -f names, else the one the output file's
// extension says, else mermaid.
func outputFormat(format, output string) (string, error) {
	if format == "" {
		format = formatFromPath(output)
	}
	if format == "" {
		format = "mermaid"
	}
	if !knownFormat(format) {
		return "", usageError{fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(render.Formats, ", "))}
	}
	return format, nil
}

// outputOptions say how and where a flow is written.
type outputOptions struct {
	output, format string
	frames         bool
	summary        bool
	findings       bool
	// group draws requests of the same shape once (sequence.Group).
	group bool
	// showSecrets says the flow shows whole tokens (for the HTML header).
	showSecrets bool
}

// diagramFormats are the formats drawn by Mermaid.
var diagramFormats = map[string]bool{"mermaid": true, "markdown": true, "html": true, "svg": true, "png": true}

// grouped returns flow with requests of the same shape drawn once when
// asked (--group), or when a diagram Mermaid draws would be longer than
// it draws (then with a warning on stderr).
func grouped(cmd *cobra.Command, flow *sequence.Flow, format string, group bool) *sequence.Flow {
	if group {
		return sequence.Group(flow)
	}
	if !diagramFormats[format] {
		return flow
	}
	var n countingWriter
	if err := render.Mermaid(&n, flow); err != nil || n <= sequence.MermaidMaxText {
		return flow
	}
	g := sequence.Group(flow)
	fmt.Fprintf(cmd.ErrOrStderr(), "authflow: warning: the diagram would be %d characters, more than the %d Mermaid draws: requests of the same shape are drawn once (--group; -f json or -f text shows every message)\n", int64(n), sequence.MermaidMaxText)
	return g
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// writeFlow writes the flow in the format asked for, to the output file or
// standard output; analyze and capture -o both write with it.
func writeFlow(cmd *cobra.Command, flow *sequence.Flow, o outputOptions) error {
	format := o.format
	flow = grouped(cmd, flow, format, o.group)
	write := func(w io.Writer) error {
		if err := render.Write(w, flow, format, render.Options{Frames: o.frames, Summary: o.summary, Color: o.output == "" && colorWanted(cmd.OutOrStdout()), Version: versionString(), ShowSecrets: o.showSecrets}); err != nil {
			return err
		}
		if o.findings && (format == "text" || format == "markdown") {
			if format == "markdown" {
				fmt.Fprintln(w, "\n## Findings\n\n```")
			} else {
				fmt.Fprintln(w)
			}
			if err := findings.Write(w, flow.Findings); err != nil {
				return err
			}
			if format == "markdown" {
				fmt.Fprintln(w, "```")
			}
		}
		return nil
	}
	if err := writeOutput(cmd, o.output, o.showSecrets, write); err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	// An image or an OTLP trace has no room for the table: it goes to
	// stderr.
	if o.summary && (format == "svg" || format == "png" || format == "otlp") {
		render.SummaryBlock(cmd.ErrOrStderr(), flow)
	}
	if o.findings && format != "text" && format != "markdown" && format != "json" {
		findings.Write(cmd.ErrOrStderr(), flow.Findings)
	}
	return nil
}

// loaded is a correlated flow and what went wrong reading its inputs.
type loaded struct {
	flow      *sequence.Flow
	inputErrs []error
	// dropped says a bound the user set dropped messages (exit 3).
	dropped error
	// secrets is what the inputs revealed: every text written is
	// scrubbed of it.
	secrets *secrets.Set
}

// scrub removes the secrets the inputs revealed from s.
func (l *loaded) scrub(s string) string {
	if l.secrets == nil {
		return s
	}
	return l.secrets.Scrub(s)
}

// scrubbedError is an error whose text is scrubbed of secrets.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// finish reports input errors and warnings on stderr and turns input
// errors into the partial-result exit code.
func (l *loaded) finish(cmd *cobra.Command, quiet bool) error {
	if !quiet && len(l.flow.Warnings) > 0 {
		const show = 5
		ws := l.flow.Warnings
		if l.dropped != nil {
			// Said below, as the error.
			ws = slices.DeleteFunc(slices.Clone(ws), func(w string) bool { return w == l.dropped.Error() })
		}
		for i, w := range ws {
			if i == show {
				fmt.Fprintf(cmd.ErrOrStderr(), "authflow: … and %d more warnings (in the JSON output's warnings)\n", len(ws)-show)
				break
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "authflow: warning:", render.TerminalText(l.scrub(w)))
		}
	}
	errs := l.inputErrs
	if l.dropped != nil {
		errs = append(slices.Clone(errs), l.dropped)
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintln(cmd.ErrOrStderr(), "authflow:", l.scrub(e.Error()))
	}
	last := errs[len(errs)-1]
	return &exitCodeError{code: exitPartial, err: &scrubbedError{msg: l.scrub(last.Error()), err: last}}
}

// loadFlow reads the inputs, decodes and correlates them, and applies the
// selection.
func loadFlow(cmd *cobra.Command, o *inputOptions, args []string) (*loaded, error) {
	aliases, err := parseAliases(o.aliases)
	if err != nil {
		return nil, err
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.clockSync != "auto" && o.clockSync != "off" {
		return nil, usageError{fmt.Errorf("--clock-sync %q: want auto or off", o.clockSync)}
	}
	if o.showSecrets && !o.quiet {
		fmt.Fprintln(cmd.ErrOrStderr(), "authflow: --show-secrets: the output shows whole tokens; handle it like the capture itself")
	}
	paths, stracePatterns := args, o.strace
	if o.example != "" {
		ex, ok := authflow.LoadExample(o.example)
		if !ok {
			return nil, usageError{fmt.Errorf("no example %q (have %s)", o.example, strings.Join(authflow.Examples(), ", "))}
		}
		dir, err := os.MkdirTemp("", "authflow-example-")
		if err != nil {
			return nil, err
		}
		// The flow needs the files only while it is made.
		defer os.RemoveAll(dir)
		extracted, err := extract(ex.FS, ex.Captures, dir)
		if err != nil {
			return nil, err
		}
		paths = append(extracted, paths...)
		if len(ex.Strace) > 0 && len(stracePatterns) == 0 {
			if stracePatterns, err = extract(ex.FS, ex.Strace, dir); err != nil {
				return nil, err
			}
		}
	}
	if slices.Contains(paths, "-") {
		spooled, cleanup, err := spoolStdin(cmd.InOrStdin(), int64(o.maxInput))
		if err != nil {
			return nil, &exitCodeError{code: exitFailure, err: err}
		}
		defer cleanup()
		paths = slices.Clone(paths)
		for i, p := range paths {
			if p == "-" {
				paths[i] = spooled
			}
		}
	}
	if len(paths) == 0 {
		return nil, usageError{errors.New("no capture given: name capture files, or use --example " + strings.Join(authflow.Examples(), "|"))}
	}
	sel, err := o.selection(paths)
	if err != nil {
		return nil, err
	}
	opts := o.pipelineOptions(aliases)
	opts.Selection = func() (sequence.Selection, error) { return sel, nil }

	// The Go heap as a whole is kept near --max-memory too: the collector
	// works harder as it gets close.
	if o.maxMemory > 0 {
		debug.SetMemoryLimit(int64(o.maxMemory))
	}
	stopProfile, err := startProfile(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	res, err := pipeline.Files(paths, pipeline.FileOptions{
		ClockSync: o.clockSync == "auto",
		Strace:    stracePatterns,
		MaxInput:  int64(o.maxInput),
		Progress: func(p pipeline.Progress) func() {
			return startProgress(cmd.ErrOrStderr(), p, o.quiet)
		},
	}, opts)
	if err != nil {
		return nil, &exitCodeError{code: exitFailure, err: err}
	}
	if !o.quiet {
		for _, c := range res.Flow.Clocks {
			fmt.Fprintln(cmd.ErrOrStderr(), "authflow:", c)
		}
	}
	stopProfile()
	if err := writeMemProfile(o.memProfile); err != nil {
		return nil, err
	}
	if err := checkSelection(cmd, res); err != nil {
		return nil, err
	}
	return &loaded{flow: res.Flow, inputErrs: res.InputErrors, dropped: res.Dropped, secrets: opts.Build.Secrets}, nil
}

// pipelineOptions map the flags to the pipeline's options (all but the
// selection).
func (o *inputOptions) pipelineOptions(aliases map[string]string) pipeline.Options {
	return pipeline.Options{
		Decode: decode.Options{
			BodyLimit: int(o.bodyLimit),
			Stream:    stream.Options{MaxConnections: o.maxConns, MaxMemory: int64(o.maxMemory) / 2},
			// The events get the other half of --max-memory.
			MaxEventBytes: int64(o.maxMemory) / 2,
			MaxEvents:     o.maxEvents,
		},
		Bounds: pipeline.Bounds{MaxConnections: o.maxConns, MaxMemory: o.maxMemory.String(), MaxEvents: o.maxEvents},
		Build: sequence.Options{
			Aliases:        aliases,
			DetailLevel:    o.detail,
			MemcacheSecret: o.memcacheSecret,
			ShowSecrets:    o.showSecrets,
			Timing:         o.timing,
			Lang:           o.lang,
			// What the inputs reveal is scrubbed from every text written.
			Secrets: secrets.New(o.showSecrets),
		},
		PathPrefix: o.pathPrefix,
		TLSKeyLogs: o.tlsKeylogs,
	}
}

func knownLang(l string) bool {
	for _, k := range sequence.Languages {
		if k == l {
			return true
		}
	}
	return false
}

func knownFormat(f string) bool {
	for _, k := range render.Formats {
		if k == f {
			return true
		}
	}
	return false
}

// writeOutput writes to the output file (atomically, via a temporary file
// beside it) or to standard output, or into a device or FIFO. A new file gets the mode the umask
// allows (0666 &^ umask); a file that exists keeps its mode, never
// widened; output with whole tokens (secret, from --show-secrets) is
// owner-only (0600) either way.
func writeOutput(cmd *cobra.Command, out string, secret bool, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return write(cmd.OutOrStdout())
	}
	mode := 0o666 &^ umask()
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	} else if err == nil && !fi.IsDir() {
		// A device or FIFO (-o /dev/null, /dev/stdout): written into,
		// never replaced by a file.
		f, err := os.OpenFile(out, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", out, err)
		}
		return f.Close()
	}
	if secret {
		mode &= 0o600
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.Rename(tmp.Name(), out)
}

// umask returns the process's file mode creation mask, from
// /proc/self/status (Linux 4.7 on), else the usual 022. Reading it there
// avoids setting it, which would race with other goroutines.
func umask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o022
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return os.FileMode(m) & 0o777
			}
		}
	}
	return 0o022
}

// spoolStdin copies standard input (a capture, gzip'd or not, given as
// "-") to an owner-only temporary file named "stdin", which the readers
// can open more than once; at most max bytes if max > 0.
func spoolStdin(in io.Reader, max int64) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "authflow-stdin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "stdin")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	r := in
	if max > 0 {
		r = io.LimitReader(in, max+1)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && max > 0 && n > max {
		err = fmt.Errorf("more than --max-input=%d bytes", max)
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read standard input: %w", err)
	}
	return path, cleanup, nil
}

// extract copies files of an embedded example into dir.
func extract(fsys fs.FS, files []string, dir string) ([]string, error) {
	var out []string
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, path.Base(f))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeMemProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}
