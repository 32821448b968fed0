package filetrace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// procDir is where processes are listed; tests point it elsewhere.
var procDir = "/proc"

// cgroupCheck tells cgroup v2 directories; tests replace it.
var cgroupCheck = isCgroup2

// commLen is how many bytes of a command name the kernel keeps.
const commLen = 15

// Validate checks the options that name processes and cgroups against the
// running system, so that a filter that cannot match anything is an error
// before tracing starts: a negative or too large pid, a pid no process has,
// a cgroup directory that does not exist or is not cgroup v2. A command
// name may belong to a process started later, so Comm is not checked here
// (see CommMatches).
func (o Options) Validate() error {
	if o.PID < 0 || o.PID > 1<<22 {
		return fmt.Errorf("bad pid %d: a pid is a positive number", o.PID)
	}
	if o.PID > 0 {
		if _, err := os.Stat(filepath.Join(procDir, strconv.Itoa(o.PID))); err != nil {
			return fmt.Errorf("no process has pid %d", o.PID)
		}
	}
	if o.CgroupPath != "" {
		st, err := os.Stat(o.CgroupPath)
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", o.CgroupPath, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return fmt.Errorf("cgroup %s is not a directory", o.CgroupPath)
		}
		if !cgroupCheck(o.CgroupPath) {
			return fmt.Errorf("cgroup %s is not a cgroup v2 directory (cgroup2 is often at /sys/fs/cgroup, or /sys/fs/cgroup/unified next to v1 controllers)", o.CgroupPath)
		}
	}
	return nil
}

// RunningComms lists the command names of the running processes, sorted,
// without repeats.
func RunningComms() []string {
	ents, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, e.Name(), "comm"))
		if err != nil {
			continue
		}
		out = append(out, strings.TrimSuffix(string(b), "\n"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CommMatches reports whether a running process has the command name comm
// (as the kernel compares it: its first 15 bytes), and if not, the running
// names that are close to it (containing it, contained in it, or sharing
// its first word), best first.
func CommMatches(comm string) (ok bool, close []string) {
	want := comm
	if len(want) > commLen {
		want = want[:commLen]
	}
	running := RunningComms()
	if slices.Contains(running, want) {
		return true, nil
	}
	lw := strings.ToLower(want)
	first, _, _ := strings.Cut(lw, "-")
	var prefix, other []string
	for _, r := range running {
		lr := strings.ToLower(r)
		switch {
		case strings.HasPrefix(lr, lw):
			prefix = append(prefix, r)
		case strings.Contains(lr, lw) || strings.Contains(lw, lr) && len(lr) > 3 || first != "" && strings.HasPrefix(lr, first):
			other = append(other, r)
		}
	}
	return false, append(prefix, other...)
}

// Descendants returns pid and every process descending from it, as /proc
// shows them now (parents before children).
func Descendants(pid int) []int {
	children := map[int][]int{}
	ents, err := os.ReadDir(procDir)
	if err == nil {
		for _, e := range ents {
			p, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if pp, ok := parentOf(p); ok {
				children[pp] = append(children[pp], p)
			}
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// parentOf reads the parent pid of a process from /proc/PID/stat.
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid …: comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}
