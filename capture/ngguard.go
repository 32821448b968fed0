package capture

import (
	"encoding/binary"
	"fmt"
)

// Bounds on the per-file tables of a pcapng file: a small file can hold
// millions of interface description blocks (20 bytes each, and they
// compress to almost nothing), each of which pcapgo keeps.
const (
	// MaxInterfaces is the most interface description blocks one pcapng
	// section may have.
	MaxInterfaces = 65536
	// MaxSections is the most sections one pcapng file may have.
	MaxSections = 65536
	// maxListedInterfaces bounds InputInfo.Interfaces (a list for
	// report headers, not a table anything depends on).
	maxListedInterfaces = 256
)

const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 1
)

// ngGuard watches the blocks of a pcapng stream as it is read and fails
// the read that would take a section past MaxInterfaces interfaces or the
// file past MaxSections sections, before pcapgo stores them. It passes
// every byte through unchanged; a stream that does not start with a
// section header block is passed through unwatched.
type ngGuard struct {
	path     string
	started  bool
	off      bool // not pcapng, or a block too damaged to follow
	bo       binary.ByteOrder
	hdr      [12]byte
	hn       int
	remain   uint64 // bytes of the current block after its 12-byte head
	ifaces   int
	sections int
}

// watch looks at the bytes p, just read from the stream, and returns an
// error if they go past a bound.
func (g *ngGuard) watch(p []byte) error {
	for len(p) > 0 && !g.off {
		if g.remain > 0 {
			n := min(uint64(len(p)), g.remain)
			g.remain -= n
			p = p[n:]
			continue
		}
		n := copy(g.hdr[g.hn:], p)
		g.hn += n
		p = p[n:]
		if g.hn < len(g.hdr) {
			return nil
		}
		g.hn = 0
		if err := g.block(); err != nil {
			return err
		}
	}
	return nil
}

// block handles a block head.
func (g *ngGuard) block() error {
	if binary.LittleEndian.Uint32(g.hdr[:4]) == blockSHB {
		switch binary.LittleEndian.Uint32(g.hdr[8:]) {
		case 0x1a2b3c4d:
			g.bo = binary.LittleEndian
		case 0x4d3c2b1a:
			g.bo = binary.BigEndian
		default:
			g.off = true
			return nil
		}
		g.started = true
		g.sections++
		g.ifaces = 0
		if g.sections > MaxSections {
			return fmt.Errorf("%s: more than %d pcapng sections: not reading further", g.path, MaxSections)
		}
	} else if !g.started {
		g.off = true // not pcapng
		return nil
	} else if g.bo.Uint32(g.hdr[:4]) == blockIDB {
		g.ifaces++
		if g.ifaces > MaxInterfaces {
			return fmt.Errorf("%s: pcapng section %d has more than %d interfaces: not reading further", g.path, g.sections, MaxInterfaces)
		}
	}
	length := g.bo.Uint32(g.hdr[4:8])
	if length < 12 || length%4 != 0 {
		g.off = true // damaged: pcapgo says what is wrong
		return nil
	}
	g.remain = uint64(length) - 12
	return nil
}
