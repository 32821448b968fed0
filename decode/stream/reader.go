package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/authflow/authflow/decode/event"
)

// BufferSize is the largest size of a Reader's buffer: the longest line,
// header block or protocol frame a decoder can look at in one piece.
const BufferSize = 64 << 10

// initialBufferSize is the size a Reader's buffer starts with. It grows,
// up to BufferSize, only when a decoder peeks further, and shrinks back at
// the start of a message: a connection waiting for its next message holds
// a small buffer.
const initialBufferSize = 4 << 10

// GapError is returned by a Reader where bytes of the stream are missing
// from the capture (lost packets, snaplen cuts, a buffer limit). The bytes
// before the gap have all been returned; reading on continues after it.
type GapError struct {
	// Bytes is how many bytes are missing, or -1 when unknown.
	Bytes int
}

func (e *GapError) Error() string {
	if e.Bytes < 0 {
		return "bytes missing from the capture"
	}
	return fmt.Sprintf("%d bytes missing from the capture", e.Bytes)
}

// IsGap reports whether err is (or wraps) a GapError.
func IsGap(err error) bool {
	var g *GapError
	return errors.As(err, &g)
}

// ErrStopped is returned to a decoder whose connection was abandoned
// (evicted or the analysis ended early). The decoder should return.
var ErrStopped = errors.New("stream stopped")

type mark struct {
	offset int64
	pos    event.Position
}

// feeder is the io.Reader under a Reader's bufio.Reader. It hands out the
// chunk the pipeline gave it and, when that is used up, suspends the
// decoder until the pipeline feeds the next one.
type feeder struct {
	// prefix holds bytes taken back from a Reader's old buffer when it
	// was resized: they come before everything else.
	prefix  []byte
	chunk   []byte
	pending *GapError // a gap to report before the chunk
	eof     bool
	stopped bool
	offset  int64 // stream offset of chunk[0]
	marks   []mark
	wait    func() bool // suspends the decoder; false when it must stop
}

func (f *feeder) Read(p []byte) (int, error) {
	if len(f.prefix) > 0 {
		n := copy(p, f.prefix)
		f.prefix = f.prefix[n:]
		f.offset += int64(n)
		return n, nil
	}
	for len(f.chunk) == 0 {
		if f.pending != nil {
			return 0, f.takeGap()
		}
		if f.stopped {
			return 0, ErrStopped
		}
		if f.eof {
			return 0, io.EOF
		}
		if f.wait == nil || !f.wait() {
			f.stopped = true
			return 0, ErrStopped
		}
	}
	if f.pending != nil {
		return 0, f.takeGap()
	}
	n := copy(p, f.chunk)
	f.chunk = f.chunk[n:]
	f.offset += int64(n)
	return n, nil
}

// takeGap reports the pending gap, counting its bytes into the offset.
func (f *feeder) takeGap() error {
	g := f.pending
	f.pending = nil
	if g.Bytes > 0 {
		f.offset += int64(g.Bytes)
	}
	return g
}

// addMark records that the bytes from stream offset off on were first
// captured at pos, and forgets marks no lookup can need any more.
func (f *feeder) addMark(off int64, pos event.Position) {
	if n := len(f.marks); n > 0 && f.marks[n-1].pos.Frame == pos.Frame {
		return
	}
	f.marks = append(f.marks, mark{off, pos})
	// A lookup is never for a byte before offset-BufferSize.
	oldest := off - BufferSize
	drop := 0
	for drop+1 < len(f.marks) && f.marks[drop+1].offset <= oldest {
		drop++
	}
	if drop > 64 || (drop > 0 && drop == len(f.marks)-1) {
		if n := len(f.marks) - drop; cap(f.marks) > 1024 && cap(f.marks) > 4*n {
			// Many tiny segments are gone: give their room back.
			f.marks = append(make([]mark, 0, 2*n), f.marks[drop:]...)
		} else {
			f.marks = append(f.marks[:0], f.marks[drop:]...)
		}
	}
}

// markSize is the memory of one mark.
const markSize = 48

