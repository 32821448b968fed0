package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/capture/filetrace"
	"github.com/authflow/authflow/capture/live"
)

// TestCaptureFileTraceOptions checks that file tracing filters that
// cannot match are rejected before capturing, and that a command name no
// process has is named with the close ones.
func TestCaptureFileTraceOptions(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("no /proc")
	}
	self := strings.TrimSpace(string(comm)) // e.g. "authflow.test"
	stem := self[:len(self)-2]              // a name no process has, close to ours
	for _, c := range []struct {
		name   string
		args   []string
		code   int // -1: any
		stderr []string
	}{
		{"pid that no process has", []string{"--trace-files", "--pid", "999999"}, exitUsage, []string{"--pid: no process has pid 999999"}},
		{"negative pid", []string{"--trace-files", "--pid", "-5"}, exitUsage, []string{"--pid: bad pid -5"}},
		{"missing cgroup", []string{"--trace-files", "--cgroup", "/nonexistent"}, exitUsage, []string{"--cgroup: cgroup /nonexistent: no such file or directory"}},
		{"not a cgroup", []string{"--trace-files", "--cgroup", "/proc"}, exitUsage, []string{"--cgroup: cgroup /proc is not a cgroup v2 directory"}},
		{"filter without --trace-files", []string{"--pid", "1"}, exitUsage, []string{"add --trace-files"}},
		// The interface does not exist: the capture fails after the check.
		{"comm close to a running one", []string{"--trace-files", "--comm", stem}, -1,
			[]string{"warning: --comm " + stem + ": no running process has this command name", "did you mean " + self}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"capture", "-i", "nosuchif0", "-w", filepath.Join(t.TempDir(), "x.pcapng")}, c.args...)
			_, stderr, code := runCLI(t, args...)
			if c.code >= 0 && code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr)
				}
			}
			if strings.Contains(stderr, "file tracing off") {
				t.Errorf("carries on without tracing:\n%s", stderr)
			}
		})
	}
}

// TestCaptureWarnsWhenNothingTraced captures (as root) for a moment with
// a file trace of a process that reads nothing: the end says so.
func TestCaptureWarnsWhenNothingTraced(t *testing.T) {
	if err := live.CheckPrivileges(); err != nil {
		t.Skipf("live capture needs privileges: %v", err)
	}
	if err := filetrace.Check(); err != nil {
		t.Skipf("file tracing unavailable: %v", err)
	}
	idle := exec.Command("sleep", "600")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idle.Process.Kill(); _, _ = idle.Process.Wait() })
	_, stderr, code := runCLI(t, "capture", "-i", "lo", "--duration", "300ms", "-w", filepath.Join(t.TempDir(), "x.pcapng"),
		"--trace-files", "--pid", strconv.Itoa(idle.Process.Pid))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "warning: file tracing saw no file event (--pid " + strconv.Itoa(idle.Process.Pid) + " and its children, --path-prefix /var/lib/glance/images)"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
}
