package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// This file builds the hostile capture corpus of testdata/hostile (see
// hostile_test.go): captures derived from the real ones of
// testdata/captures and synthetic TCP connections written with gopacket.

// record is one captured frame.
type record struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// capFile is a capture being built.
type capFile struct {
	link    layers.LinkType
	snaplen uint32
	recs    []record
	// now is the capture time of the last synthetic frame.
	now time.Time
}

func newCapFile() *capFile { return &capFile{link: layers.LinkTypeEthernet, snaplen: 262144} }

func (c *capFile) add(t time.Time, data []byte) {
	c.recs = append(c.recs, record{ci: gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)}, data: data})
}

// pcap returns the capture as a pcap file (microsecond timestamps, as
// tcpdump writes by default).
func (c *capFile) pcap() []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(c.snaplen, c.link); err != nil {
		panic(err)
	}
	for _, r := range c.recs {
		if err := w.WritePacket(r.ci, r.data); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

// pcapng returns the capture as a pcapng file with one interface.
func (c *capFile) pcapng() []byte {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "lo", LinkType: c.link, SnapLength: c.snaplen, TimestampResolution: 9},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "authflow hostile corpus"}})
	if err != nil {
		panic(err)
	}
	for _, r := range c.recs {
		if err := w.WritePacket(r.ci, r.data); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// readCapture reads a (gzip-compressed) pcap file of testdata/captures.
func readCapture(t testing.TB, scenario, file string) *capFile {
	t.Helper()
	pr := openPcap(t, filepath.Join(capturesDir, scenario, file))
	c := &capFile{link: pr.LinkType(), snaplen: pr.Snaplen()}
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.recs = append(c.recs, record{ci: ci, data: bytes.Clone(data)})
	}
	return c
}

// tcpOf decodes the TCP layer of an Ethernet frame, nil if it has none.
func tcpOf(data []byte) *layers.TCP {
	p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	return tcp
}

// segment is one TCP payload of a real connection, for replaying it.
type segment struct {
	fromServer bool
	data       []byte
}

