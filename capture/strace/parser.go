package strace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// parser holds the state of one log.
type parser struct {
	name       string
	opts       Options
	loc        *time.Location
	defaultPID int

	// Time-of-day dating (-t, -tt): the day of the previous line, and its
	// time since midnight.
	haveDay bool
	day     time.Time // midnight in loc, as a date carrier
	lastTOD time.Duration

	pending map[int]pendingCall // unfinished calls by tid
	procs   map[int]*proc       // by tid

	events []fsevent.Event
	bad    fsevent.BadLinesError
}

// pendingCall is the first half of a call printed as "<unfinished ...>".
type pendingCall struct {
	name string
	args string
	t    time.Time
}

// proc is one traced thread: its process and its fd table.
type proc struct {
	tgid int
	fds  *fdTable
}

// fdTable maps descriptors to the paths they were opened with. Threads that
// share descriptors share the table.
type fdTable struct {
	paths map[int]string
}

func newParser(name string, opts Options) *parser {
	p := &parser{
		name:    name,
		opts:    opts,
		loc:     opts.Location,
		pending: make(map[int]pendingCall),
		procs:   make(map[int]*proc),
	}
	if p.loc == nil {
		p.loc = time.Local
	}
	p.defaultPID = opts.PID
	if p.defaultPID == 0 {
		p.defaultPID = pidFromName(name)
	}
	return p
}

func (p *parser) proc(tid int) *proc {
	pr := p.procs[tid]
	if pr == nil {
		pr = &proc{tgid: tid, fds: &fdTable{paths: make(map[int]string)}}
		p.procs[tid] = pr
	}
	return pr
}

// line parses one line of the log.
func (p *parser) line(s string, n int) error {
	s = strings.TrimLeft(s, " \t")
	if s == "" || strings.HasPrefix(s, "strace: ") || strings.HasPrefix(s, "> ") {
		return nil
	}
	tid := p.defaultPID
	// Pid prefix: "[pid 123] " or "123 ".
	if rest, ok := strings.CutPrefix(s, "[pid "); ok {
		rest = strings.TrimLeft(rest, " ")
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return errors.New("unterminated [pid N] prefix")
		}
		v, err := strconv.Atoi(rest[:end])
		if err != nil || v <= 0 {
			return fmt.Errorf("bad pid in %q", truncate(s[:len("[pid ")+end+1], 40))
		}
		tid = v
		s = strings.TrimLeft(rest[end+1:], " ")
	} else if tok, rest, ok := strings.Cut(s, " "); ok && isDigits(tok) {
		if v, err := strconv.Atoi(tok); err == nil && v > 0 && v <= pidMax {
			tid = v
			s = strings.TrimLeft(rest, " ")
		}
	}
	// Timestamp: "12:16:15", "12:16:15.455362" or "1732277775.455362".
	var t time.Time
	if tok, rest, ok := strings.Cut(s, " "); ok && tok != "" && (tok[0] >= '0' && tok[0] <= '9') {
		var err error
		if t, err = p.timestamp(tok); err != nil {
			return err
		}
		s = strings.TrimLeft(rest, " ")
	}
	// -i ("[00007f…]") and -n ("[  0]") columns.
	for strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return errors.New("unterminated [...] column")
		}
		s = strings.TrimLeft(s[end+1:], " ")
	}
	switch {
	case s == "":
		return errors.New("no system call after the prefix")
	case strings.HasPrefix(s, "+++ "):
		// The thread is gone; its fd table stays with the other threads.
		delete(p.procs, tid)
		delete(p.pending, tid)
		return nil
	case strings.HasPrefix(s, "--- "):
		return nil
	}
	// -T: " <0.000123>" at the end.
	var dur time.Duration
	if strings.HasSuffix(s, ">") {
		if i := strings.LastIndex(s, " <"); i >= 0 {
			if d, ok := parseDuration(s[i+2 : len(s)-1]); ok {
				dur = d
				s = strings.TrimRight(s[:i], " ")
			}
		}
	}
	if rest, ok := strings.CutPrefix(s, "<... "); ok {
		name, args, ok := strings.Cut(rest, " resumed>")
		if !ok {
			return fmt.Errorf("bad resumed line %q", truncate(s, 60))
		}
		pc, ok := p.pending[tid]
		if !ok || pc.name != name {
			// The first half is from before the log started, or of a call
			// that is not followed.
			return nil
		}
		delete(p.pending, tid)
		return p.call(tid, pc.name, pc.args+args, pc.t, dur)
	}
	open := strings.IndexByte(s, '(')
	if open <= 0 || !isName(s[:open]) {
		return fmt.Errorf("not a system call: %q", truncate(s, 60))
	}
	name := s[:open]
	if !followed[name] {
		return nil
	}
	args := s[open+1:]
	if a, ok := strings.CutSuffix(args, "<unfinished ...>"); ok {
		if len(p.pending) >= maxPending {
			return errors.New("too many unfinished calls")
		}
		p.pending[tid] = pendingCall{name: name, args: a, t: t}
		return nil
	}
	return p.call(tid, name, args, t, dur)
}

