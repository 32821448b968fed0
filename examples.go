// Package authflow holds what the authflow command embeds: the real
// captures behind `authflow analyze --example NAME`. The tool itself lives
// in capture/, decode/, sequence/ and cmd/authflow.
package authflow

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed testdata/captures/image-save testdata/captures/token-issue testdata/captures/image-list-cold testdata/captures/bad-password testdata/captures/revoked-token testdata/captures/image-create
var examples embed.FS

// Example is an embedded, real capture of one scenario recorded in the lab.
type Example struct {
	Name string
	// Captures are the capture files, in the order to analyse them.
	Captures []string
	// Strace are strace logs of the glance processes, if any.
	Strace []string
	// FS holds the files.
	FS fs.FS
}

// Examples lists the names of the embedded examples.
func Examples() []string {
	entries, _ := fs.ReadDir(examples, "testdata/captures")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// LoadExample returns the embedded example called name.
func LoadExample(name string) (*Example, bool) {
	dir := path.Join("testdata/captures", name)
	entries, err := fs.ReadDir(examples, dir)
	if err != nil || strings.Contains(name, "/") {
		return nil, false
	}
	ex := &Example{Name: name, FS: examples}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		switch {
		// The two interfaces are analysed merged; the same traffic recorded
		// otherwise (any.pcap, both.pcapng) is left out.
		case e.Name() == "ens.pcap.gz" || e.Name() == "lo.pcap.gz":
			ex.Captures = append(ex.Captures, p)
		case strings.HasPrefix(e.Name(), "glance.strace."):
			ex.Strace = append(ex.Strace, p)
		}
	}
	slices.Sort(ex.Captures)
	return ex, len(ex.Captures) > 0
}
