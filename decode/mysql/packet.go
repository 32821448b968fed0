package mysql

import (
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// maxFragment is the largest payload of one packet on the wire; a payload
// of exactly this size continues in the next packet.
const maxFragment = 0xffffff

// desyncError says the decoder lost the packet boundaries of a direction:
// bytes are missing across a header, or what arrived is not MySQL.
type desyncError struct {
	reason string
	gap    bool // bytes missing from the capture caused it; reading goes on after them
}

func (e *desyncError) Error() string { return e.reason }

func desync(format string, args ...any) error {
	return &desyncError{reason: fmt.Sprintf(format, args...)}
}

func gapDesync(format string, args ...any) error {
	return &desyncError{reason: fmt.Sprintf(format, args...), gap: true}
}

func isDesync(err error) bool {
	var d *desyncError
	return errors.As(err, &d)
}

// source is where one direction's MySQL packets come from: the TCP byte
// stream, or that stream decompressed (compressed protocol).
type source interface {
	// begin waits for the next byte and returns where it was captured.
	begin() (event.Position, error)
	// read fills p; on error it returns how many bytes it got first. A
	// *stream.GapError means bytes are missing right after those.
	read(p []byte) (int, error)
	// skip consumes n bytes, absorbing gaps within them (counted in lost).
	skip(n int64) (lost int64, err error)
	// lastTime is the capture time of the last byte consumed.
	lastTime() time.Time
}

// plainSource reads packets straight from the TCP stream.
type plainSource struct{ r *stream.Reader }

func (s plainSource) begin() (event.Position, error) { return s.r.Begin() }

func (s plainSource) read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := s.r.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s plainSource) skip(n int64) (int64, error) {
	skipped, lost, err := s.r.Skip(n)
	if err != nil && skipped < n {
		if stream.IsGap(err) {
			return lost, gapDesync("%d bytes missing from the capture across a packet boundary", lost)
		}
		return lost, err
	}
	return lost, nil
}

func (s plainSource) lastTime() time.Time { return s.r.LastPos().Time }

// frameReader is the raw payload of one compressed-protocol frame.
type frameReader struct {
	r *stream.Reader
	n int64 // bytes left
}

func (f *frameReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= int64(k)
	return k, err
}

// ReadByte lets flate read the frame without a read-ahead buffer.
func (f *frameReader) ReadByte() (byte, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	b, err := f.r.ReadByte()
	if err == nil {
		f.n--
	}
	return b, err
}

// compSource reads packets out of compressed-protocol frames: a 7-byte
// header (3-byte compressed length, sequence id, 3-byte uncompressed
// length, 0 when the payload is stored as is) and a zlib stream. Frames
// are decompressed as they are read, never held whole.
type compSource struct {
	r     *stream.Reader
	frame frameReader
	out   io.Reader     // the current frame's decompressed bytes
	zr    io.ReadCloser // reused zlib reader
	left  int64         // decompressed bytes left in the current frame
	pos   event.Position
	seq   byte // compressed sequence id of the current frame
}

func newCompSource(r *stream.Reader) *compSource {
	return &compSource{r: r, frame: frameReader{r: r}}
}

// reset forgets the current frame (after the stream lost its way).
func (s *compSource) reset() {
	s.left, s.frame.n, s.out = 0, 0, nil
}

// next moves to the next frame.
func (s *compSource) next() error {
	if s.frame.n > 0 {
		// The zlib trailer, or bytes the zlib stream did not use.
		skipped, _, err := s.r.Skip(s.frame.n)
		s.frame.n -= skipped
		if err != nil {
			if stream.IsGap(err) {
				return gapDesync("bytes missing from the capture in a compressed frame")
			}
			return err
		}
	}
	pos, err := s.r.Begin()
	if err != nil {
		if stream.IsGap(err) {
			return gapDesync("bytes missing from the capture before a compressed frame")
		}
		return err
	}
	var h [7]byte
	n, err := plainSource{s.r}.read(h[:])
	if err != nil {
		if stream.IsGap(err) {
			return gapDesync("bytes missing from the capture in a compressed frame header")
		}
		if n > 0 && err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	clen := int64(h[0]) | int64(h[1])<<8 | int64(h[2])<<16
	ulen := int64(h[4]) | int64(h[5])<<8 | int64(h[6])<<16
	s.pos, s.seq = pos, h[3]
	s.frame.n = clen
	if ulen == 0 {
		s.out, s.left = &s.frame, clen
		return nil
	}
	if clen < 2 {
		return desync("compressed frame of %d bytes claims %d uncompressed bytes", clen, ulen)
	}
	if s.zr == nil {
		s.zr, err = zlib.NewReader(&s.frame)
	} else {
		err = s.zr.(zlib.Resetter).Reset(&s.frame, nil)
	}
	if err != nil {
		if stream.IsGap(err) {
			return gapDesync("bytes missing from the capture in a compressed frame")
		}
		return desync("compressed frame: %v", err)
	}
	s.out, s.left = s.zr, ulen
	return nil
}

func (s *compSource) begin() (event.Position, error) {
	for s.left == 0 {
		if err := s.next(); err != nil {
			return event.Position{}, err
		}
	}
	return s.pos, nil
}

func (s *compSource) read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if s.left == 0 {
			if err := s.next(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return n, err
			}
			continue
		}
		end := len(p)
		if int64(end-n) > s.left {
			end = n + int(s.left)
		}
		k, err := s.out.Read(p[n:end])
		n += k
		s.left -= int64(k)
		if err != nil && !(err == io.EOF && s.left == 0) {
			switch {
			case stream.IsGap(err):
				return n, gapDesync("bytes missing from the capture in a compressed frame")
			case err == io.EOF && s.out == s.zr:
				return n, desync("compressed frame shorter than announced")
			case err == io.ErrUnexpectedEOF && s.frame.n == 0:
				return n, desync("compressed frame cut short")
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return n, io.ErrUnexpectedEOF // the capture ends
			case errors.Is(err, stream.ErrStopped):
				return n, err
			default:
				return n, desync("compressed frame: %v", err)
			}
		}
	}
	return n, nil
}

