package decode_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// FuzzPipeline runs the whole analysis on a capture built from the fuzz
// input: reading the file (capture.OpenFiles), decoding (decode.Run),
// correlating (sequence.Build, sequence.Select) and writing every text
// format. It must not panic, hang or fail to write, and a decoder must
// never fail.
//
// An input that starts like a capture file (pcap, pcapng or gzip magic)
// is the file itself. Any other input is a script of TCP segments, which
// reaches the decoders far more often than mutated files do:
//
//	byte 0: bits 0-1 link type (Ethernet, raw IPv4, Linux cooked, Ethernet
//	        with IPv6), bit 2 snap length 96, bit 3 tiny limits
//	        (connections, memory, events, body prefix), bits 4-5 detail
//	        level, bit 6 a selection (no database, no cache), bit 7 two
//	        input files (the segments of connections 2 and 3 in the second)
//	byte 1: server port of connections 0-3, two bits each: 5000 (keystone),
//	        11211 (memcached), 3306 (MySQL), 9292 (glance)
//	then records: a control byte (bits 0-1 connection, bit 2 from the
//	server, bit 3 SYN, bit 4 FIN, bit 5 RST, bit 6 a sequence jump
//	follows, bit 7 a time jump follows), the jump bytes (a signed byte:
//	the sequence number moves by 16 times it, leaving a hole or going
//	back over bytes sent; a byte of seconds), a length byte and the
//	payload.
func FuzzPipeline(f *testing.F) {
	for _, name := range []string{"no-handshake.pcap", "snaplen-96.pcap", "rst-mid-body.pcap", "chunk-overflow.pcap", "truncated-block.pcapng", "memcached-huge.pcap", "mysql-huge.pcap"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "hostile", name)); err == nil {
			f.Add(b)
		}
	}
	for _, s := range scriptSeeds(f) {
		f.Add(s)
	}
	// Each fuzzing process runs one input at a time: its files can be
	// rewritten for each.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		paths := writeCapture(t, dir, in)
		cfg := byte(0)
		if len(in) > 0 && !isCapture(in) {
			cfg = in[0]
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			runPipeline(t, paths, cfg)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			panic("the pipeline hangs") // with every goroutine's stack
		}
	})
}

func isCapture(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch binary.BigEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return true
	}
	return b[0] == 0x1f && b[1] == 0x8b
}

// writeCapture writes the capture files of a fuzz input to dir.
func writeCapture(t *testing.T, dir string, in []byte) []string {
	if isCapture(in) || len(in) < 2 {
		p := filepath.Join(dir, "fuzz.pcap")
		if err := os.WriteFile(p, in, 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{p}
	}
	files := buildScript(in)
	var paths []string
	for i, b := range files {
		p := filepath.Join(dir, []string{"a.pcap", "b.pcap"}[i])
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

var scriptPorts = [4]uint16{5000, 11211, 3306, 9292}

// scriptConn is the state of one scripted connection.
type scriptConn struct {
	cli, srv   net.IP
	cport      uint16
	sport      uint16
	cseq, sseq uint32
}

// buildScript turns a script into one or two pcap files.
func buildScript(in []byte) [][]byte {
	cfg, portSel := in[0], in[1]
	in = in[2:]
	link := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL, layers.LinkTypeEthernet}[cfg&3]
	ipv6 := cfg&3 == 3
	snap := 262144
	if cfg&4 != 0 {
		snap = 96
	}
	nfiles := 1
	if cfg&0x80 != 0 {
		nfiles = 2
	}
	bufs := make([]bytes.Buffer, nfiles)
	ws := make([]*pcapgo.Writer, nfiles)
	for i := range ws {
		ws[i] = pcapgo.NewWriter(&bufs[i])
		ws[i].WriteFileHeader(uint32(snap), link)
	}
	var conns [4]scriptConn
	for i := range conns {
		c := &conns[i]
		c.cport, c.sport = uint16(40000+i), scriptPorts[portSel>>(2*i)&3]
		if ipv6 {
			c.cli, c.srv = net.ParseIP("fd00::64"), net.ParseIP("fd00::b")
		} else {
			c.cli, c.srv = net.IP{198, 18, 0, byte(100 + i)}, net.IP{198, 18, 0, 11}
		}
		c.cseq, c.sseq = 1000000*uint32(i+1), 3000000*uint32(i+1)
	}
	t := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	buf := gopacket.NewSerializeBuffer()
	for len(in) > 0 {
		ctl := in[0]
		in = in[1:]
		c := &conns[ctl&3]
		fromServer := ctl&4 != 0
		var jump int8
		if ctl&0x40 != 0 && len(in) > 0 {
			jump, in = int8(in[0]), in[1:]
		}
		t = t.Add(time.Millisecond)
		if ctl&0x80 != 0 && len(in) > 0 {
			t, in = t.Add(time.Duration(in[0])*time.Second), in[1:]
		}
		n := 0
		if len(in) > 0 {
			n, in = min(int(in[0]), len(in)-1), in[1:]
		}
		payload := in[:n]
		in = in[n:]

		seq, ack := &c.cseq, c.sseq
		src, dst, sport, dport := c.cli, c.srv, c.cport, c.sport
		if fromServer {
			seq, ack = &c.sseq, c.cseq
			src, dst, sport, dport = c.srv, c.cli, c.sport, c.cport
		}
		*seq += uint32(int32(jump) * 16)
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: *seq, Ack: ack,
			SYN: ctl&8 != 0, FIN: ctl&16 != 0, RST: ctl&32 != 0, ACK: !(ctl&8 != 0 && !fromServer), PSH: n > 0, Window: 512}
		*seq += uint32(n)
		if tcp.SYN || tcp.FIN {
			*seq++
		}
		var net gopacket.NetworkLayer
		var layersOut []gopacket.SerializableLayer
		if ipv6 {
			ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
			net = ip
			layersOut = append(layersOut, &layers.Ethernet{SrcMAC: net2mac(1), DstMAC: net2mac(2), EthernetType: layers.EthernetTypeIPv6}, ip)
		} else {
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
			net = ip
			if link == layers.LinkTypeEthernet {
				layersOut = append(layersOut, &layers.Ethernet{SrcMAC: net2mac(1), DstMAC: net2mac(2), EthernetType: layers.EthernetTypeIPv4})
			}
			layersOut = append(layersOut, ip)
		}
		tcp.SetNetworkLayerForChecksum(net)
		layersOut = append(layersOut, tcp, gopacket.Payload(payload))
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, layersOut...); err != nil {
			continue
		}
		data := buf.Bytes()
		if link == layers.LinkTypeLinuxSLL {
			// Linux cooked capture v1: packet type, ARPHRD, address length,
			// address (8 bytes), protocol.
			sll := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0}
			data = append(sll, data...)
		}
		ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)}
		if len(data) > snap {
			data = data[:snap]
			ci.CaptureLength = snap
		}
		file := 0
		if nfiles == 2 && ctl&3 >= 2 {
			file = 1
		}
		ws[file].WritePacket(ci, data)
	}
	out := make([][]byte, nfiles)
	for i := range bufs {
		out[i] = bufs[i].Bytes()
	}
	return out
}

