//go:build linux

package filetrace

import "golang.org/x/sys/unix"

// isCgroup2 reports whether dir is in a cgroup v2 hierarchy (a v1
// controller directory also has cgroup.procs, but cannot be traced).
func isCgroup2(dir string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(dir, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC
}
