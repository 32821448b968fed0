package live

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// capNetRaw is the bit of CAP_NET_RAW in the capability sets.
const capNetRaw = 13

// PrivilegeError says that the process lacks what live capture needs. It
// matches fs.ErrPermission with errors.Is.
type PrivilegeError struct {
	// Root is true when the process runs as root but still lacks
	// CAP_NET_RAW, as in a container that dropped it.
	Root bool
}

// Error returns a one-line message naming what is missing and how to get it.
func (e *PrivilegeError) Error() string {
	if e.Root {
		return "capture needs CAP_NET_RAW: running as root, but CAP_NET_RAW is not in the effective capability set (a container that drops it?)"
	}
	return "capture needs CAP_NET_RAW: run as root or grant it with 'sudo setcap cap_net_raw,cap_bpf,cap_perfmon+ep $(which authflow)'"
}

// Unwrap returns fs.ErrPermission.
func (e *PrivilegeError) Unwrap() error { return fs.ErrPermission }

// CheckPrivileges reports whether this process may open AF_PACKET sockets,
// that is whether CAP_NET_RAW is in its effective capability set. The
// error, a *PrivilegeError, says what is missing and how to grant it.
func CheckPrivileges() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		// Without /proc, fall back to the user id.
		if os.Geteuid() == 0 {
			return nil
		}
		return &PrivilegeError{}
	}
	defer f.Close()
	capEff, err := parseCapEff(f)
	if err != nil {
		if os.Geteuid() == 0 {
			return nil
		}
		return &PrivilegeError{}
	}
	return checkCaps(os.Geteuid(), capEff)
}

// checkCaps decides from the effective user id and capability set.
func checkCaps(euid int, capEff uint64) error {
	if capEff&(1<<capNetRaw) != 0 {
		return nil
	}
	return &PrivilegeError{Root: euid == 0}
}

// parseCapEff reads the CapEff line of a /proc/PID/status file.
func parseCapEff(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("parse CapEff %q: %w", strings.TrimSpace(value), err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	return 0, errors.New("no CapEff line in process status")
}