func net2mac(i byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, i} }

// runPipeline is what authflow analyze does with the captures.
func runPipeline(t *testing.T, paths []string, cfg byte) {
	src, err := capture.OpenFiles(paths, capture.FileOptions{})
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, filepath.Base(paths[0])) && !strings.HasPrefix(msg, "no capture file could be read") {
			t.Errorf("bad open error %q", msg)
		}
		return
	}
	opts := decode.Options{}
	if cfg&8 != 0 {
		opts.Stream.MaxConnections = 2
		opts.Stream.MaxMemory = 40 << 10
		opts.MaxEvents = 20
		opts.BodyLimit = 16
	}
	events, stats, err := decode.Run(src, opts)
	src.Close()
	if err != nil {
		t.Errorf("decode.Run: %v", err)
	}
	for _, err := range src.Errors() {
		if msg := err.Error(); strings.Contains(msg, "\n") {
			t.Errorf("error on several lines: %q", msg)
		}
	}
	if stats.Packets < stats.TCPSegments || stats.Connections < 0 {
		t.Errorf("stats %+v", stats)
	}
	flow := sequence.Build(events, sequence.Options{Inputs: []string{"a.pcap", "b.pcap"}, DetailLevel: int(cfg >> 4 & 3), Timing: true})
	for _, w := range flow.Warnings {
		if strings.Contains(w, "decoder failed") {
			t.Errorf("a decoder panicked: %s", w)
		}
	}
	if cfg&0x40 != 0 {
		flow = sequence.Select(flow, sequence.Selection{NoDB: true, NoCache: true})
	}
	for _, format := range []string{"mermaid", "markdown", "json", "text", "plantuml"} {
		var buf bytes.Buffer
		if err := render.Write(&buf, flow, format, render.Options{Frames: true, Summary: true}); err != nil {
			t.Errorf("%s: %v", format, err)
		}
		if format == "json" {
			var back sequence.Flow
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Errorf("JSON output does not parse: %v", err)
			}
		}
	}
	if err := render.SummaryTable(io.Discard, flow); err != nil {
		t.Errorf("summary: %v", err)
	}
}

// scriptRecord is one segment of a seed script.
type scriptRecord struct {
	conn              int
	fromServer        bool
	syn, fin, rst     bool
	payload           []byte
	jump, timeJumpSec int
}

