package strace

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// followed lists the system calls the parser looks at.
var followed = map[string]bool{
	"open": true, "openat": true, "openat2": true, "creat": true,
	"read": true, "pread64": true, "readv": true, "preadv": true, "preadv2": true,
	"write": true, "pwrite64": true, "writev": true, "pwritev": true, "pwritev2": true,
	"sendfile": true, "sendfile64": true, "splice": true, "copy_file_range": true,
	"close": true, "close_range": true,
	"dup": true, "dup2": true, "dup3": true, "fcntl": true, "fcntl64": true,
	"clone": true, "clone3": true, "fork": true, "vfork": true,
}

// result is the parsed "= ..." part of a line.
type result struct {
	val     int64
	errName string
	annot   string // -y path of a returned descriptor
}

// call interprets one complete call: name(args) = result.
func (p *parser) call(tid int, name, text string, t time.Time, dur time.Duration) error {
	args, rest, err := splitArgs(text)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	res, known, err := parseResult(rest)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !known {
		return nil // "= ?": the call did not return (process exit)
	}
	pr := p.proc(tid)
	ev := fsevent.Event{Time: t, PID: pr.tgid, TID: tid, Syscall: name, Result: res.val, Err: res.errName, Duration: dur}
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%s: %d arguments, want %d", name, len(args), n)
		}
		return nil
	}
	switch name {
	case "open", "creat":
		if err := need(2); err != nil {
			return err
		}
		flags := "O_WRONLY|O_CREAT|O_TRUNC"
		if name == "open" {
			flags = args[1]
		}
		return p.open(pr, ev, "AT_FDCWD", args[0], flags, res)
	case "openat":
		if err := need(3); err != nil {
			return err
		}
		return p.open(pr, ev, args[0], args[1], args[2], res)
	case "openat2":
		if err := need(3); err != nil {
			return err
		}
		return p.open(pr, ev, args[0], args[1], structField(args[2], "flags"), res)
	case "read", "pread64", "readv", "preadv", "preadv2":
		if err := need(1); err != nil {
			return err
		}
		return p.transfer(pr, ev, fsevent.Read, args[0])
	case "write", "pwrite64", "writev", "pwritev", "pwritev2":
		if err := need(1); err != nil {
			return err
		}
		return p.transfer(pr, ev, fsevent.Write, args[0])
	case "sendfile", "sendfile64":
		if err := need(2); err != nil {
			return err
		}
		if err := p.transfer(pr, ev, fsevent.Read, args[1]); err != nil {
			return err
		}
		return p.transfer(pr, ev, fsevent.Write, args[0])
	case "splice", "copy_file_range":
		if err := need(3); err != nil {
			return err
		}
		if err := p.transfer(pr, ev, fsevent.Read, args[0]); err != nil {
			return err
		}
		return p.transfer(pr, ev, fsevent.Write, args[2])
	case "close":
		if err := need(1); err != nil {
			return err
		}
		fd, annot, ok := parseFD(args[0])
		if !ok {
			return fmt.Errorf("close: bad fd %q", truncate(args[0], 40))
		}
		ev.Op, ev.FD, ev.Path = fsevent.Close, fd, pr.fds.path(fd, annot)
		delete(pr.fds.paths, fd)
		p.emit(ev)
	case "close_range":
		if err := need(2); err != nil {
			return err
		}
		lo, err1 := strconv.ParseUint(args[0], 0, 32)
		hi, err2 := strconv.ParseUint(args[1], 0, 32)
		if err1 != nil || err2 != nil || res.val < 0 {
			return nil
		}
		for fd := range pr.fds.paths {
			if uint64(fd) >= lo && uint64(fd) <= hi {
				delete(pr.fds.paths, fd)
			}
		}
	case "dup", "dup2", "dup3":
		if err := need(1); err != nil {
			return err
		}
		if old, annot, ok := parseFD(args[0]); ok && res.val >= 0 {
			pr.fds.set(int(res.val), pr.fds.path(old, annot))
		}
	case "fcntl", "fcntl64":
		if len(args) >= 2 && strings.HasPrefix(args[1], "F_DUPFD") && res.val >= 0 {
			if old, annot, ok := parseFD(args[0]); ok {
				pr.fds.set(int(res.val), pr.fds.path(old, annot))
			}
		}
	case "clone", "clone3", "fork", "vfork":
		if res.val <= 0 || res.val > pidMax {
			return nil
		}
		child := &proc{tgid: int(res.val)}
		if strings.Contains(text, "CLONE_THREAD") {
			child.tgid = pr.tgid
		}
		if strings.Contains(text, "CLONE_FILES") {
			child.fds = pr.fds
		} else {
			child.fds = pr.fds.clone()
		}
		p.procs[int(res.val)] = child
	}
	return nil
}

// open handles open, openat, openat2 and creat.
func (p *parser) open(pr *proc, ev fsevent.Event, dirArg, pathArg, flags string, res result) error {
	name, ok := unquote(pathArg)
	if !ok {
		name = "" // strace could not read the string
	}
	if name != "" && !strings.HasPrefix(name, "/") {
		// Relative: resolve against the directory fd when known (-y, or
		// a directory opened earlier).
		dir := ""
		if dirArg == "AT_FDCWD" || strings.HasPrefix(dirArg, "AT_FDCWD<") {
			if i := strings.IndexByte(dirArg, '<'); i >= 0 && strings.HasSuffix(dirArg, ">") {
				dir = unescape(dirArg[i+1 : len(dirArg)-1])
			}
		} else if fd, annot, ok := parseFD(dirArg); ok {
			dir = pr.fds.path(fd, annot)
		}
		if strings.HasPrefix(dir, "/") {
			name = path.Join(dir, name)
		}
	}
	ev.Op, ev.Path, ev.Flags, ev.FD = fsevent.Open, name, flags, -1
	if res.val >= 0 {
		ev.FD = int(res.val)
		pr.fds.set(ev.FD, name)
	}
	p.emit(ev)
	return nil
}