func (f *feeder) posAt(off int64) event.Position {
	if len(f.marks) == 0 {
		return event.Position{}
	}
	// The last mark at or before off; the first if off is before all.
	i := sort.Search(len(f.marks), func(i int) bool { return f.marks[i].offset > off }) - 1
	return f.marks[max(i, 0)].pos
}

// Reader is one direction of a TCP connection, as a byte stream for a
// pull-style protocol decoder. It embeds a bufio.Reader whose buffer
// grows from a few KiB up to BufferSize as the decoder peeks further
// (Peek, ReadSlice, PeekUntil: call them on the Reader, not on the
// embedded bufio.Reader); besides reading, it tells where each byte came
// from.
//
// A Reader returns a *GapError where bytes are missing, io.EOF where the
// direction ended (FIN, RST or end of capture) and ErrStopped when the
// decoder must give up. It is used by one decoder goroutine only.
type Reader struct {
	*bufio.Reader
	src *feeder
	// mem, if set, counts the bytes of buffers of every Reader of an
	// Assembler.
	mem *int64
}

func newReader(src *feeder, mem *int64) *Reader {
	r := &Reader{Reader: bufio.NewReaderSize(src, initialBufferSize), src: src, mem: mem}
	r.account(initialBufferSize)
	return r
}

func (r *Reader) account(n int) {
	if r.mem != nil {
		*r.mem += int64(n)
	}
}

// release gives up the buffer of a Reader whose decoder has returned.
func (r *Reader) release() {
	r.account(-r.Reader.Size())
	r.src.prefix, r.src.chunk, r.src.marks = nil, nil, nil
	r.src.stopped = true
	r.Reader = bufio.NewReaderSize(r.src, 16)
}

// resize replaces the buffer with one of size bytes. The bytes buffered
// are handed back to the feeder, to be read again first.
func (r *Reader) resize(size int) {
	old := r.Reader
	if n := old.Buffered(); n > 0 {
		b, _ := old.Peek(n)
		if len(r.src.prefix) > 0 {
			b = append(b[:n:n], r.src.prefix...)
		}
		r.src.prefix = b
		r.src.offset -= int64(n)
	}
	r.Reader = bufio.NewReaderSize(r.src, size)
	r.account(size - old.Size())
}

// grow makes the buffer hold at least n bytes, up to BufferSize.
func (r *Reader) grow(n int) {
	size := r.Reader.Size()
	if size >= BufferSize || n <= size {
		return
	}
	for size < n {
		size *= 2
	}
	r.resize(min(size, BufferSize))
}

// Peek is bufio.Reader's Peek, growing the buffer first when n is larger
// than it (up to BufferSize; beyond it, Peek fails with
// bufio.ErrBufferFull).
func (r *Reader) Peek(n int) ([]byte, error) {
	if n > r.Reader.Size() {
		r.grow(n)
	}
	return r.Reader.Peek(n)
}

// ReadSlice is bufio.Reader's ReadSlice with the buffer grown as needed:
// it fails with bufio.ErrBufferFull only when BufferSize bytes come
// without delim.
func (r *Reader) ReadSlice(delim byte) ([]byte, error) {
	for r.Reader.Size() < BufferSize {
		n := r.Buffered()
		b, _ := r.Reader.Peek(n)
		if bytes.IndexByte(b, delim) >= 0 {
			break
		}
		if n < r.Reader.Size() {
			if _, err := r.Reader.Peek(n + 1); err != nil {
				// Return what there is with the error, as ReadSlice does.
				b, _ = r.Reader.Peek(r.Buffered())
				r.Discard(len(b))
				return b, err
			}
			continue
		}
		r.grow(n + 1)
	}
	return r.Reader.ReadSlice(delim)
}

// NewBytesReader returns a Reader over fixed data, for tests and tools:
// every byte is at position pos.
func NewBytesReader(data []byte, pos event.Position) *Reader {
	f := &feeder{chunk: data, eof: true}
	f.marks = []mark{{0, pos}}
	return newReader(f, nil)
}

// Offset is the stream offset of the next byte the decoder will read.
func (r *Reader) Offset() int64 {
	return r.src.offset - int64(r.Buffered())
}

// Pos is the capture position of the next unread byte. Call it when that
// byte is buffered (after a Peek), so that its segment is known.
func (r *Reader) Pos() event.Position {
	return r.src.posAt(r.Offset())
}