// encodeScript writes a script; payloads longer than 255 bytes take
// several records.
func encodeScript(cfg, ports byte, recs []scriptRecord) []byte {
	out := []byte{cfg, ports}
	for _, r := range recs {
		data := r.payload
		for first := true; first || len(data) > 0; first = false {
			ctl := byte(r.conn & 3)
			if r.fromServer {
				ctl |= 4
			}
			if first {
				if r.syn {
					ctl |= 8
				}
				if r.rst {
					ctl |= 32
				}
			}
			n := min(len(data), 255)
			if r.fin && n == len(data) {
				ctl |= 16
			}
			if first && r.jump != 0 {
				ctl |= 0x40
			}
			if first && r.timeJumpSec != 0 {
				ctl |= 0x80
			}
			out = append(out, ctl)
			if ctl&0x40 != 0 {
				out = append(out, byte(int8(r.jump)))
			}
			if ctl&0x80 != 0 {
				out = append(out, byte(r.timeJumpSec))
			}
			out = append(out, byte(n))
			out = append(out, data[:n]...)
			data = data[n:]
		}
	}
	return out
}

// realScript turns the first connections of a real capture on the given
// server port into script records for connection conn, at most limit
// payload bytes per connection.
func realScript(tb testing.TB, scenario, file string, port uint16, conn, maxConns, limit int) []scriptRecord {
	tb.Helper()
	fh, err := os.Open(filepath.Join("..", "testdata", "captures", scenario, file))
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := pcapgo.NewReader(zr)
	if err != nil {
		tb.Fatal(err)
	}
	var recs []scriptRecord
	conns := map[layers.TCPPort]int{}
	size := map[layers.TCPPort]int{}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			continue
		}
		fromServer := tcp.SrcPort == layers.TCPPort(port)
		cport := tcp.SrcPort
		if fromServer {
			cport = tcp.DstPort
		} else if tcp.DstPort != layers.TCPPort(port) {
			continue
		}
		idx, ok := conns[cport]
		if !ok {
			if len(conns) == maxConns {
				continue
			}
			idx = len(conns)
			conns[cport] = idx
		}
		pl := tcp.Payload[:min(len(tcp.Payload), max(0, limit-size[cport]))]
		size[cport] += len(pl)
		if len(pl) == 0 && !tcp.SYN && !tcp.FIN && !tcp.RST {
			continue
		}
		recs = append(recs, scriptRecord{conn: (conn + idx) & 3, fromServer: fromServer, syn: tcp.SYN, fin: tcp.FIN, rst: tcp.RST, payload: bytes.Clone(pl)})
	}
	return recs
}

func scriptSeeds(tb testing.TB) [][]byte {
	// Ports: connection 0 keystone, 1 memcached, 2 MySQL, 3 glance.
	const ports = 0 | 1<<2 | 2<<4 | 3<<6
	httpRecs := realScript(tb, "token-issue", "ens.pcap.gz", 5000, 0, 1, 3000)
	mcRecs := realScript(tb, "image-list-warm", "lo.pcap.gz", 11211, 1, 1, 2000)
	myRecs := realScript(tb, "token-issue", "lo.pcap.gz", 3306, 2, 1, 2500)
	glRecs := realScript(tb, "image-list-cold", "ens.pcap.gz", 9292, 3, 1, 3000)
	all := append(append(append(append([]scriptRecord{}, httpRecs...), mcRecs...), myRecs...), glRecs...)
	seeds := [][]byte{
		encodeScript(0, ports, httpRecs),
		encodeScript(0x10, ports, mcRecs),
		encodeScript(0x10, ports, myRecs),
		encodeScript(0, ports, glRecs),
		encodeScript(0x80|0x20, ports, all),
		encodeScript(4, ports, httpRecs),     // snap length 96
		encodeScript(8|0x40, ports, all),     // tiny limits, a selection
		encodeScript(1|0x10, ports, myRecs),  // raw IP
		encodeScript(2, ports, mcRecs),       // Linux cooked
		encodeScript(3, ports, httpRecs[3:]), // IPv6, no handshake
	}
	// Holes, retransmissions over them, a RST mid-stream, a long pause.
	tricky := []scriptRecord{
		{conn: 0, syn: true}, {conn: 0, fromServer: true, syn: true}, {conn: 0},
		{conn: 0, payload: []byte("GET /v3 HTTP/1.1\r\nHost: k\r\n\r\n")},
		{conn: 0, fromServer: true, jump: 2, payload: []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")},
		{conn: 0, fromServer: true, jump: -5, payload: []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")},
		{conn: 0, timeJumpSec: 200, payload: []byte("POST /v3/auth/tokens HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")},
		{conn: 0, fromServer: true, rst: true},
		{conn: 1, payload: []byte("get tokens/abc\r\n")}, {conn: 1, fromServer: true, payload: []byte("VALUE tokens/abc 0 4000000000\r\nxx")},
	}
	seeds = append(seeds, encodeScript(0, ports, tricky), encodeScript(8, ports, tricky))
	return seeds
}
