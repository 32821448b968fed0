package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow"
	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// analyzeOptions are the flags of `authflow analyze`.
type analyzeOptions struct {
	output         string
	format         string
	aliases        []string
	example        string
	detail         bool
	memcacheSecret string
	showSecrets    bool
	timing         bool
	bodyLimit      int
}

func newAnalyzeCmd() *cobra.Command {
	o := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze [flags] CAPTURE...",
		Short: "Draw the flow of one or more captures",
		Long: `Analyze reads capture files (pcap or pcapng, gzip-compressed or not; several
files are merged by time, e.g. the NIC and the loopback of one host) and
writes the OpenStack flow they contain.`,
		Example: `  authflow analyze --example image-save            # embedded real capture
  authflow analyze ens.pcap lo.pcap -o flow.mmd     # two interfaces, merged by time
  authflow analyze any.pcapng --format json | jq .messages
  authflow analyze --alias 198.18.0.100=OpenStackClient --alias 198.18.0.11=controller capture.pcap`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output")
	f.StringVarP(&o.format, "format", "f", "", "output `FORMAT`: "+strings.Join(render.Formats, ", ")+" (default: from the output file's extension, else mermaid)")
	f.StringArrayVar(&o.aliases, "alias", nil, "name an endpoint: `ADDR[:PORT]=NAME` (repeatable)")
	f.StringVar(&o.example, "example", "", "analyze an embedded example capture: "+strings.Join(authflow.Examples(), ", "))
	f.BoolVar(&o.detail, "detail", false, "draw every database query and cache lookup instead of summaries")
	f.StringVar(&o.memcacheSecret, "memcache-secret", "", "keystonemiddleware's memcache_secret_key, to recognise token cache keys under the MAC and ENCRYPT strategies")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "show whole tokens instead of fingerprints (passwords are never shown)")
	f.BoolVar(&o.timing, "timing", false, "show how long each exchange took on its response")
	f.IntVar(&o.bodyLimit, "body-limit", 64<<10, "bytes of each HTTP body kept for decoding")
	return cmd
}

// formatFromPath guesses the output format from a file name.
func formatFromPath(p string) string {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".mmd", ".mermaid":
		return "mermaid"
	case ".md", ".markdown":
		return "markdown"
	case ".json":
		return "json"
	case ".txt":
		return "text"
	}
	return ""
}

func parseAliases(list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range list {
		addr, name, ok := strings.Cut(a, "=")
		if !ok || addr == "" || name == "" {
			return nil, usageError{fmt.Errorf("--alias %q: want ADDR[:PORT]=NAME", a)}
		}
		m[addr] = name
	}
	return m, nil
}

func runAnalyze(cmd *cobra.Command, o *analyzeOptions, args []string) error {
	format := o.format
	if format == "" {
		format = formatFromPath(o.output)
	}
	if format == "" {
		format = "mermaid"
	}
	if !knownFormat(format) {
		return usageError{fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(render.Formats, ", "))}
	}
	aliases, err := parseAliases(o.aliases)
	if err != nil {
		return err
	}
	paths := args
	if o.example != "" {
		ex, ok := authflow.LoadExample(o.example)
		if !ok {
			return usageError{fmt.Errorf("no example %q (have %s)", o.example, strings.Join(authflow.Examples(), ", "))}
		}
		dir, err := os.MkdirTemp("", "authflow-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		extracted, err := extract(ex.FS, ex.Captures, dir)
		if err != nil {
			return err
		}
		paths = append(extracted, paths...)
	}
	if len(paths) == 0 {
		return usageError{errors.New("no capture given: name capture files, or use --example " + strings.Join(authflow.Examples(), "|"))}
	}

	src, err := capture.OpenFiles(paths, capture.FileOptions{})
	if err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	defer src.Close()
	events, _, runErr := decode.Run(src, decodeOptions(o))
	inputErrs := src.Errors()
	if runErr != nil {
		inputErrs = append(inputErrs, runErr)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	flow := sequence.Build(events, sequence.Options{
		Aliases:        aliases,
		Inputs:         names,
		Detail:         o.detail,
		MemcacheSecret: o.memcacheSecret,
		ShowSecrets:    o.showSecrets,
		Timing:         o.timing,
	})
	if err := writeOutput(cmd, o.output, func(w io.Writer) error { return render.Write(w, flow, format) }); err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	if len(inputErrs) > 0 {
		for _, e := range inputErrs[:len(inputErrs)-1] {
			fmt.Fprintln(cmd.ErrOrStderr(), "authflow:", e)
		}
		return &exitCodeError{code: exitPartial, err: inputErrs[len(inputErrs)-1]}
	}
	return nil
}

func knownFormat(f string) bool {
	for _, k := range render.Formats {
		if k == f {
			return true
		}
	}
	return false
}

func decodeOptions(o *analyzeOptions) decode.Options {
	return decode.Options{BodyLimit: o.bodyLimit, Decoders: defaultDecoders()}
}

// writeOutput writes to the output file (atomically, via a temporary file
// beside it) or to standard output.
func writeOutput(cmd *cobra.Command, out string, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return write(cmd.OutOrStdout())
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
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
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
