package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// File magics, as the first four bytes appear in the file.
var (
	magicPcapMicroLE = [4]byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapMicroBE = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNanoLE  = [4]byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNanoBE  = [4]byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapng      = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}
)

const (
	pcapHeaderLen    = 24
	pcapRecordLen    = 16
	shbPrefixLen     = 12 // block type, block length, byte-order magic
	gzipMagic0       = 0x1f
	gzipMagic1       = 0x8b
	pcapVersionMajor = 2
	pcapVersionMinor = 4
)

// streamKey names one interface of one section of a pcapng file.
type streamKey struct {
	section, iface int
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n *atomic.Int64
	// guard, if set, watches the bytes of a pcapng stream for its bounds.
	guard *ngGuard
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.guard != nil {
		if gerr := c.guard.watch(p[:n]); gerr != nil {
			return n, gerr
		}
	}
	return n, err
}

// MaxInflateRatio bounds how much gzip data may expand once the
// decompressed stream passes InflateFloor: real captures compress 2 to
// 20 times, a decompression bomb about 1000 times.
const (
	MaxInflateRatio = 200
	InflateFloor    = 64 << 20
)

// inflateGuard ends a gzip stream that expands beyond MaxInflateRatio
// (past InflateFloor) or beyond --max-input, so that a small bomb cannot
// cost CPU and time in proportion to what it would expand to.
type inflateGuard struct {
	r     io.Reader
	path  string
	raw   *atomic.Int64 // compressed bytes read from the file
	buf   *bufio.Reader // of them, those not yet given to gzip
	start int64
	n     int64
	max   int64
}

// ErrInputTooLarge is wrapped by the error that ends an input beyond
// FileOptions.MaxInput or MaxInflateRatio.
var ErrInputTooLarge = errors.New("input too large")

func (g *inflateGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.max > 0 && g.n > g.max {
		return n, fmt.Errorf("%s: decompresses to more than --max-input=%d bytes: %w", g.path, g.max, ErrInputTooLarge)
	}
	if g.n > InflateFloor {
		if raw := g.raw.Load() - int64(g.buf.Buffered()) - g.start; raw > 0 && g.n > MaxInflateRatio*raw {
			return n, fmt.Errorf("%s: gzip data expands more than %d times (%d bytes from %d): a decompression bomb? (decompress a real capture first and analyze the result): %w", g.path, MaxInflateRatio, g.n, raw, ErrInputTooLarge)
		}
	}
	return n, err
}

// reader reads one stream of one input: the whole file for pcap, one
// interface of one section (or, for the first reader, everything no other
// reader claimed) for pcapng.
type reader struct {
	in     *input
	f      io.ReadCloser
	raw    *counter     // the file, counting into the input's progress or own
	own    atomic.Int64 // bytes of the file read, for readers other than the first
	stream atomic.Int64 // bytes decompressed, for gzip files
	// streamN counts the bytes of the uncompressed stream read from below
	// br: the file's counter, or stream for gzip.
	streamN *atomic.Int64
	br      *bufio.Reader
	gz      *gzip.Reader
	guard   *ngGuard
	pcap    *pcapgo.Reader
	pcapBO  binary.ByteOrder
	ng      *pcapgo.NgReader

	frame   int // packets read, in file order
	section int // current pcapng section
	// key is the stream this reader delivers. The first reader of a pcapng
	// file (discover) adopts the key of its first packet and also delivers
	// the streams it could not hand to readers of their own; the other
	// readers (spawned) deliver exactly their key.
	key      streamKey
	keyed    bool
	discover bool
	spawned  bool
	done     bool
	win      window
}

// newReader opens in and positions it at start. spawned readers deliver the
// stream key only; the first reader of an input is not spawned.
func newReader(in *input, start sectionStart, key streamKey, spawned bool) (*reader, error) {
	f, err := in.open()
	if err != nil {
		return nil, err
	}
	r := &reader{
		in:      in,
		f:       f,
		frame:   start.frames,
		section: key.section,
		key:     key,
		keyed:   spawned,
		spawned: spawned,
	}
	r.win.init(in.src.opts)
	if err := r.init(start.offset); err != nil {
		f.Close()
		return nil, err
	}
	r.discover = !spawned && r.ng != nil && in.split
	return r, nil
}

