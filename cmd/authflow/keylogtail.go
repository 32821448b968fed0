package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"
)

// keylogTail follows a key log that a TLS client appends to while it is
// being captured (SSLKEYLOGFILE), handing out the whole lines added since
// the last look, so that capture can embed them in the pcapng before the
// packets they decrypt.
type keylogTail struct {
	path string
	f    *os.File
	off  int64
	// partial is a line not finished yet.
	partial []byte
	// tried is when opening the file was last tried (capture time): a
	// key log that does not exist yet is looked for once a second.
	tried time.Time
	// warned is set once a read error has been said.
	warned bool
}

// next returns the lines added to the key log since the last call, or nil;
// at is the capture time of the packet about to be written.
func (k *keylogTail) next(at time.Time) ([]byte, error) {
	if k.f == nil {
		if !k.tried.IsZero() && at.Sub(k.tried) < time.Second {
			return nil, nil
		}
		k.tried = at
		f, err := os.Open(k.path)
		if err != nil {
			return nil, nil // the client has not created it yet
		}
		k.f = f
	}
	st, err := k.f.Stat()
	if err != nil {
		return nil, k.fail(err)
	}
	if st.Size() < k.off {
		// Truncated and written again: read it from the start.
		k.off, k.partial = 0, nil
	}
	if st.Size() == k.off {
		return nil, nil
	}
	buf := make([]byte, st.Size()-k.off)
	n, err := k.f.ReadAt(buf, k.off)
	if err != nil && err != io.EOF {
		return nil, k.fail(err)
	}
	k.off += int64(n)
	data := append(k.partial, buf[:n]...)
	end := bytes.LastIndexByte(data, '\n') + 1
	k.partial = append([]byte(nil), data[end:]...)
	if end == 0 {
		return nil, nil
	}
	return data[:end], nil
}

// fail says a read error once.
func (k *keylogTail) fail(err error) error {
	if k.warned {
		return nil
	}
	k.warned = true
	return fmt.Errorf("read TLS key log %s: %w: its keys from here on are not embedded in the capture", k.path, err)
}

// close closes the key log.
func (k *keylogTail) close() {
	if k.f != nil {
		k.f.Close()
	}
}
