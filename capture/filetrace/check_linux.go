//go:build linux && amd64

package filetrace

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
)

// Capability numbers (include/uapi/linux/capability.h).
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// maxSeeded bounds the open files taken from /proc at start.
const maxSeeded = 4096

// Check tells whether file tracing can work here, without loading
// anything that stays. It returns nil, or an error naming each missing
// piece and how to provide it: privileges (root, or CAP_BPF and
// CAP_PERFMON), kernel support for BPF ring buffers (Linux 5.8) and raw
// tracepoints, and kernel lockdown. Missing kernel BTF or tracefs alone is
// not an error, since another attach form works without them.
func Check() error {
	if err := privilegeError(); err != nil {
		return err
	}
	var problems []string
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil && strings.Contains(string(b), "[confidentiality]") {
		problems = append(problems, "the kernel is locked down in confidentiality mode, which forbids eBPF tracing (boot with lockdown=integrity or none)")
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		problems = append(problems, fmt.Sprintf("the kernel has no BPF ring buffer (needs Linux 5.8 or newer): %v", err))
	}
	btf := fileExists("/sys/kernel/btf/vmlinux")
	if err := features.HaveProgramType(ebpf.RawTracepoint); err != nil && !btf {
		problems = append(problems, fmt.Sprintf("the kernel supports neither raw tracepoints (%v) nor BTF tracepoints (no /sys/kernel/btf/vmlinux)", err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("file tracing is not available: %s", strings.Join(problems, "; "))
	}
	return nil
}

// privilegeError says which privileges are missing, or returns nil.
func privilegeError() error {
	caps, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("file tracing: read capabilities: %w", err)
	}
	has := func(c uint) bool { return caps&(1<<c) != 0 }
	if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) {
		return nil
	}
	var missing []string
	for _, c := range []struct {
		n    uint
		name string
	}{{capBPF, "CAP_BPF"}, {capPerfmon, "CAP_PERFMON"}} {
		if !has(c.n) {
			missing = append(missing, c.name)
		}
	}
	return fmt.Errorf("file tracing needs root, or CAP_BPF and CAP_PERFMON (missing %s): run with sudo, or `setcap cap_bpf,cap_perfmon+ep` on the binary; packet capture works without it",
		strings.Join(missing, " and "))
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// seedOpenFiles puts the matching files that are already open into the fds
// map, so that their reads and writes are reported too, and returns how
// many it found. Errors (processes that exit, unreadable /proc entries) are
// skipped.
func (t *Tracer) seedOpenFiles() int {
	fds := t.coll.Maps["fds"]
	pids := t.followed
	if t.opts.PID == 0 {
		pids = pids[:0]
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return 0
		}
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				pids = append(pids, n)
			}
		}
	}
	var cgRel string
	if t.opts.CgroupPath != "" {
		cgRel = cgroupRel(t.opts.CgroupPath)
	}
	self := int(selfTgid(t.opts))
	seeded := 0
	for _, pid := range pids {
		if pid == self {
			continue
		}
		dir := "/proc/" + strconv.Itoa(pid)
		if t.opts.Comm != "" {
			b, err := os.ReadFile(dir + "/comm")
			want := t.opts.Comm
			if len(want) > 15 {
				want = want[:15]
			}
			if err != nil || strings.TrimSuffix(string(b), "\n") != want {
				continue
			}
		}
		if t.opts.CgroupPath != "" && !inCgroup(dir, cgRel) {
			continue
		}
		ents, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		for _, e := range ents {
			fd, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			target, err := os.Readlink(dir + "/fd/" + e.Name())
			if err != nil || !strings.HasPrefix(target, "/") || !strings.HasPrefix(target, t.opts.PathPrefix) {
				continue
			}
			k := fdKey{tgid: uint32(pid), fd: int32(fd)}
			if err := fds.Update(k, uint32(1), ebpf.UpdateAny); err != nil {
				continue
			}
			t.remember(k, target)
			seeded++
			if seeded >= maxSeeded {
				return seeded
			}
		}
	}
	return seeded
}

// cgroupRel returns the path of a cgroup v2 directory relative to the root
// of its hierarchy ("/system.slice/x.service"), or "" if unknown.
func cgroupRel(path string) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// id parent major:minor root mountpoint options ... - fstype source
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				mnt := fields[4]
				if rel, ok := strings.CutPrefix(abs, mnt); ok && (rel == "" || rel[0] == '/') {
					if rel == "" {
						rel = "/"
					}
					return rel
				}
			}
		}
	}
	return ""
}

// inCgroup reports whether the process at dir is in the cgroup v2 rel or
// below it.
func inCgroup(dir, rel string) bool {
	if rel == "" {
		return false
	}
	b, err := os.ReadFile(dir + "/cgroup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return rel == "/" || p == rel || strings.HasPrefix(p, rel+"/")
		}
	}
	return false
}
