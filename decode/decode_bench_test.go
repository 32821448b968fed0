package decode_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow"
	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/packet"
)

// The benchmarks run the whole decoding pipeline (link/IP/TCP decoding,
// reassembly, the protocol decoders) over a capture held in memory, one
// pass over the capture per operation; MB/s counts frame bytes. The
// "file" variants read a pcap file as authflow analyze does.
//
// AUTHFLOW_BENCH_FILE=/path/to/capture adds BenchmarkPipelineFile/env on a
// capture of your own (e.g. one from bench/gen).

func options() decode.Options {
	return decode.Options{}
}

// frames is a capture in memory.
type frames struct {
	pkts  []capture.Packet
	bytes int64
	err   error // from building the frames
}

func (f *frames) add(t time.Time, data []byte) {
	f.pkts = append(f.pkts, capture.Packet{
		Data:     data,
		Info:     gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data)},
		LinkType: layers.LinkTypeEthernet,
		Frame:    len(f.pkts) + 1,
	})
	f.bytes += int64(len(data))
}

// run decodes every frame once and returns the number of events.
func (f *frames) run(b *testing.B) int {
	d := decode.New(options())
	for i := range f.pkts {
		d.Add(&f.pkts[i])
	}
	evs := d.Finish()
	if st := d.Stats(); st.Malformed > 0 {
		b.Fatalf("malformed frames: %+v", st)
	}
	return len(evs)
}

func (f *frames) bench(b *testing.B, wantEvents int) {
	if f.err != nil {
		b.Fatal(f.err)
	}
	b.SetBytes(f.bytes)
	b.ReportAllocs()
	b.ReportMetric(float64(len(f.pkts)), "packets/op")
	for b.Loop() {
		if n := f.run(b); n < wantEvents {
			b.Fatalf("%d events, want at least %d", n, wantEvents)
		}
	}
}

// writePcap writes f as a pcap file.
func (f *frames) writePcap(b *testing.B) string {
	name := filepath.Join(b.TempDir(), "bench.pcap")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(262144, layers.LinkTypeEthernet)
	for _, p := range f.pkts {
		w.WritePacket(p.Info, p.Data)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return name
}

// tcpConn writes the frames of one synthetic TCP connection (Linux-like:
// timestamps option, MSS 1448 on the wire).
type tcpConn struct {
	f              *frames
	buf            gopacket.SerializeBuffer
	cmac, smac     net.HardwareAddr
	cip, sip       net.IP
	cport, sport   uint16
	cseq, sseq     uint32
	t              time.Time
	step           time.Duration
	tsopt          []layers.TCPOption
	eth            layers.Ethernet
	ip             layers.IPv4
	tcp            layers.TCP
	ipIDc, ipIDs   uint16
	cliWin, srvWin uint16
}

func newTCPConn(f *frames, cport, sport uint16, t time.Time) *tcpConn {
	return &tcpConn{
		f: f, buf: gopacket.NewSerializeBuffer(),
		cmac: net.HardwareAddr{0xae, 0x72, 0x66, 0xe8, 0x54, 0x40}, smac: net.HardwareAddr{0x4a, 0xb5, 0xd6, 0xee, 0xe9, 0x98},
		cip: net.IP{198, 18, 0, 100}, sip: net.IP{198, 18, 0, 11},
		cport: cport, sport: sport, cseq: 935303399, sseq: 374383215,
		t: t, step: 7 * time.Microsecond, cliWin: 63, srvWin: 64,
		tsopt: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionData: make([]byte, 8)},
		},
	}
}

func (c *tcpConn) send(fromServer bool, payload []byte, syn, fin bool) {
	c.t = c.t.Add(c.step)
	c.eth = layers.Ethernet{SrcMAC: c.cmac, DstMAC: c.smac, EthernetType: layers.EthernetTypeIPv4}
	c.ip = layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP, SrcIP: c.cip, DstIP: c.sip, Id: c.ipIDc}
	c.tcp = layers.TCP{SrcPort: layers.TCPPort(c.cport), DstPort: layers.TCPPort(c.sport), Seq: c.cseq, Ack: c.sseq, Window: c.cliWin, Options: c.tsopt}
	seq := &c.cseq
	c.ipIDc++
	if fromServer {
		c.eth.SrcMAC, c.eth.DstMAC = c.smac, c.cmac
		c.ip.SrcIP, c.ip.DstIP, c.ip.Id = c.sip, c.cip, c.ipIDs
		c.tcp = layers.TCP{SrcPort: layers.TCPPort(c.sport), DstPort: layers.TCPPort(c.cport), Seq: c.sseq, Ack: c.cseq, Window: c.srvWin, Options: c.tsopt}
		seq = &c.sseq
		c.ipIDc--
		c.ipIDs++
	}
	c.tcp.SYN, c.tcp.FIN, c.tcp.ACK = syn, fin, !(syn && !fromServer)
	c.tcp.PSH = len(payload) > 0 && len(payload) < 1448
	ms := uint32(c.t.UnixMilli())
	ts := c.tsopt[2].OptionData
	ts[0], ts[1], ts[2], ts[3] = byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	*seq += uint32(len(payload))
	if syn || fin {
		*seq++
	}
	c.tcp.SetNetworkLayerForChecksum(&c.ip)
	if err := gopacket.SerializeLayers(c.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&c.eth, &c.ip, &c.tcp, gopacket.Payload(payload)); err != nil {
		c.f.err = err
		return
	}
	c.f.add(c.t, bytes.Clone(c.buf.Bytes()))
}