func (r *reader) init(offset int64) error {
	path := r.in.info.Path
	progress := &r.in.read
	if r.spawned {
		progress = &r.own
	}
	r.guard = &ngGuard{path: path}
	r.raw = &counter{r: r.f, n: progress, guard: r.guard}
	r.br = bufio.NewReaderSize(r.raw, bufferSize(r.in.size))
	r.streamN = progress // without gzip the stream is the file

	if m, _ := r.br.Peek(2); len(m) == 2 && m[0] == gzipMagic0 && m[1] == gzipMagic1 {
		gz, err := gzip.NewReader(r.br)
		if err != nil {
			return fmt.Errorf("%s: read gzip header: %w", path, err)
		}
		r.gz = gz
		// The guard watches the decompressed stream (it has seen the
		// gzip magic: a fresh one).
		r.raw.guard = nil
		r.guard = &ngGuard{path: path}
		guard := &inflateGuard{r: gz, path: path, raw: r.raw.n, buf: r.br, max: r.in.src.opts.MaxInput, start: r.raw.n.Load() - int64(r.br.Buffered())}
		r.br = bufio.NewReaderSize(&counter{r: guard, n: &r.stream, guard: r.guard}, bufferSize(4*r.in.size))
		r.streamN = &r.stream
	} else if max := r.in.src.opts.MaxInput; max > 0 && r.in.size > max {
		return fmt.Errorf("%s: %d bytes, more than --max-input=%d: %w", path, r.in.size, max, ErrInputTooLarge)
	}

	if offset > 0 {
		if err := r.skipTo(offset); err != nil {
			return fmt.Errorf("%s: seek to section at offset %d: %w", path, offset, err)
		}
	}

	head, err := r.br.Peek(4)
	if len(head) == 0 && errors.Is(err, io.EOF) {
		if r.gz != nil {
			return fmt.Errorf("%s: empty file after gzip decompression", path)
		}
		return fmt.Errorf("%s: empty file", path)
	}
	if len(head) < 4 {
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: read file header: %w", path, err)
		}
		return fmt.Errorf("%s: truncated file header (%d bytes)", path, len(head))
	}
	switch magic := [4]byte(head); magic {
	case magicPcapng:
		return r.initPcapng()
	case magicPcapMicroLE, magicPcapNanoLE:
		return r.initPcap(binary.LittleEndian)
	case magicPcapMicroBE, magicPcapNanoBE:
		return r.initPcap(binary.BigEndian)
	default:
		what := "not a pcap or pcapng file"
		if r.gz != nil {
			what = "gzip content is not a pcap or pcapng file"
		}
		return fmt.Errorf("%s: %s (magic % x)", path, what, head)
	}
}

// bufferSize is the read buffer for a file of size bytes: readBufferSize,
// or less for a small file.
func bufferSize(size int64) int {
	if size <= 0 || size >= readBufferSize {
		return readBufferSize
	}
	return max(int(size), 4096)
}

// skipTo moves to offset in the uncompressed stream, seeking if it can.
func (r *reader) skipTo(offset int64) error {
	if sk, ok := r.f.(io.Seeker); ok && r.gz == nil {
		if _, err := sk.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		// A section starts here: the guard follows its blocks.
		*r.guard = ngGuard{path: r.in.info.Path}
		r.br.Reset(r.raw)
		r.streamN.Store(offset)
		return nil
	}
	if _, err := r.br.Discard(int(offset)); err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func (r *reader) initPcap(bo binary.ByteOrder) error {
	path := r.in.info.Path
	hdr, err := r.br.Peek(pcapHeaderLen)
	if len(hdr) < pcapHeaderLen {
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: read pcap header: %w", path, err)
		}
		return fmt.Errorf("%s: truncated pcap file header (%d of %d bytes)", path, len(hdr), pcapHeaderLen)
	}
	major, minor := bo.Uint16(hdr[4:6]), bo.Uint16(hdr[6:8])
	if major != pcapVersionMajor || minor != pcapVersionMinor {
		return fmt.Errorf("%s: unsupported pcap version %d.%d", path, major, minor)
	}
	pr, err := pcapgo.NewReader(r.br)
	if err != nil {
		return fmt.Errorf("%s: read pcap header: %w", path, err)
	}
	r.pcap, r.pcapBO = pr, bo
	return nil
}