// timestamp parses a strace time column.
func (p *parser) timestamp(tok string) (time.Time, error) {
	if strings.IndexByte(tok, ':') >= 0 {
		tod, ok := parseTimeOfDay(tok)
		if !ok {
			return time.Time{}, fmt.Errorf("bad time of day %q", truncate(tok, 40))
		}
		return p.dateTimeOfDay(tod)
	}
	sec, frac, _ := strings.Cut(tok, ".")
	if !isDigits(sec) || (frac != "" && !isDigits(frac)) || len(frac) > 9 || len(sec) > 12 {
		return time.Time{}, fmt.Errorf("bad timestamp %q", truncate(tok, 40))
	}
	s, _ := strconv.ParseInt(sec, 10, 64)
	if s < 100_000_000 {
		// 1973: -r prints seconds since the previous line, which cannot
		// be placed in time.
		return time.Time{}, &fatalError{fmt.Errorf("relative timestamp %q (strace -r) cannot be placed in time: use -tt or -ttt", truncate(tok, 40))}
	}
	return time.Unix(s, fracNanos(frac)), nil
}

// dateTimeOfDay dates a time of day (-t, -tt).
func (p *parser) dateTimeOfDay(tod time.Duration) (time.Time, error) {
	const half = 12 * time.Hour
	if !p.haveDay {
		if p.opts.Reference.IsZero() {
			return time.Time{}, &fatalError{errors.New("strace -t/-tt times have no date: give a reference time (e.g. the capture's first packet)")}
		}
		ref := p.opts.Reference.In(p.loc)
		y, m, d := ref.Date()
		best := time.Time{}
		for _, off := range []int{-1, 0, 1} {
			day := time.Date(y, m, d+off, 0, 0, 0, 0, p.loc)
			c := atTimeOfDay(day, tod, p.loc)
			if best.IsZero() || absDur(c.Sub(ref)) < absDur(best.Sub(ref)) {
				best = c
				p.day = day
			}
		}
		p.haveDay = true
		p.lastTOD = tod
		return best, nil
	}
	day := p.day
	switch {
	case tod < p.lastTOD-half: // past midnight
		y, m, d := p.day.Date()
		p.day = time.Date(y, m, d+1, 0, 0, 0, 0, p.loc)
		day = p.day
		p.lastTOD = tod
	case tod > p.lastTOD+half: // a late line from before midnight
		y, m, d := p.day.Date()
		day = time.Date(y, m, d-1, 0, 0, 0, 0, p.loc)
	default:
		p.lastTOD = tod
	}
	return atTimeOfDay(day, tod, p.loc), nil
}

func atTimeOfDay(day time.Time, tod time.Duration, loc *time.Location) time.Time {
	y, m, d := day.Date()
	h := int(tod / time.Hour)
	mi := int(tod % time.Hour / time.Minute)
	s := int(tod % time.Minute / time.Second)
	ns := int(tod % time.Second)
	return time.Date(y, m, d, h, mi, s, ns, loc)
}

// parseTimeOfDay parses "HH:MM:SS[.frac]".
func parseTimeOfDay(s string) (time.Duration, bool) {
	hms, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 || (frac != "" && !isDigits(frac)) || len(frac) > 9 {
		return 0, false
	}
	var v [3]int
	for i, part := range parts {
		if len(part) != 2 || !isDigits(part) {
			return 0, false
		}
		v[i], _ = strconv.Atoi(part)
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 60 {
		return 0, false
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute +
		time.Duration(v[2])*time.Second + time.Duration(fracNanos(frac)), true
}

// parseDuration parses a -T column without its brackets ("0.000123").
func parseDuration(s string) (time.Duration, bool) {
	sec, frac, ok := strings.Cut(s, ".")
	if !ok || !isDigits(sec) || !isDigits(frac) || len(sec) > 9 || len(frac) > 9 {
		return 0, false
	}
	v, _ := strconv.ParseInt(sec, 10, 64)
	return time.Duration(v)*time.Second + time.Duration(fracNanos(frac)), true
}

// fracNanos converts the digits after a decimal point to nanoseconds.
func fracNanos(frac string) int64 {
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	return ns
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