func (c *tcpConn) handshake() {
	c.send(false, nil, true, false)
	c.send(true, nil, true, false)
	c.send(false, nil, false, false)
}

func (c *tcpConn) close() {
	c.send(false, nil, false, true)
	c.send(true, nil, false, true)
	c.send(false, nil, false, false)
}

// sendData sends data in segments of up to 1448 bytes, the peer ACKing
// every two.
func (c *tcpConn) sendData(fromServer bool, data []byte) {
	for i := 0; len(data) > 0; i++ {
		n := min(len(data), 1448)
		c.send(fromServer, data[:n], false, false)
		data = data[n:]
		if i%2 == 1 || len(data) == 0 {
			c.send(!fromServer, nil, false, false)
		}
	}
}

const fileRequest = "GET /v2/images/c6bca20f-183a-466f-9948-935b243c8190/file HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n" +
	"User-Agent: openstacksdk/0.101.0 keystoneauth1/5.0.0 python-requests/2.28.1 CPython/3.11.2\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\nAccept: */*\r\nConnection: keep-alive\r\n" +
	"X-Auth-Token: gAAAAABrAt0PFgZN0SsKKG2BZatTggNzhp-RtdYkORzVuq2SaLKqqu9oVM-j8DnZ-0FVM1ZHPprgQDvN-eXsKElxcTDSXGqxKipvSwS-8b_Kworsm0JkUQCx0FqObDD2Rco3grO0vB2rRPdWfV6edkFI5ic9nVgPZTwW7ojt5Wx_JRcNiyhZQng\r\n\r\n"

// download is an image download of size bytes on one connection.
func download(size int) *frames {
	f := &frames{}
	c := newTCPConn(f, 44604, 9292, time.Date(2026, 11, 22, 12, 16, 16, 0, time.UTC))
	c.handshake()
	c.sendData(false, []byte(fileRequest))
	head := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Md5: b774e7ef28f7ba96303551701e3c572c\r\n" +
		"Content-Length: " + strconv.Itoa(size) + "\r\nX-Openstack-Request-Id: req-fd4a86fd-18f0-4b52-a151-26db851d57cc\r\n" +
		"Date: Sun, 22 Nov 2026 12:16:16 GMT\r\nConnection: keep-alive\r\n\r\n"
	c.sendData(true, []byte(head))
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	c.sendData(true, body)
	c.close()
	return f
}

const validationResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Subject-Token: %s\r\nVary: X-Auth-Token\r\n" +
	"x-openstack-request-id: req-e55971ee-4dbd-4a4f-8816-fa1424dc4787\r\n\r\n"

// validations is n token validations, each on its own connection, the
// response delimited by the server closing the connection (keystone).
func validations(n int) *frames {
	f := &frames{}
	t := time.Date(2026, 11, 22, 12, 16, 16, 0, time.UTC)
	body := bytes.Repeat([]byte(`{"token": {"methods": ["password"], "user": {"domain": {"id": "default"}}}} `), 25)
	for i := range n {
		tok := fmt.Sprintf("gAAAAABr%0175d", i)
		c := newTCPConn(f, uint16(32768+i%28000), 5000, t)
		c.cip = c.sip
		c.handshake()
		c.sendData(false, []byte("GET /v3/auth/tokens HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nUser-Agent: python-keystoneclient\r\n"+
			"Accept: application/json\r\nConnection: keep-alive\r\nX-Subject-Token: "+tok+"\r\nOpenStack-Identity-Access-Rules: 1\r\n"+
			"X-Auth-Token: gAAAAABrAt0PLlyvlhu04_Wt36SMzW6KUsFk7QDAVqGXBKRpEcvlUXFVeRUFFwslKsShTqBAh2jHxXIXQviBSFaKB8AlRU7w9GLDI5LLeN25oLUWBSyMu3GoMYpL6xrUpI4sVxwt0MXFDy1MsmSC_Bf5g5M2X6lCfHzKWwaE_gTa60ql7qFp3vY\r\n\r\n"))
		c.sendData(true, append([]byte(fmt.Sprintf(validationResponse, tok)), body...))
		c.send(true, nil, false, true)
		c.send(false, nil, false, true)
		c.send(true, nil, false, false)
		t = t.Add(2 * time.Millisecond)
	}
	return f
}