func (r *reader) initPcapng() error {
	path := r.in.info.Path
	ng, err := pcapgo.NewNgReader(r.br, pcapgo.NgReaderOptions{
		WantMixedLinkType: true,
		SectionEndCallback: func([]pcapgo.NgInterface, pcapgo.NgSectionInfo) {
			r.newSection()
		},
		StatisticsCallback: func(iface int, st pcapgo.NgInterfaceStatistics) {
			var name string
			if desc, err := r.ng.Interface(iface); err == nil {
				name = desc.Name
			}
			r.in.addStats(streamKey{section: r.section, iface: iface}, name, st)
		},
	})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: truncated pcapng section header", path)
		}
		return fmt.Errorf("%s: read pcapng section header: %w", path, err)
	}
	r.ng = ng
	return nil
}

// newSection is called by the pcapng reader when it has read the first
// bytes of a section header block after the first.
func (r *reader) newSection() {
	r.section++
	if r.discover && r.section == len(r.in.sections) {
		r.in.sections = append(r.in.sections, sectionStart{
			offset: r.offset() - shbPrefixLen,
			frames: r.frame,
		})
	}
}

func (r *reader) format() string {
	if r.ng != nil {
		return "pcapng"
	}
	return "pcap"
}

// offset is the position in the uncompressed stream of the next byte the
// pcap or pcapng reader will read.
func (r *reader) offset() int64 {
	return r.streamN.Load() - int64(r.br.Buffered())
}

// where formats a position for error messages.
func (r *reader) where(frame int, off int64) string {
	if r.gz != nil {
		return fmt.Sprintf("frame %d (uncompressed offset %d)", frame, off)
	}
	return fmt.Sprintf("frame %d (offset %d)", frame, off)
}

// next reads the next packet of the file, whichever stream it belongs to.
// It returns io.EOF at a clean end of the file.
func (r *reader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	if r.pcap != nil {
		return r.nextPcap()
	}
	return r.nextPcapng()
}

func (r *reader) nextPcap() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	path := r.in.info.Path
	off := r.offset()
	frame := r.frame + 1
	hdr, err := r.br.Peek(pcapRecordLen)
	if len(hdr) < pcapRecordLen {
		switch {
		case len(hdr) == 0 && errors.Is(err, io.EOF):
			return nil, gopacket.CaptureInfo{}, 0, io.EOF
		case errors.Is(err, io.EOF):
			return nil, gopacket.CaptureInfo{}, 0, fmt.Errorf("%s: truncated record header at %s", path, r.where(frame, off))
		default:
			return nil, gopacket.CaptureInfo{}, 0, fmt.Errorf("%s: read error at %s: %w", path, r.where(frame, off), err)
		}
	}
	caplen, origlen := r.pcapBO.Uint32(hdr[8:12]), r.pcapBO.Uint32(hdr[12:16])
	if caplen > maxCaptureLength {
		return nil, gopacket.CaptureInfo{}, 0, fmt.Errorf("%s: %s: capture length %d exceeds the maximum of %d", path, r.where(frame, off), caplen, maxCaptureLength)
	}
	if caplen > origlen {
		return nil, gopacket.CaptureInfo{}, 0, fmt.Errorf("%s: %s: capture length %d exceeds packet length %d", path, r.where(frame, off), caplen, origlen)
	}
	data, ci, err := r.pcap.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ci, 0, fmt.Errorf("%s: truncated packet record at %s", path, r.where(frame, off))
		}
		return nil, ci, 0, fmt.Errorf("%s: read error at %s: %w", path, r.where(frame, off), err)
	}
	r.frame = frame
	return data, ci, r.pcap.LinkType(), nil
}

