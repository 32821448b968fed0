package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// The download is the real image-save capture of the veth side with the
// image's body replaced: every packet up to the GET …/file request is
// copied, then the real 200 OK header block (Content-Length and
// Content-Md5 changed) is sent, then the body — the real cirros image
// repeated to the size asked — in segments of up to 1448 bytes as Linux
// sends them (PSH at the end of bursts, short segments where glance's
// 64 KiB writes drained the socket), the client ACKing every -ack-every
// segments with a moving window, zero windows and window updates, one
// segment in -loss-every lost after the capture point (three duplicate
// ACKs with SACK, then a fast retransmission), one out-of-order pair, and
// the close as the real one.

const (
	mss       = 1448
	writeSize = 64 << 10 // glance writes the image in 64 KiB chunks
	overhead  = 14 + 20 + 32
)

// realDownload is what the template's download looks like.
type realDownload struct {
	prefix   []*tpacket // every packet before the response header
	req      *tpacket   // the GET …/file request
	resp     *tpacket   // the response header segment
	lastCli  *tpacket   // the client's last packet before the response
	header   []byte     // the response header block
	length   int        // the real image's size
	body     []byte     // the real image (nil: zeroed in the template)
	finDelay time.Duration
}

func findDownload(tpl *template) (*realDownload, error) {
	ens := tpl.ens
	d := &realDownload{}
	reqIdx := -1
	for i, p := range ens {
		pl := p.payload()
		if bytes.HasPrefix(pl, []byte("GET /v2/images/")) && bytes.Contains(firstLine(pl), []byte("/file ")) {
			reqIdx = i
			break
		}
	}
	if reqIdx < 0 {
		return nil, errors.New("template: no GET …/file request in ens.pcap")
	}
	d.req = ens[reqIdx]
	srvPort, cliPort := d.req.tcp.DstPort, d.req.tcp.SrcPort
	respIdx := -1
	for i := reqIdx + 1; i < len(ens); i++ {
		p := ens[i]
		if p.tcp == nil || p.tcp.SrcPort != srvPort || p.tcp.DstPort != cliPort {
			continue
		}
		if bytes.HasPrefix(p.payload(), []byte("HTTP/1.1 200 ")) {
			respIdx = i
			break
		}
	}
	if respIdx < 0 {
		return nil, errors.New("template: no 200 response to the GET …/file request")
	}
	d.resp = ens[respIdx]
	d.prefix = ens[:respIdx]
	for i := respIdx - 1; i >= 0; i-- {
		if p := ens[i]; p.tcp != nil && p.tcp.SrcPort == cliPort && p.tcp.DstPort == srvPort {
			d.lastCli = p
			break
		}
	}
	pl := d.resp.payload()
	end := bytes.Index(pl, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, errors.New("template: response header not in one segment")
	}
	d.header = pl[:end+4]
	length, err := strconv.Atoi(headerValue(d.header, "Content-Length"))
	if err != nil || length <= 0 {
		return nil, errors.New("template: no Content-Length in the response")
	}
	// Put the real body together from its segments.
	d.body = make([]byte, length)
	bodySeq := d.resp.tcp.Seq + uint32(len(d.header))
	got := 0
	var lastData time.Time
	var cliFIN time.Time
	for _, p := range ens[respIdx:] {
		if p.tcp == nil {
			continue
		}
		if p.tcp.SrcPort == srvPort && p.tcp.DstPort == cliPort {
			data := p.payload()
			off := int(p.tcp.Seq - bodySeq)
			if p == d.resp {
				data, off = pl[len(d.header):], 0
			}
			if len(data) > 0 && off >= 0 && off+len(data) <= length {
				got += copy(d.body[off:], data)
				lastData = p.ci.Timestamp
			}
		}
		if p.tcp.SrcPort == cliPort && p.tcp.FIN && cliFIN.IsZero() {
			cliFIN = p.ci.Timestamp
		}
	}
	d.length = length
	if got != length {
		return nil, fmt.Errorf("template: the body has %d of %d bytes", got, length)
	}
	// authflow's embedded captures have the image's bytes zeroed: use
	// seeded random bytes instead (a qcow2 image is mostly compressed
	// data), behind a qcow2 header.
	d.body = nil
	d.finDelay = cliFIN.Sub(lastData)
	return d, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// headerValue returns the value of the header called name in a header block.
func headerValue(block []byte, name string) string {
	for _, line := range bytes.Split(block, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// setHeader replaces the value of header name in a header block.
func setHeader(block []byte, name, value string) []byte {
	lines := bytes.Split(block, []byte("\r\n"))
	for i, line := range lines {
		k, _, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			lines[i] = append(append(append([]byte{}, k...), ": "...), value...)
		}
	}
	return bytes.Join(lines, []byte("\r\n"))
}

// image is the body: the real image repeated to size bytes.
type image struct {
	real    []byte
	size    int64
	scratch []byte
}

// at returns the n bytes at offset off.
func (im *image) at(off int64, n int) []byte {
	o := int(off % int64(len(im.real)))
	if o+n <= len(im.real) {
		return im.real[o : o+n]
	}
	im.scratch = im.scratch[:0]
	for len(im.scratch) < n {
		k := min(n-len(im.scratch), len(im.real)-o)
		im.scratch = append(im.scratch, im.real[o:o+k]...)
		o = 0
	}
	return im.scratch
}

// imageBytes makes n bytes that look like a qcow2 image: its header, then
// incompressible data.
func imageBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), 'i', 'm', 'g'})
	rng.Read(b)
	hdr := []byte{'Q', 'F', 'I', 0xfb, 0, 0, 0, 3}
	copy(b, hdr[:min(len(hdr), n)])
	return b
}