// payloads returns the payloads of the conn-th connection (from 0) to
// server port port in c, in capture order, at most n of them.
func payloads(c *capFile, port uint16, conn, n int) []segment {
	var out []segment
	var cport layers.TCPPort
	for _, r := range c.recs {
		tcp := tcpOf(r.data)
		if tcp == nil {
			continue
		}
		if tcp.SYN && !tcp.ACK && tcp.DstPort == layers.TCPPort(port) {
			if conn == 0 {
				cport = tcp.SrcPort
			}
			conn--
		}
		if cport == 0 {
			continue
		}
		fromServer := tcp.SrcPort == layers.TCPPort(port) && tcp.DstPort == cport
		if !fromServer && !(tcp.SrcPort == cport && tcp.DstPort == layers.TCPPort(port)) {
			continue
		}
		if len(tcp.Payload) > 0 {
			out = append(out, segment{fromServer, bytes.Clone(tcp.Payload)})
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// conn writes the frames of one synthetic TCP connection into a capFile:
// Ethernet, IPv4, TCP with Linux's options, correct checksums.
type conn struct {
	f            *capFile
	cli, srv     netip.AddrPort
	cseq, sseq   uint32
	ipIDc, ipIDs uint16
	step         time.Duration
	// mss is the largest payload of one segment.
	mss int
}

// hostileT0 is when the synthetic captures start.
var hostileT0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newConn(f *capFile, cli, srv string) *conn {
	c := &conn{f: f, cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv), step: 100 * time.Microsecond, mss: 1448}
	h := fnv(cli + srv)
	c.cseq, c.sseq = h, h*2654435761
	return c
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

var (
	cliMAC = net.HardwareAddr{0xae, 0x72, 0x66, 0xe8, 0x54, 0x40}
	srvMAC = net.HardwareAddr{0x4a, 0xb5, 0xd6, 0xee, 0xe9, 0x98}
)

// flags of a synthetic segment.
type flags struct{ syn, ack, fin, rst bool }

// frame returns one segment with the given sequence number; it does not
// move the connection's sequence numbers.
func (c *conn) frame(fromServer bool, seq uint32, fl flags, payload []byte) []byte {
	src, dst, smac, dmac := c.cli, c.srv, cliMAC, srvMAC
	ack, id := c.sseq, &c.ipIDc
	if fromServer {
		src, dst, smac, dmac = c.srv, c.cli, srvMAC, cliMAC
		ack, id = c.cseq, &c.ipIDs
	}
	*id++
	eth := &layers.Ethernet{SrcMAC: smac, DstMAC: dmac, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(), Id: *id}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq,
		SYN: fl.syn, ACK: fl.ack, FIN: fl.fin, RST: fl.rst, PSH: len(payload) > 0, Window: 512}
	if fl.ack {
		tcp.Ack = ack
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// emit adds a frame at the next tick of the capture clock.
func (c *conn) emit(data []byte) {
	if c.f.now.IsZero() {
		c.f.now = hostileT0
	}
	c.f.now = c.f.now.Add(c.step)
	c.f.add(c.f.now, data)
}

// seg sends one segment at the current sequence number and moves it on.
func (c *conn) seg(fromServer bool, fl flags, payload []byte) {
	seq := &c.cseq
	if fromServer {
		seq = &c.sseq
	}
	c.emit(c.frame(fromServer, *seq, fl, payload))
	*seq += uint32(len(payload))
	if fl.syn || fl.fin {
		*seq++
	}
}

func (c *conn) handshake() {
	c.seg(false, flags{syn: true}, nil)
	c.seg(true, flags{syn: true, ack: true}, nil)
	c.seg(false, flags{ack: true}, nil)
}

// send sends data in segments of at most mss bytes, each ACKed.
func (c *conn) send(fromServer bool, data []byte) {
	for len(data) > 0 {
		n := min(len(data), c.mss)
		c.seg(fromServer, flags{ack: true}, data[:n])
		data = data[n:]
		c.seg(!fromServer, flags{ack: true}, nil)
	}
}

func (c *conn) sendString(fromServer bool, s string) { c.send(fromServer, []byte(s)) }

// close ends the connection with FINs, the client first.
func (c *conn) close() {
	c.seg(false, flags{ack: true, fin: true}, nil)
	c.seg(true, flags{ack: true, fin: true}, nil)
	c.seg(false, flags{ack: true}, nil)
}

// replay sends the payloads of a real connection again.
func (c *conn) replay(segs []segment) {
	for _, s := range segs {
		c.send(s.fromServer, s.data)
	}
}

// fragment splits an Ethernet/IPv4 frame into two IP fragments, the first
// carrying at bytes of the IP payload (a multiple of 8).
func fragment(frame []byte, at int) [][]byte {
	const ethLen = 14
	ihl := int(frame[ethLen]&0x0f) * 4
	ipHdr := frame[ethLen : ethLen+ihl]
	payload := frame[ethLen+ihl:]
	var out [][]byte
	for i, part := range [][]byte{payload[:at], payload[at:]} {
		f := make([]byte, 0, ethLen+ihl+len(part))
		f = append(f, frame[:ethLen]...)
		f = append(f, ipHdr...)
		f = append(f, part...)
		ip := f[ethLen : ethLen+ihl]
		binary.BigEndian.PutUint16(ip[2:], uint16(ihl+len(part)))
		off := uint16(0)
		if i == 1 {
			off = uint16(at / 8)
		} else {
			off = 1 << 13 // more fragments
		}
		binary.BigEndian.PutUint16(ip[6:], off)
		ip[10], ip[11] = 0, 0
		sum := uint32(0)
		for j := 0; j < len(ip); j += 2 {
			sum += uint32(ip[j])<<8 | uint32(ip[j+1])
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		out = append(out, f)
	}
	return out
}

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// pcapRecordOffsets returns where each record of a pcap file starts.
func pcapRecordOffsets(b []byte) []int {
	var offs []int
	for off := 24; off+16 <= len(b); {
		offs = append(offs, off)
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	return offs
}

// halfOpen writes a capture of n connections that are never finished to
// w, as pcap: every third only sends a SYN, every third completes the
// handshake, the rest also send the start of an HTTP request (a header
// block that never ends). Every 1000th connection, a complete token
// validation is interleaved, on its own connection. It returns the number
// of complete exchanges written.
func halfOpen(w io.Writer, n int) (int, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	f := newCapFile()
	flush := func() error {
		for _, r := range f.recs {
			if err := pw.WritePacket(r.ci, r.data); err != nil {
				return err
			}
		}
		f.recs = f.recs[:0]
		return nil
	}
	complete := 0
	for i := range n {
		// 10.1.x.y:port → 10.0.0.11:5000, distinct 4-tuples.
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 16), byte(i >> 8)}), uint16(20000+i%256))
		c := newConn(f, cli.String(), "10.0.0.11:5000")
		c.step = 10 * time.Microsecond
		switch i % 3 {
		case 0:
			c.seg(false, flags{syn: true}, nil)
		case 1:
			c.handshake()
		case 2:
			c.handshake()
			c.seg(false, flags{ack: true}, []byte("GET /v3/auth/tokens HTTP/1.1\r\nHost: 10.0.0.11:5000\r\nX-Auth-Token: gAAAAABhalfopen\r\n"))
		}
		if i%1000 == 500 {
			v := newConn(f, fmt.Sprintf("10.2.0.1:%d", 30000+complete%30000), "10.0.0.11:5000")
			v.handshake()
			v.sendString(false, fmt.Sprintf("GET /v3/auth/tokens HTTP/1.1\r\nHost: 10.0.0.11:5000\r\nX-Auth-Token: gAAAAABvalidator\r\nX-Subject-Token: gAAAAABsubject%06d\r\n\r\n", complete))
			v.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
			v.close()
			complete++
		}
		if len(f.recs) > 1000 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	return complete, flush()
}