func (s *compSource) skip(n int64) (int64, error) {
	var scratch [4096]byte
	for n > 0 {
		k, err := s.read(scratch[:min(n, int64(len(scratch)))])
		n -= int64(k)
		if err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func (s *compSource) lastTime() time.Time { return s.r.LastPos().Time }

// packet is one logical MySQL packet: a 3-byte little-endian payload
// length, a sequence id and the payload, continued in the next packet
// while the length is 0xffffff.
type packet struct {
	seq     byte   // sequence id of the first fragment
	lastSeq byte   // sequence id of the last fragment
	length  int64  // payload length, all fragments together
	data    []byte // the start of the payload: at most the keep asked for, fewer when bytes are missing
	lost    int64  // payload bytes missing from the capture
	start   event.Position
	end     time.Time
}

// complete reports whether data holds the whole payload.
func (p *packet) complete() bool { return int64(len(p.data)) == p.length && p.lost == 0 }

// readPacket reads the next packet from src, keeping at most keep bytes of
// its payload in *buf (reused; p.data is valid until the next call) and
// skipping the rest without copying it. Bytes missing inside the payload
// are counted in p.lost; missing across a header they lose the framing
// (a *desyncError). io.EOF means the stream ended between packets,
// io.ErrUnexpectedEOF inside one.
func readPacket(src source, keep int, buf *[]byte) (packet, error) {
	var p packet
	pos, err := src.begin()
	if err != nil {
		if stream.IsGap(err) {
			return p, gapDesync("%v", err)
		}
		return p, err
	}
	p.start = pos
	data := (*buf)[:0]
	defer func() { *buf = data[:0] }()
	for first := true; ; first = false {
		var h [4]byte
		n, err := src.read(h[:])
		if err != nil {
			switch {
			case stream.IsGap(err):
				return p, gapDesync("%v in a packet header", err)
			case err == io.EOF && (n > 0 || !first):
				return p, io.ErrUnexpectedEOF
			}
			return p, err
		}
		flen := int64(h[0]) | int64(h[1])<<8 | int64(h[2])<<16
		if first {
			p.seq = h[3]
		}
		p.lastSeq = h[3]
		p.length += flen
		consumed := int64(0)
		if want := min(flen, int64(keep-len(data))); want > 0 && p.lost == 0 {
			if cap(data) < len(data)+int(want) {
				grown := make([]byte, len(data), min(keep, max(2*cap(data), len(data)+int(want), 512)))
				copy(grown, data)
				data = grown
			}
			k, err := src.read(data[len(data) : len(data)+int(want)])
			data = data[:len(data)+k]
			consumed = int64(k)
			if err != nil {
				var g *stream.GapError
				switch {
				case errors.As(err, &g) && g.Bytes >= 0 && int64(g.Bytes) <= flen-consumed:
					p.lost += int64(g.Bytes)
					consumed += int64(g.Bytes)
				case errors.As(err, &g):
					return p, gapDesync("%v in a packet of %d bytes", err, flen)
				case err == io.EOF:
					return p, io.ErrUnexpectedEOF
				default:
					return p, err
				}
			}
		}
		if rest := flen - consumed; rest > 0 {
			lost, err := src.skip(rest)
			p.lost += lost
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return p, err
			}
		}
		if flen < maxFragment {
			break
		}
	}
	p.data = data
	p.end = src.lastTime()
	return p, nil
}