func (im *image) md5() string {
	h := md5.New()
	for left := im.size; left > 0; {
		k := min(left, int64(len(im.real)))
		h.Write(im.real[:k])
		left -= k
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dl is the state of a download being generated.
type dl struct {
	c        *config
	b        *builder
	emit     emitFunc
	rng      *rand.Rand
	srv, cli *peer
	t        time.Time
	nsPerB   float64

	// the client's receive state
	rcvNxt           uint32
	oooStart, oooEnd uint32 // data received beyond a hole, if oooEnd != 0
	unacked          int
	dupAcks          int

	packets, retransmits, zeroWindows int
}

func (d *dl) send(from, to *peer, t time.Time, s *segment) error {
	data, err := d.b.build(from, to, t, s)
	if err != nil {
		return err
	}
	d.packets++
	return d.emit(t, data)
}

// wire is how long n payload bytes take on the wire.
func (d *dl) wire(n int) time.Duration {
	return time.Duration(float64(n+overhead) * d.nsPerB)
}

// moveWindow lets the client's advertised window wander like the real one
// (36–80 KiB: a Python client writing to disk).
func (d *dl) moveWindow() {
	w := int(d.cli.win) + d.rng.IntN(9) - 4
	d.cli.win = uint16(min(max(w, 36), 80))
}

// ack sends the client's cumulative ACK at time t, with a SACK block when
// data beyond a hole is held.
func (d *dl) ack(t time.Time) error {
	if d.oooEnd == 0 {
		d.moveWindow() // duplicate ACKs keep the window
	}
	s := &segment{seq: d.cli.seq, ack: d.rcvNxt, flags: fACK}
	if d.oooEnd != 0 {
		s.sack = [][2]uint32{{d.oooStart, d.oooEnd}}
	}
	d.unacked = 0
	return d.send(d.cli, d.srv, t, s)
}

// receive is the client getting [seq, end) at time t.
func (d *dl) receive(seq, end uint32, t time.Time) error {
	switch {
	case seq == d.rcvNxt:
		d.rcvNxt = end
		if d.oooEnd != 0 && !seqLess(d.rcvNxt, d.oooStart) {
			// The hole is filled: ACK everything at once.
			if seqLess(d.rcvNxt, d.oooEnd) {
				d.rcvNxt = d.oooEnd
			}
			d.oooStart, d.oooEnd, d.dupAcks = 0, 0, 0
			return d.ack(t)
		}
		d.unacked++
		if d.unacked >= d.c.ackEvery {
			if err := d.ack(t); err != nil {
				return err
			}
			return d.maybeWindowEvent(t)
		}
		return nil
	case seqLess(d.rcvNxt, seq):
		// Out of order: an immediate duplicate ACK with SACK.
		if d.oooEnd == 0 {
			d.oooStart = seq
		}
		d.oooEnd = end
		d.dupAcks++
		return d.ack(t)
	default:
		return nil // old data
	}
}

// maybeWindowEvent now and then closes the client's window (the reader
// fell behind) and opens it again, or sends a plain window update.
func (d *dl) maybeWindowEvent(t time.Time) error {
	switch r := d.rng.IntN(4000); {
	case r == 0:
		// Zero window: the server stops until the window update.
		d.zeroWindows++
		d.cli.win = 0
		zt := t.Add(100 * time.Nanosecond)
		if err := d.send(d.cli, d.srv, zt, &segment{seq: d.cli.seq, ack: d.rcvNxt, flags: fACK}); err != nil {
			return err
		}
		pause := time.Duration(200+d.rng.IntN(800)) * time.Microsecond
		d.cli.win = uint16(40 + d.rng.IntN(8))
		if err := d.send(d.cli, d.srv, zt.Add(pause), &segment{seq: d.cli.seq, ack: d.rcvNxt, flags: fACK}); err != nil {
			return err
		}
		d.t = zt.Add(pause + 15*time.Microsecond)
	case r < 40 && d.cli.win < 72:
		d.cli.win = uint16(min(int(d.cli.win)+8+d.rng.IntN(16), 80))
		return d.send(d.cli, d.srv, t.Add(100*time.Nanosecond), &segment{seq: d.cli.seq, ack: d.rcvNxt, flags: fACK})
	}
	return nil
}

func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

func genDownload(c *config, tpl *template, emit emitFunc) (string, error) {
	tmpl, err := findDownload(tpl)
	if err != nil {
		return "", err
	}
	if c.size < 1 {
		return "", errors.New("-size must be at least 1 byte")
	}
	im := &image{real: imageBytes(c.seed, tmpl.length), size: c.size}
	sum := im.md5()
	header := setHeader(tmpl.header, "Content-Length", strconv.FormatInt(c.size, 10))
	header = setHeader(header, "Content-Md5", sum)

	if err := copyPackets(tmpl.prefix, emit); err != nil {
		return "", err
	}
	d := &dl{
		c: c, b: newBuilder(c.full), emit: emit,
		rng:    rand.New(rand.NewPCG(c.seed, 0x6c6f6164)),
		nsPerB: 1e9 / c.rate,
	}
	d.cli = peerFrom(tmpl.lastCli)
	d.srv = peerFrom(tmpl.resp)
	d.srv.seq = tmpl.resp.tcp.Seq
	d.srv.ipID = tmpl.resp.ip.Id
	d.rcvNxt = d.srv.seq

	// The header block, on its own as glance sends it.
	d.t = tmpl.resp.ci.Timestamp
	hs := d.srv.seq
	d.srv.seq += uint32(len(header))
	if err := d.send(d.srv, d.cli, d.t, &segment{seq: hs, ack: d.cli.seq, flags: fACK | fPSH, payload: header}); err != nil {
		return "", err
	}
	if err := d.receive(hs, d.srv.seq, d.t.Add(20*time.Microsecond)); err != nil {
		return "", err
	}
	d.t = d.t.Add(1500 * time.Microsecond) // the first read of the file

	// Pick where the out-of-order pair goes: in the middle.
	nsegs := c.size / mss
	oooAt := int64(-1)
	if nsegs > 8 {
		oooAt = nsegs / 2
	}
	var held *segment // a segment sent after its successor
	burst := 4 + d.rng.IntN(13)
	nextWrite := int64(writeSize)
	var idx int64
	for off := int64(0); off < c.size; idx++ {
		n := int(min(int64(mss), c.size-off))
		flags := fACK
		if off+int64(n) >= nextWrite {
			if off < nextWrite && d.rng.IntN(3) == 0 {
				// The write drained the socket: a short segment.
				n = int(nextWrite - off)
				flags |= fPSH
			}
			for nextWrite <= off+int64(n) {
				nextWrite += writeSize
			}
		}
		if burst--; burst == 0 || off+int64(n) == c.size {
			flags |= fPSH
			burst = 4 + d.rng.IntN(13)
		}
		seg := &segment{seq: d.srv.seq, ack: d.cli.seq, flags: flags, payload: im.at(off, n)}
		d.srv.seq += uint32(n)
		off += int64(n)
		remaining := c.size - off

		if idx == oooAt {
			// Hold this one back: it is captured after the next.
			seg.payload = append([]byte(nil), seg.payload...)
			held = seg
			continue
		}
		lost := c.lossEvery > 0 && held == nil && d.oooEnd == 0 && remaining > 8*mss && idx > 16 &&
			(oooAt < 0 || idx+8 < oooAt || idx > oooAt) && d.rng.IntN(c.lossEvery) == 0
		if err := d.data(seg, lost); err != nil {
			return "", err
		}
		if held != nil {
			if err := d.data(held, false); err != nil {
				return "", err
			}
			held = nil
		}
		if lost {
			// The next three segments each bring a duplicate ACK; then the
			// server retransmits.
			lostSeg := &segment{seq: seg.seq, ack: seg.ack, flags: seg.flags, payload: append([]byte(nil), seg.payload...)}
			for d.dupAcks < 3 && off < c.size {
				n := int(min(int64(mss), c.size-off))
				s := &segment{seq: d.srv.seq, ack: d.cli.seq, flags: fACK, payload: im.at(off, n)}
				d.srv.seq += uint32(n)
				off += int64(n)
				idx++
				if err := d.data(s, false); err != nil {
					return "", err
				}
			}
			d.retransmits++
			lostSeg.ack = d.cli.seq
			if err := d.data(lostSeg, false); err != nil {
				return "", err
			}
		}
	}
	if d.unacked > 0 || d.oooEnd != 0 {
		if err := d.ack(d.t); err != nil {
			return "", err
		}
	}
	// The client's window opens as it writes the rest to disk, then it
	// closes the connection.
	for _, dt := range []time.Duration{400 * time.Microsecond, 1300 * time.Microsecond} {
		d.cli.win = min(d.cli.win*2, 496)
		if err := d.send(d.cli, d.srv, d.t.Add(dt), &segment{seq: d.cli.seq, ack: d.rcvNxt, flags: fACK}); err != nil {
			return "", err
		}
	}
	fin := d.t.Add(max(tmpl.finDelay, 2*time.Millisecond))
	cs := d.cli.seq
	d.cli.seq++
	if err := d.send(d.cli, d.srv, fin, &segment{seq: cs, ack: d.rcvNxt, flags: fACK | fFIN}); err != nil {
		return "", err
	}
	ss := d.srv.seq
	d.srv.seq++
	if err := d.send(d.srv, d.cli, fin.Add(290*time.Microsecond), &segment{seq: ss, ack: d.cli.seq, flags: fACK | fFIN}); err != nil {
		return "", err
	}
	if err := d.send(d.cli, d.srv, fin.Add(315*time.Microsecond), &segment{seq: d.cli.seq, ack: d.srv.seq, flags: fACK}); err != nil {
		return "", err
	}
	return fmt.Sprintf("image %d bytes, md5 %s; %d generated packets: %d retransmissions, %d zero windows, 1 out-of-order pair",
		c.size, sum, d.packets, d.retransmits, d.zeroWindows), nil
}

// data sends one data segment at the current time and lets the client
// receive it, unless it is lost after the capture point.
func (d *dl) data(s *segment, lost bool) error {
	t := d.t
	dt := d.wire(len(s.payload))
	if err := d.send(d.srv, d.cli, t, s); err != nil {
		return err
	}
	d.t = t.Add(dt)
	if lost {
		return nil
	}
	return d.receive(s.seq, s.seq+uint32(len(s.payload)), t.Add(dt/2))
}