// transfer handles one side of a read or write.
func (p *parser) transfer(pr *proc, ev fsevent.Event, op fsevent.Op, fdArg string) error {
	fd, annot, ok := parseFD(fdArg)
	if !ok {
		return fmt.Errorf("%s: bad fd %q", ev.Syscall, truncate(fdArg, 40))
	}
	ev.Op, ev.FD, ev.Path = op, fd, pr.fds.path(fd, annot)
	if ev.Result > 0 {
		ev.Bytes = ev.Result
	}
	p.emit(ev)
	return nil
}

// emit keeps ev if its path passes the prefix filter.
func (p *parser) emit(ev fsevent.Event) {
	if p.opts.PathPrefix != "" && !strings.HasPrefix(ev.Path, p.opts.PathPrefix) {
		return
	}
	p.events = append(p.events, ev)
}

// path returns the path of fd: the -y annotation if any, else the one
// remembered from its open.
func (t *fdTable) path(fd int, annot string) string {
	if annot != "" {
		return annot
	}
	return t.paths[fd]
}

func (t *fdTable) set(fd int, name string) {
	if _, ok := t.paths[fd]; !ok && len(t.paths) >= maxFDs {
		return
	}
	t.paths[fd] = name
}

func (t *fdTable) clone() *fdTable {
	c := &fdTable{paths: make(map[int]string, len(t.paths))}
	for fd, p := range t.paths {
		c.paths[fd] = p
	}
	return c
}

// splitArgs splits the text after "name(" into arguments at top-level
// commas, up to the matching ")", and returns what follows it.
func splitArgs(s string) (args []string, rest string, err error) {
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return nil, "", errors.New("unterminated string")
			}
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
				end := strings.Index(s[i+2:], "*/")
				if end < 0 {
					return nil, "", errors.New("unterminated comment")
				}
				i += 2 + end + 1
			}
		case '<':
			// A -y annotation: "3</path>", "AT_FDCWD</dir>".
			if i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == 'D') {
				end := strings.IndexByte(s[i:], '>')
				if end < 0 {
					return nil, "", errors.New("unterminated <...> annotation")
				}
				i += end
			}
		case '(', '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth < 0 {
				return nil, "", fmt.Errorf("unbalanced %q", c)
			}
		case ')':
			if depth == 0 {
				last := strings.TrimSpace(s[start:i])
				if last != "" || len(args) > 0 {
					args = append(args, last)
				}
				return args, s[i+1:], nil
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return nil, "", errors.New("no closing parenthesis")
}

// parseResult parses " = 14", " = -1 EAGAIN (Resource …)", " = 3</path>",
// " = 0x7f00" or " = ? ...". known is false for "?".
func parseResult(s string) (res result, known bool, err error) {
	s = strings.TrimLeft(s, " ")
	s, ok := strings.CutPrefix(s, "=")
	if !ok {
		return res, false, fmt.Errorf("no result after the arguments: %q", truncate(s, 40))
	}
	s = strings.TrimLeft(s, " ")
	tok, rest, _ := strings.Cut(s, " ")
	if tok == "?" {
		return res, false, nil
	}
	if i := strings.IndexByte(tok, '<'); i > 0 {
		// -y: "3</path>" (the path may hold spaces: take the whole line).
		full := s[i:]
		if end := strings.LastIndexByte(full, '>'); end > 0 {
			res.annot = unescape(full[1:end])
		}
		tok = tok[:i]
		rest = ""
	}
	v, err := strconv.ParseInt(tok, 0, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(tok, 0, 64)
		if uerr != nil {
			return res, false, fmt.Errorf("bad result %q", truncate(tok, 40))
		}
		v = int64(u)
	}
	res.val = v
	if v < 0 {
		name, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if errno, ok := errnos[name]; ok {
			res.errName = name
			res.val = -errno
		} else if name != "" && isUpperName(name) {
			res.errName = name
		}
	}
	return res, true, nil
}

// parseFD parses a descriptor argument: "14" or "14</path>" (-y).
func parseFD(s string) (fd int, annot string, ok bool) {
	num := s
	if i := strings.IndexByte(s, '<'); i > 0 && strings.HasSuffix(s, ">") {
		num, annot = s[:i], unescape(s[i+1:len(s)-1])
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < -1 || v > 1<<31-1 {
		return 0, "", false
	}
	return v, annot, true
}

// structField returns the value of field in a printed struct
// ("{flags=O_RDONLY|O_CLOEXEC, resolve=0}" → "O_RDONLY|O_CLOEXEC").
func structField(s, field string) string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	for _, part := range strings.Split(s, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), field+"="); ok {
			return v
		}
	}
	return ""
}

// unquote decodes a strace string argument ("\"/a\\tb\""...). ok is false
// if s is not a string (e.g. an address strace could not read).
func unquote(s string) (string, bool) {
	if !strings.HasPrefix(s, "\"") {
		return "", false
	}
	end := 1
	for end < len(s) && s[end] != '"' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(s) {
		return "", false
	}
	return unescape(s[1:end]), true
}

// unescape decodes strace's C escapes: \n \t \r \v \f \\ \" \NNN \xNN.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(s) && isHex(s[i+1]) {
				i++
				v = v*16 + hexVal(s[i])
				n++
			}
			if n == 0 {
				b.WriteByte('x')
			} else {
				b.WriteByte(byte(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; n++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			b.WriteByte(byte(v))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

func isUpperName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