// LastPos is the capture position of the last byte read.
func (r *Reader) LastPos() event.Position {
	off := r.Offset() - 1
	if off < 0 {
		off = 0
	}
	return r.src.posAt(off)
}

// Begin waits for the next byte and returns its position: the start of
// the next message.
func (r *Reader) Begin() (event.Position, error) {
	if _, err := r.Peek(1); err != nil {
		return event.Position{}, err
	}
	if r.Reader.Size() > initialBufferSize && r.Buffered() <= initialBufferSize {
		// A large message is over: go back to a small buffer.
		r.resize(initialBufferSize)
	}
	return r.Pos(), nil
}

// ErrTooLong is returned by PeekUntil when the delimiter is not within the
// limit.
var ErrTooLong = errors.New("message too long")

// PeekUntil waits until the buffered bytes contain delim and returns them,
// up to and including delim, without consuming them. Unlike a Peek of a
// fixed size, it asks for one more byte at a time, so it returns as soon
// as delim has arrived and never waits for bytes after it (which may not
// come before the other direction speaks). It
// fails with ErrTooLong when limit bytes (at most BufferSize) come without
// delim, and with the stream's error when it ends first; the bytes
// buffered so far are returned with the error.
func (r *Reader) PeekUntil(delim []byte, limit int) ([]byte, error) {
	return r.PeekMatch(func(b []byte, scanned int) int {
		from := max(0, scanned-len(delim)+1)
		if i := bytes.Index(b[from:], delim); i >= 0 {
			return from + i + len(delim)
		}
		return -1
	}, limit)
}

// PeekMatch is PeekUntil with a matcher: match returns the length of the
// complete message at the start of b, or -1 if b does not hold it yet.
// scanned tells match how many bytes of b it has already seen without a
// match, so that it need not scan them again.
func (r *Reader) PeekMatch(match func(b []byte, scanned int) int, limit int) ([]byte, error) {
	if limit > BufferSize || limit <= 0 {
		limit = BufferSize
	}
	scanned := 0
	for {
		b, err := r.Peek(max(1, min(r.Buffered(), limit)))
		if n := match(b, scanned); n >= 0 {
			return b[:n], nil
		}
		scanned = len(b)
		if err != nil {
			return b, err
		}
		if len(b) >= limit {
			return b, ErrTooLong
		}
		// Wait for at least one more byte.
		if _, err := r.Peek(len(b) + 1); err != nil {
			b, _ = r.Peek(r.Buffered())
			if n := match(b, scanned); n >= 0 {
				return b[:n], nil
			}
			return b, err
		}
	}
}

// Skip consumes n bytes, counting bytes missing from the capture as
// consumed. It returns how many bytes it consumed and the error that
// stopped it early (io.EOF and friends; gaps are absorbed, the first gap is
// reported through lost). Bytes not yet buffered are skipped without being
// copied.
func (r *Reader) Skip(n int64) (skipped int64, lost int64, err error) {
	for skipped < n {
		if b := r.Buffered(); b > 0 {
			k := int(min(int64(b), n-skipped))
			d, _ := r.Discard(k)
			skipped += int64(d)
			continue
		}
		f := r.src
		if len(f.prefix) > 0 {
			k := int(min(int64(len(f.prefix)), n-skipped))
			f.prefix = f.prefix[k:]
			f.offset += int64(k)
			skipped += int64(k)
			continue
		}
		if len(f.chunk) > 0 && f.pending == nil {
			k := int(min(int64(len(f.chunk)), n-skipped))
			f.chunk = f.chunk[k:]
			f.offset += int64(k)
			skipped += int64(k)
			continue
		}
		// Nothing buffered: let the feeder wait for more.
		_, err := r.Peek(1)
		if err != nil {
			var g *GapError
			if errors.As(err, &g) {
				gap := int64(g.Bytes)
				if gap < 0 || gap > n-skipped {
					return skipped, lost + max(gap, 0), err
				}
				skipped += gap
				lost += gap
				continue
			}
			return skipped, lost, err
		}
	}
	return skipped, lost, nil
}