func (r *reader) nextPcapng() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	path := r.in.info.Path
	off := r.offset()
	frame := r.frame + 1
	data, ci, err := r.ng.ZeroCopyReadPacketData()
	if err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return nil, ci, 0, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, ci, 0, fmt.Errorf("%s: truncated block at %s", path, r.where(frame, off))
		default:
			return nil, ci, 0, fmt.Errorf("%s: bad block at %s: %w", path, r.where(frame, off), err)
		}
	}
	if ci.CaptureLength > maxCaptureLength {
		return nil, ci, 0, fmt.Errorf("%s: %s: capture length %d exceeds the maximum of %d", path, r.where(frame, off), ci.CaptureLength, maxCaptureLength)
	}
	var lt layers.LinkType
	if len(ci.AncillaryData) > 0 {
		lt, _ = ci.AncillaryData[0].(layers.LinkType)
	}
	ci.AncillaryData = nil
	r.frame = frame
	return data, ci, lt, nil
}

// fill reads packets into the reorder window until its first packet may go
// out or the file is done.
func (r *reader) fill() {
	for !r.done && !r.win.ready() {
		r.readOne()
	}
}

// readOne reads the next packet of this reader's stream into the window, or
// marks the reader done.
func (r *reader) readOne() {
	for {
		data, ci, lt, err := r.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.in.fail(err)
			}
			r.stop()
			return
		}
		if r.ng != nil && !r.mine(ci, lt) {
			if r.spawned && r.section > r.key.section {
				r.stop() // past the end of this reader's section
				return
			}
			continue
		}
		if r.in.shift != 0 {
			ci.Timestamp = ci.Timestamp.Add(r.in.shift)
		}
		r.win.push(data, ci, lt, r.frame)
		return
	}
}

// mine reports whether this reader delivers a pcapng packet; the first reader
// starts a reader for each interface it meets, while it can.
func (r *reader) mine(ci gopacket.CaptureInfo, lt layers.LinkType) bool {
	key := streamKey{section: r.section, iface: ci.InterfaceIndex}
	if r.spawned {
		return key == r.key
	}
	in := r.in
	if !r.keyed {
		r.key, r.keyed = key, true
		in.claimed[key] = false
		in.streams++
		r.newStream(ci, lt)
		return true
	}
	if key == r.key {
		return true
	}
	if other, seen := in.claimed[key]; seen {
		return !other
	}
	r.newStream(ci, lt)
	if !r.discover || in.streams >= maxStreams {
		in.claimed[key] = false
		return true
	}
	nr, err := newReader(in, in.sections[key.section], key, true)
	if err != nil {
		in.fail(fmt.Errorf("%s: open again for interface %d: %w", in.info.Path, key.iface, err))
		in.claimed[key] = false
		return true
	}
	in.claimed[key] = true
	in.streams++
	in.readers++
	in.src.spawned = append(in.src.spawned, nr)
	return false
}

// newStream notes the interface and link type of a new pcapng stream.
func (r *reader) newStream(ci gopacket.CaptureInfo, lt layers.LinkType) {
	r.in.addLinkType(lt)
	if iface, err := r.ng.Interface(ci.InterfaceIndex); err == nil {
		r.in.addInterface(iface.Name)
	}
}

// stop ends reading: the file is closed, the window keeps its packets.
func (r *reader) stop() {
	if r.done {
		return
	}
	r.done = true
	r.close()
	r.in.readers--
	if r.in.readers == 0 && r.in.size > 0 {
		r.in.read.Store(r.in.size)
	}
}

func (r *reader) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	if r.gz != nil {
		r.gz.Close()
	}
	return err
}
