package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// This file builds small capture files byte by byte, for the cases the real
// captures do not cover (byte orders, resolutions, sections, damage).

// synthPkt is one packet of a synthetic capture.
type synthPkt struct {
	ts    time.Time
	data  []byte
	orig  int // original length; len(data) if 0
	iface int // pcapng interface index
}

func (p synthPkt) origLen() int {
	if p.orig != 0 {
		return p.orig
	}
	return len(p.data)
}

// pcapFile returns a pcap file. nano selects the nanosecond magic.
func pcapFile(bo binary.AppendByteOrder, nano bool, snaplen, linkType uint32, pkts ...synthPkt) []byte {
	var b []byte
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b = bo.AppendUint32(b, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0) // thiszone
	b = bo.AppendUint32(b, 0) // sigfigs
	b = bo.AppendUint32(b, snaplen)
	b = bo.AppendUint32(b, linkType)
	for _, p := range pkts {
		b = pcapRecord(b, bo, nano, p)
	}
	return b
}

func pcapRecord(b []byte, bo binary.AppendByteOrder, nano bool, p synthPkt) []byte {
	frac := uint32(p.ts.Nanosecond())
	if !nano {
		frac /= 1000
	}
	b = bo.AppendUint32(b, uint32(p.ts.Unix()))
	b = bo.AppendUint32(b, frac)
	b = bo.AppendUint32(b, uint32(len(p.data)))
	b = bo.AppendUint32(b, uint32(p.origLen()))
	return append(b, p.data...)
}

// ngFile builds a pcapng file block by block.
type ngFile struct {
	bo binary.AppendByteOrder
	b  []byte
}

func (f *ngFile) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	f.b = f.bo.AppendUint32(f.b, typ)
	f.b = f.bo.AppendUint32(f.b, n)
	f.b = append(f.b, body...)
	f.b = f.bo.AppendUint32(f.b, n)
}

// option appends a pcapng option, padded to 32 bits.
func (f *ngFile) option(b []byte, code uint16, val []byte) []byte {
	b = f.bo.AppendUint16(b, code)
	b = f.bo.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// section starts a section in byte order bo.
func (f *ngFile) section(bo binary.AppendByteOrder) {
	f.bo = bo
	var body []byte
	body = bo.AppendUint32(body, 0x1a2b3c4d)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0)) // section length unknown
	f.block(0x0a0d0d0a, body)
}

// iface adds an interface description; tsresol 0 leaves the option out
// (microseconds).
func (f *ngFile) iface(linkType uint16, snaplen uint32, tsresol byte, name string) {
	var body []byte
	body = f.bo.AppendUint16(body, linkType)
	body = f.bo.AppendUint16(body, 0)
	body = f.bo.AppendUint32(body, snaplen)
	if name != "" {
		body = f.option(body, 2, []byte(name))
	}
	if tsresol != 0 {
		body = f.option(body, 9, []byte{tsresol})
	}
	body = f.option(body, 0, nil)
	f.block(1, body)
}

// packet adds an enhanced packet block; units is the timestamp in the
// interface's resolution.
func (f *ngFile) packet(iface int, units uint64, data []byte, orig int) {
	if orig == 0 {
		orig = len(data)
	}
	var body []byte
	body = f.bo.AppendUint32(body, uint32(iface))
	body = f.bo.AppendUint32(body, uint32(units>>32))
	body = f.bo.AppendUint32(body, uint32(units))
	body = f.bo.AppendUint32(body, uint32(len(data)))
	body = f.bo.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	f.block(6, body)
}

// frameData returns a recognisable frame: n bytes starting with tag.
func frameData(tag byte, n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = tag + byte(i)
	}
	return d
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTemp writes b to a file named name in a new temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// memSpec is an input read from memory, as the fuzz target uses.
func memSpec(name string, b []byte, split bool) inputSpec {
	return inputSpec{
		path:  name,
		open:  func() (io.ReadCloser, error) { return nopSeekCloser{bytes.NewReader(b)}, nil },
		size:  int64(len(b)),
		split: split,
	}
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
