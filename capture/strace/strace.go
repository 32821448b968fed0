// Package strace turns strace logs into file events (package
// capture/fsevent): which process opened, read, wrote and closed which file,
// and when.
//
// It reads the text that strace writes with -f (lines prefixed by "PID " when
// written with -o, or "[pid N] " on the terminal), with -ff (one file per
// process, "name.PID": the pid comes from the file name), and with any of
// -t, -tt, -ttt (or --timestamps) and -T. Calls split by another process's
// line ("read(14,  <unfinished ...>" … "<... read resumed>…) = 65536") are
// joined and dated by their start. -y path annotations ("14</path>") are
// used when present. Signal ("--- SIGCHLD … ---") and exit ("+++ exited with
// 0 +++") lines, strace's own messages and -k stack lines are skipped.
//
// Events are produced for open, openat, openat2 and creat (Open), read,
// pread64, readv, preadv and preadv2 (Read), write, pwrite64, writev,
// pwritev and pwritev2 (Write), the two sides of sendfile, splice and
// copy_file_range (Read of the input fd, Write of the output fd), and close
// (Close). File descriptors are followed from the open that returned them to
// their close, per process (threads created with CLONE_FILES share a table;
// dup, dup2, dup3, fcntl F_DUPFD and close_range are followed too), so that
// reads and writes carry the path of their file. Other system calls are
// ignored.
//
// With -t or -tt strace prints the time of day without a date: the date is
// taken from [Options.Reference] (for example the capture's first packet),
// the time of day that is nearest to it is chosen, and later lines that go
// back by more than 12 hours are taken to be past midnight.
package strace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// MaxLineLength is the longest log line, newline included, that is parsed;
// longer lines are skipped and reported.
const MaxLineLength = 1 << 20

// maxFDs bounds the descriptors remembered per fd table.
const maxFDs = 1 << 16

// maxPending bounds the unfinished calls remembered at once.
const maxPending = 1 << 16

// pidMax is the largest pid Linux hands out (PID_MAX_LIMIT); a leading
// number above it is a time (-ttt with whole seconds), not a pid.
const pidMax = 1 << 22

// Options control parsing.
type Options struct {
	// PathPrefix, when set, keeps only events on paths that start with it
	// (opens of such paths, and reads, writes and closes of the descriptors
	// they returned). Empty keeps every file event, including reads and
	// writes of descriptors whose open was not in the log (empty Path).
	PathPrefix string
	// Reference is an instant near the start of the log, used to date the
	// times of day printed by strace -t and -tt. ParseFiles uses the file's
	// modification time when it is zero; Parse fails on such a log.
	Reference time.Time
	// Location is the time zone of -t/-tt times (that of the traced machine).
	// Nil means time.Local.
	Location *time.Location
	// PID is the process id of lines without a pid prefix. Zero means: from
	// the file name's ".PID" suffix (strace -ff), else 0.
	PID int
}

// Parse reads one strace log from r. name is used in error messages and,
// when opts.PID is zero, for the pid of an -ff file ("glance.strace.28685").
// Events come in the log's order. Lines that cannot be understood are
// skipped and reported at the end as a *fsevent.BadLinesError, returned
// along with the events; other errors are fatal.
func Parse(r io.Reader, name string, opts Options) ([]fsevent.Event, error) {
	p := newParser(name, opts)
	lr := fsevent.NewLineReader(r, MaxLineLength)
	good := 0
	for {
		if good == 0 && p.bad.Count >= notStraceLines {
			// Not a log at all (/etc/shadow, /dev/zero): say so without
			// quoting what the file holds.
			return nil, fmt.Errorf("%s: not an strace log (none of its first %d lines is a system call)", name, notStraceLines)
		}
		b, n, err := lr.Next()
		if err == io.EOF {
			break
		}
		var le *fsevent.LineError
		if errors.As(err, &le) {
			le.Name = name
			p.bad.Add(le)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := p.line(string(b), n); err != nil {
			var fatal *fatalError
			if errors.As(err, &fatal) {
				return nil, fmt.Errorf("%s:%d: %w", name, n, fatal.err)
			}
			p.bad.Add(&fsevent.LineError{Name: name, Line: n, Err: err})
			continue
		}
		good++
	}
	if good == 0 && p.bad.Count > 0 {
		return nil, fmt.Errorf("%s: not an strace log (no line is a system call)", name)
	}
	return p.events, p.bad.OrNil()
}

// ParseFiles parses the strace logs named by patterns: file names or globs
// ("glance.strace.*"). A glob that matches nothing is an error; a file is
// read once even if named twice. The events of all files are merged in time
// order. Bad lines of all files are reported together as a
// *fsevent.BadLinesError, returned along with the events.
func ParseFiles(patterns []string, opts Options) ([]fsevent.Event, error) {
	var files []string
	seen := make(map[string]bool)
	for _, pat := range patterns {
		names := []string{pat}
		if strings.ContainsAny(pat, "*?[") {
			m, err := filepath.Glob(pat)
			if err != nil {
				return nil, fmt.Errorf("strace log pattern %q: %w", pat, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("strace log pattern %q matches no file", pat)
			}
			names = m
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				files = append(files, n)
			}
		}
	}
	var (
		all []fsevent.Event
		bad fsevent.BadLinesError
	)
	for _, name := range files {
		evs, err := parseFile(name, opts)
		var b *fsevent.BadLinesError
		if errors.As(err, &b) {
			for _, le := range b.Lines {
				bad.Add(le)
			}
			bad.Count += b.Count - len(b.Lines)
		} else if err != nil {
			return nil, err
		}
		all = append(all, evs...)
	}
	slices.SortStableFunc(all, func(a, b fsevent.Event) int { return a.Time.Compare(b.Time) })
	return all, bad.OrNil()
}

// notStraceLines is how many bad lines without a good one before them
// make a file not an strace log.
const notStraceLines = 20

func parseFile(name string, opts Options) ([]fsevent.Event, error) {
	// A FIFO would block, a device may never end (/dev/zero): only files
	// are read.
	if fi, err := os.Stat(name); err != nil {
		return nil, fmt.Errorf("read strace log: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read strace log: %s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read strace log: %w", err)
	}
	defer f.Close()
	if opts.Reference.IsZero() {
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("read strace log: %w", err)
		}
		opts.Reference = fi.ModTime()
	}
	return Parse(f, name, opts)
}

// fatalError stops parsing a file.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// pidFromName returns the pid of an -ff file name ("x.28685"), or 0.
func pidFromName(name string) int {
	base := filepath.Base(name)
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(base[i+1:])
	if err != nil || n <= 0 || n > pidMax {
		return 0
	}
	return n
}
