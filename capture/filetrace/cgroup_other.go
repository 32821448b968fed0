//go:build !linux

package filetrace

import (
	"os"
	"path/filepath"
)

// isCgroup2 reports whether dir looks like a cgroup directory.
func isCgroup2(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "cgroup.procs"))
	return err == nil
}
