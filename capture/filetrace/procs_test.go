package filetrace

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeProc builds a /proc with processes pid → (ppid, comm) and points
// procDir at it for the test.
func fakeProc(t *testing.T, procs map[string][2]string) {
	t.Helper()
	dir := t.TempDir()
	for pid, p := range procs {
		d := filepath.Join(dir, pid)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "stat"), []byte(pid+" ("+p[1]+") S "+p[0]+" 1 1 0 -1\n"), 0o644)
		os.WriteFile(filepath.Join(d, "comm"), []byte(p[1]+"\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "self"), 0o755)
	old := procDir
	procDir = dir
	t.Cleanup(func() { procDir = old })
}

var glanceProcs = map[string][2]string{
	"1":   {"0", "systemd"},
	"100": {"1", "glance-api"},
	"101": {"100", "glance-api"},
	"102": {"100", "glance-api"},
	"103": {"102", "qemu-img"},
	"200": {"1", "keystone-wsgi-p"},
	"300": {"1", "(sd) pam"}, // a comm with a space and parentheses
	"301": {"300", "memcached"},
}

func TestValidate(t *testing.T) {
	fakeProc(t, glanceProcs)
	cg := t.TempDir()
	old := cgroupCheck
	cgroupCheck = func(dir string) bool { return dir == cg }
	t.Cleanup(func() { cgroupCheck = old })
	notCg := t.TempDir()
	file := filepath.Join(notCg, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		opts Options
		want string // "" for valid
	}{
		{Options{}, ""},
		{Options{PID: 100}, ""},
		{Options{PID: 999999}, "no process has pid 999999"},
		{Options{PID: -5}, "bad pid -5"},
		{Options{PID: 1 << 23}, "bad pid"},
		{Options{CgroupPath: cg}, ""},
		{Options{CgroupPath: "/nonexistent"}, "cgroup /nonexistent: no such file or directory"},
		{Options{CgroupPath: notCg}, "is not a cgroup v2 directory"},
		{Options{CgroupPath: file}, "is not a directory"},
		{Options{Comm: "no-such-command"}, ""}, // may start later: see CommMatches
	} {
		err := c.opts.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
}

func TestCommMatches(t *testing.T) {
	fakeProc(t, glanceProcs)
	for _, c := range []struct {
		comm  string
		ok    bool
		close []string
	}{
		{"glance-api", true, nil},
		{"glance", false, []string{"glance-api"}},
		{"glance-registry", false, []string{"glance-api"}},
		{"keystone-wsgi-public", true, nil}, // the kernel keeps 15 bytes
		{"keystone", false, []string{"keystone-wsgi-p"}},
		{"nginx", false, nil},
	} {
		ok, close := CommMatches(c.comm)
		if ok != c.ok || !slices.Equal(close, c.close) {
			t.Errorf("%s: %v %q, want %v %q", c.comm, ok, close, c.ok, c.close)
		}
	}
}

func TestDescendants(t *testing.T) {
	fakeProc(t, glanceProcs)
	for _, c := range []struct {
		pid  int
		want []int
	}{
		{100, []int{100, 101, 102, 103}},
		{102, []int{102, 103}},
		{200, []int{200}},
		{300, []int{300, 301}},
	} {
		got := Descendants(c.pid)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("Descendants(%d) = %v, want %v", c.pid, got, c.want)
		}
	}
}