// keepAlive is n small requests and responses on one connection.
func keepAlive(n int) *frames {
	f := &frames{}
	c := newTCPConn(f, 44604, 9292, time.Date(2026, 11, 22, 12, 16, 16, 0, time.UTC))
	c.handshake()
	body := bytes.Repeat([]byte(`{"images": []}`), 60)
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nX-Openstack-Request-Id: req-fd4a86fd-18f0-4b52-a151-26db851d57cc\r\nDate: Sun, 22 Nov 2026 12:16:16 GMT\r\nConnection: keep-alive\r\n\r\n")
	resp = append(resp, body...)
	for range n {
		c.sendData(false, []byte(fileRequest))
		c.sendData(true, resp)
	}
	c.close()
	return f
}

// realFrames reads an embedded capture of a real scenario, keeping the
// frames whose TCP ports include one of ports (all if none).
func realFrames(b *testing.B, example, file string, ports ...uint16) *frames {
	ex, ok := authflow.LoadExample(example)
	if !ok {
		b.Fatalf("no example %s", example)
	}
	raw, err := fs.ReadFile(ex.FS, path.Join("testdata/captures", example, file))
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	r, err := pcapgo.NewReader(zr)
	if err != nil {
		b.Fatal(err)
	}
	f := &frames{}
	pd := packet.NewDecoder()
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(ports) > 0 {
			seg, err := pd.Decode(r.LinkType(), data)
			if err != nil {
				continue
			}
			keep := false
			for _, p := range ports {
				keep = keep || seg.Src.Port() == p || seg.Dst.Port() == p
			}
			if !keep {
				continue
			}
		}
		f.add(ci.Timestamp, data)
	}
	if len(f.pkts) == 0 {
		b.Fatalf("%s/%s: no frames on ports %v", example, file, ports)
	}
	return f
}

// BenchmarkPipeline decodes captures held in memory.
func BenchmarkPipeline(b *testing.B) {
	b.Run("download-16MiB", func(b *testing.B) { download(16<<20).bench(b, 2) })
	b.Run("keepalive-1000", func(b *testing.B) { keepAlive(1000).bench(b, 2000) })
	b.Run("validations-2000", func(b *testing.B) { validations(2000).bench(b, 4000) })
	b.Run("image-save", func(b *testing.B) {
		f := realFrames(b, "image-save", "ens.pcap.gz")
		lo := realFrames(b, "image-save", "lo.pcap.gz")
		f.pkts = append(f.pkts, lo.pkts...)
		f.bytes += lo.bytes
		f.bench(b, 100)
	})
}

// BenchmarkDecoders runs each protocol decoder on its real traffic of the
// image-save scenario (loopback side), through the whole pipeline.
func BenchmarkDecoders(b *testing.B) {
	b.Run("http", func(b *testing.B) { realFrames(b, "image-save", "lo.pcap.gz", 5000).bench(b, 6) })
	b.Run("memcached", func(b *testing.B) { realFrames(b, "image-save", "lo.pcap.gz", 11211).bench(b, 6) })
	b.Run("mysql", func(b *testing.B) { realFrames(b, "image-save", "lo.pcap.gz", 3306).bench(b, 100) })
}

// BenchmarkPipelineFile reads a pcap file and decodes it, as authflow
// analyze does before building the flow.
func BenchmarkPipelineFile(b *testing.B) {
	fileBench := func(b *testing.B, name string, packets int) {
		st, err := os.Stat(name)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			src, err := capture.OpenFiles([]string{name}, capture.FileOptions{})
			if err != nil {
				b.Fatal(err)
			}
			_, stats, err := decode.Run(src, options())
			src.Close()
			if err != nil {
				b.Fatal(err)
			}
			if packets > 0 && stats.Packets != packets {
				b.Fatalf("%d packets, want %d", stats.Packets, packets)
			}
		}
	}
	b.Run("download-16MiB", func(b *testing.B) {
		f := download(16 << 20)
		fileBench(b, f.writePcap(b), len(f.pkts))
	})
	if name := os.Getenv("AUTHFLOW_BENCH_FILE"); name != "" {
		b.Run("env", func(b *testing.B) { fileBench(b, name, 0) })
	}
}
