package filetrace

import (
	"strconv"
	"strings"
)

// syscallNames maps the x86_64 syscall numbers that the eBPF program
// reports to their names.
var syscallNames = map[uint16]string{
	0: "read", 1: "write", 2: "open", 3: "close",
	17: "pread64", 18: "pwrite64", 19: "readv", 20: "writev",
	40: "sendfile", 85: "creat", 257: "openat", 275: "splice",
	295: "preadv", 296: "pwritev", 326: "copy_file_range",
	327: "preadv2", 328: "pwritev2", 437: "openat2",
}

func syscallName(nr uint16) string {
	if n, ok := syscallNames[nr]; ok {
		return n
	}
	return "syscall_" + strconv.Itoa(int(nr))
}

// openFlagNames are the x86_64 open flags, in the order strace prints them.
var openFlagNames = []struct {
	bit  uint64
	name string
}{
	{0o100, "O_CREAT"},
	{0o200, "O_EXCL"},
	{0o400, "O_NOCTTY"},
	{0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"},
	{0o4000, "O_NONBLOCK"},
	{0o4010000, "O_SYNC"}, // __O_SYNC|O_DSYNC
	{0o10000, "O_DSYNC"},
	{0o20000, "O_ASYNC"},
	{0o40000, "O_DIRECT"},
	{0o100000, "O_LARGEFILE"},
	{0o400000, "O_NOFOLLOW"},
	{0o1000000, "O_NOATIME"},
	{0o2000000, "O_CLOEXEC"},
	{0o20200000, "O_TMPFILE"}, // __O_TMPFILE|O_DIRECTORY
	{0o200000, "O_DIRECTORY"},
	{0o10000000, "O_PATH"},
}

// openFlags formats open flags like strace: "O_RDONLY|O_CLOEXEC".
func openFlags(f uint64) string {
	var b strings.Builder
	switch f & 3 {
	case 0:
		b.WriteString("O_RDONLY")
	case 1:
		b.WriteString("O_WRONLY")
	case 2:
		b.WriteString("O_RDWR")
	default:
		b.WriteString("O_ACCMODE")
	}
	rest := f &^ 3
	for _, fl := range openFlagNames {
		if rest&fl.bit == fl.bit {
			b.WriteString("|")
			b.WriteString(fl.name)
			rest &^= fl.bit
		}
	}
	if rest != 0 {
		b.WriteString("|0")
		b.WriteString(strconv.FormatUint(rest, 8))
	}
	return b.String()
}
