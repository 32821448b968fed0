package live

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CreateFile opens path for writing a capture or its sidecar, owner-only
// (0600, whatever the umask). A new file is created with O_EXCL and
// O_NOFOLLOW, so a symbolic link planted at path (in /tmp, say) is never
// followed and its target neither truncated nor chmodded. An existing
// regular file is replaced only if it belongs to the effective user and
// has no other hard link; a device or FIFO (-w /dev/null) is written as
// it is, its mode left alone.
func CreateFile(path string) (*os.File, error) {
	const create = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW
	f, err := os.OpenFile(path, create, 0o600)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symbolic link: not following it (remove it, or name another file)", path)
	case fi.Mode().IsRegular():
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != uint32(os.Geteuid()) || st.Nlink > 1) {
			return nil, fmt.Errorf("%s exists and belongs to another user or has other hard links: not overwriting it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
		return os.OpenFile(path, create, 0o600)
	default:
		return os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	}
}
