package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// got is a delivered packet, copied.
type got struct {
	input, frame int
	ts           time.Time
	lt           layers.LinkType
	iface        int
	data         []byte
	caplen, len  int
}

func drain(t testing.TB, s *FileSource) []got {
	t.Helper()
	var out []got
	for {
		p, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(out) > 1e6 {
			t.Fatal("too many packets")
		}
		out = append(out, got{
			input: p.Input, frame: p.Frame, ts: p.Info.Timestamp, lt: p.LinkType,
			iface: p.Info.InterfaceIndex, data: bytes.Clone(p.Data),
			caplen: p.Info.CaptureLength, len: p.Info.Length,
		})
	}
}

func open(t testing.TB, opts FileOptions, paths ...string) *FileSource {
	t.Helper()
	s, err := OpenFiles(paths, opts)
	if err != nil {
		t.Fatalf("OpenFiles: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// refPacket is a packet read in file order straight through pcapgo.
type refPacket struct {
	ts   time.Time
	data []byte
	lt   layers.LinkType
}

// reference reads a capture file in file order with pcapgo alone.
func reference(t testing.TB, path string) []refPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	var out []refPacket
	if bytes.Equal(magic, magicPcapng[:]) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, refPacket{ci.Timestamp, data, ci.AncillaryData[0].(layers.LinkType)})
		}
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, refPacket{ci.Timestamp, data, r.LinkType()})
	}
}

// checkOrdered fails unless the packets are in time order, with ties in
// input and then frame order.
func checkOrdered(t *testing.T, pkts []got) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if b.ts.Before(a.ts) {
			t.Fatalf("packet %d (input %d frame %d, %v) before packet %d (input %d frame %d, %v)",
				i, b.input, b.frame, b.ts, i-1, a.input, a.frame, a.ts)
		}
		if b.ts.Equal(a.ts) && (b.input < a.input || b.input == a.input && b.frame < a.frame) {
			t.Fatalf("tie at %v out of file order: input %d frame %d after input %d frame %d", a.ts, b.input, b.frame, a.input, a.frame)
		}
	}
}

// checkAgainstReference fails unless pkts hold every frame of each path
// exactly once, with the bytes, timestamp and link type pcapgo reads.
func checkAgainstReference(t *testing.T, pkts []got, paths ...string) {
	t.Helper()
	for input, path := range paths {
		ref := reference(t, path)
		seen := make([]bool, len(ref))
		for _, p := range pkts {
			if p.input != input {
				continue
			}
			if p.frame < 1 || p.frame > len(ref) {
				t.Fatalf("%s: frame %d out of range 1..%d", path, p.frame, len(ref))
			}
			if seen[p.frame-1] {
				t.Fatalf("%s: frame %d delivered twice", path, p.frame)
			}
			seen[p.frame-1] = true
			r := ref[p.frame-1]
			if !bytes.Equal(p.data, r.data) || !p.ts.Equal(r.ts) || p.lt != r.lt {
				t.Fatalf("%s: frame %d differs from pcapgo: ts %v/%v lt %v/%v len %d/%d",
					path, p.frame, p.ts, r.ts, p.lt, r.lt, len(p.data), len(r.data))
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("%s: frame %d not delivered", path, i+1)
			}
		}
	}
}

func TestOpenFilesRealCaptures(t *testing.T) {
	tests := []struct {
		file       string
		format     string
		packets    int
		linkTypes  []layers.LinkType
		interfaces []string
		// inFileOrder says the file is already in time order, so frames
		// must come out as 1, 2, 3, ...
		inFileOrder bool
	}{
		{"token-issue-ens.pcap", "pcap", 25, []layers.LinkType{layers.LinkTypeEthernet}, nil, true},
		{"token-issue-lo.pcap", "pcap", 263, []layers.LinkType{layers.LinkTypeEthernet}, nil, true},
		{"bad-password-ens.pcap", "pcap", 22, []layers.LinkType{layers.LinkTypeEthernet}, nil, true},
		{"any-200.pcap", "pcap", 200, []layers.LinkType{layers.LinkTypeLinuxSLL2}, nil, true},
		// dumpcap on veth-ctl and lo: frame 254 (lo) is 202 ms older than
		// frame 253 (veth-ctl).
		{"both-300.pcapng", "pcapng", 300, []layers.LinkType{layers.LinkTypeEthernet}, []string{"veth-ctl", "lo"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			s := open(t, FileOptions{}, path)
			pkts := drain(t, s)
			if len(pkts) != tt.packets {
				t.Fatalf("got %d packets, want %d", len(pkts), tt.packets)
			}
			checkOrdered(t, pkts)
			checkAgainstReference(t, pkts, path)
			if tt.inFileOrder {
				for i, p := range pkts {
					if p.frame != i+1 {
						t.Fatalf("packet %d has frame %d", i, p.frame)
					}
				}
			}
			if errs := s.Errors(); len(errs) != 0 {
				t.Fatalf("Errors() = %v", errs)
			}
			info := s.Inputs()[0]
			if info.Path != path || info.Format != tt.format || info.Gzip || info.Packets != tt.packets || info.Err != nil || info.Unordered != 0 {
				t.Errorf("Inputs()[0] = %+v", info)
			}
			if !slices.Equal(info.LinkTypes, tt.linkTypes) {
				t.Errorf("LinkTypes = %v, want %v", info.LinkTypes, tt.linkTypes)
			}
			if !slices.Equal(info.Interfaces, tt.interfaces) {
				t.Errorf("Interfaces = %q, want %q", info.Interfaces, tt.interfaces)
			}
			if !info.First.Equal(pkts[0].ts) || !info.Last.Equal(pkts[len(pkts)-1].ts) {
				t.Errorf("First, Last = %v, %v; want %v, %v", info.First, info.Last, pkts[0].ts, pkts[len(pkts)-1].ts)
			}
			read, total := s.Progress()
			if read != total || total != info.Size {
				t.Errorf("Progress() = %d, %d; want %d, %d", read, total, info.Size, info.Size)
			}
		})
	}
}

func TestMergeTwoFiles(t *testing.T) {
	ens := filepath.Join("testdata", "token-issue-ens.pcap")
	lo := filepath.Join("testdata", "token-issue-lo.pcap")
	s := open(t, FileOptions{}, ens, lo)
	pkts := drain(t, s)
	if len(pkts) != 25+263 {
		t.Fatalf("got %d packets, want 288", len(pkts))
	}
	checkOrdered(t, pkts)
	checkAgainstReference(t, pkts, ens, lo)
	next := []int{1, 1}
	for _, p := range pkts {
		if p.frame != next[p.input] {
			t.Fatalf("input %d: frame %d, want %d", p.input, p.frame, next[p.input])
		}
		next[p.input]++
	}
	if next[0] != 26 || next[1] != 264 {
		t.Fatalf("frames per input end at %v", next)
	}
	switches := 0
	for i := 1; i < len(pkts); i++ {
		if pkts[i].input != pkts[i-1].input {
			switches++
		}
	}
	if switches < 4 {
		t.Errorf("inputs switch %d times; the two captures overlap in time", switches)
	}
	infos := s.Inputs()
	if infos[0].Packets != 25 || infos[1].Packets != 263 {
		t.Errorf("Inputs packets = %d, %d", infos[0].Packets, infos[1].Packets)
	}
}

// TestPcapngPerInterface checks that a pcapng file whose interfaces were
// written in batches comes out in time order even with reordering off, and
// that without the per-interface readers (a pipe) the window catches what
// it can and counts the rest.
func TestPcapngPerInterface(t *testing.T) {
	path := filepath.Join("testdata", "both-300.pcapng")
	ref := reference(t, path)
	if !ref[253].ts.Before(ref[252].ts) {
		t.Fatal("fixture: frame 254 should be older than frame 253")
	}

	s := open(t, FileOptions{ReorderPackets: 1}, path)
	pkts := drain(t, s)
	checkOrdered(t, pkts)
	checkAgainstReference(t, pkts, path)
	lastFrame := map[int]int{}
	for _, p := range pkts {
		if p.frame <= lastFrame[p.iface] {
			t.Fatalf("interface %d: frame %d after %d", p.iface, p.frame, lastFrame[p.iface])
		}
		lastFrame[p.iface] = p.frame
	}

	b := readFixture(t, "both-300.pcapng")
	s2, err := openInputs([]inputSpec{memSpec("pipe.pcapng", b, false)}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pkts2 := drain(t, s2)
	if len(pkts2) != 300 {
		t.Fatalf("unsplit: %d packets", len(pkts2))
	}
	if u := s2.Inputs()[0].Unordered; u == 0 {
		t.Errorf("unsplit read of a batched pcapng: Unordered = 0, want > 0")
	}
	s3, err := openInputs([]inputSpec{memSpec("pipe.pcapng", b, false)}, FileOptions{ReorderPackets: 1000, ReorderWindow: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pkts3 := drain(t, s3)
	checkOrdered(t, pkts3)
	if u := s3.Inputs()[0].Unordered; u != 0 {
		t.Errorf("unsplit read with a 1 s window: Unordered = %d", u)
	}
}

func TestPcapVariants(t *testing.T) {
	base := time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)
	pkts := []synthPkt{
		{ts: base, data: frameData(1, 60)},
		{ts: base.Add(time.Millisecond), data: frameData(2, 54), orig: 1514}, // snaplen cut
		{ts: base.Add(2 * time.Millisecond), data: frameData(3, 100)},
	}
	tests := []struct {
		name string
		bo   binary.AppendByteOrder
		nano bool
	}{
		{"little-endian micro", binary.LittleEndian, false},
		{"big-endian micro", binary.BigEndian, false},
		{"little-endian nano", binary.LittleEndian, true},
		{"big-endian nano", binary.BigEndian, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "x.pcap", pcapFile(tt.bo, tt.nano, 65535, uint32(layers.LinkTypeRaw), pkts...))
			s := open(t, FileOptions{}, path)
			out := drain(t, s)
			if len(out) != len(pkts) {
				t.Fatalf("got %d packets", len(out))
			}
			for i, p := range out {
				want := pkts[i].ts
				if !tt.nano {
					want = want.Truncate(time.Microsecond)
				}
				if !p.ts.Equal(want) || p.frame != i+1 || p.lt != layers.LinkTypeRaw ||
					!bytes.Equal(p.data, pkts[i].data) || p.len != pkts[i].origLen() || p.caplen != len(pkts[i].data) {
					t.Errorf("packet %d = ts %v frame %d lt %v caplen %d len %d", i, p.ts, p.frame, p.lt, p.caplen, p.len)
				}
			}
			if errs := s.Errors(); len(errs) != 0 {
				t.Errorf("Errors() = %v", errs)
			}
		})
	}
}

func TestPcapngSectionsAndResolutions(t *testing.T) {
	base := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ns := func(d time.Duration) uint64 { return uint64(base.Add(d).UnixNano()) }
	us := func(d time.Duration) uint64 { return uint64(base.Add(d).UnixMicro()) }

	var f ngFile
	// Section 1, little-endian: Ethernet in ns, Raw in µs, interleaved in
	// batches as dumpcap writes them.
	f.section(binary.LittleEndian)
	f.iface(uint16(layers.LinkTypeEthernet), 262144, 9, "eth0")
	f.iface(uint16(layers.LinkTypeRaw), 0, 0, "tun0")
	f.packet(0, ns(10*time.Microsecond+1), frameData(1, 60), 0)  // frame 1
	f.packet(0, ns(30*time.Microsecond+2), frameData(2, 60), 0)  // frame 2
	f.packet(1, us(20*time.Microsecond), frameData(3, 40), 0)    // frame 3
	f.packet(1, us(40*time.Microsecond), frameData(4, 40), 1500) // frame 4
	f.packet(0, ns(40*time.Microsecond), frameData(5, 60), 0)    // frame 5: ties with frame 4
	// Section 2, big-endian: one Linux SLL2 interface, overlapping in time.
	f.section(binary.BigEndian)
	f.iface(uint16(layers.LinkTypeLinuxSLL2), 65535, 9, "any")
	f.packet(0, ns(5*time.Microsecond), frameData(6, 80), 0)  // frame 6
	f.packet(0, ns(35*time.Microsecond), frameData(7, 80), 0) // frame 7
	// Section 3, little-endian again, reusing interface index 0.
	f.section(binary.LittleEndian)
	f.iface(uint16(layers.LinkTypeEthernet), 0, 6, "eth1")
	f.packet(0, us(25*time.Microsecond), frameData(8, 64), 0) // frame 8

	want := []struct {
		frame int
		lt    layers.LinkType
		ts    time.Duration
	}{
		{6, layers.LinkTypeLinuxSLL2, 5 * time.Microsecond},
		{1, layers.LinkTypeEthernet, 10*time.Microsecond + 1},
		{3, layers.LinkTypeRaw, 20 * time.Microsecond},
		{8, layers.LinkTypeEthernet, 25 * time.Microsecond},
		{2, layers.LinkTypeEthernet, 30*time.Microsecond + 2},
		{7, layers.LinkTypeLinuxSLL2, 35 * time.Microsecond},
		{4, layers.LinkTypeRaw, 40 * time.Microsecond},
		{5, layers.LinkTypeEthernet, 40 * time.Microsecond},
	}
	for _, split := range []bool{true, false} {
		name := "one reader per interface"
		if !split {
			name = "one reader"
		}
		t.Run(name, func(t *testing.T) {
			s, err := openInputs([]inputSpec{memSpec("multi.pcapng", f.b, split)}, FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out := drain(t, s)
			if len(out) != len(want) {
				t.Fatalf("got %d packets, want %d", len(out), len(want))
			}
			for i, w := range want {
				p := out[i]
				if p.frame != w.frame || p.lt != w.lt || !p.ts.Equal(base.Add(w.ts)) || p.data[0] != byte(w.frame) {
					t.Errorf("packet %d: frame %d lt %v ts +%v; want frame %d lt %v ts +%v",
						i, p.frame, p.lt, p.ts.Sub(base), w.frame, w.lt, w.ts)
				}
			}
			if out[6].len != 1500 || out[6].caplen != 40 {
				t.Errorf("frame 4 lengths = %d/%d, want 40/1500", out[6].caplen, out[6].len)
			}
			info := s.Inputs()[0]
			wantLT := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL2}
			if !slices.Equal(info.LinkTypes, wantLT) {
				t.Errorf("LinkTypes = %v, want %v", info.LinkTypes, wantLT)
			}
			if !slices.Equal(info.Interfaces, []string{"eth0", "tun0", "any", "eth1"}) {
				t.Errorf("Interfaces = %q", info.Interfaces)
			}
			if errs := s.Errors(); len(errs) != 0 {
				t.Errorf("Errors() = %v", errs)
			}
		})
	}
}

func TestTiesKeepFileOrder(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pkts []synthPkt
	for i := range 10 {
		pkts = append(pkts, synthPkt{ts: ts, data: frameData(byte(i), 20)})
	}
	a := writeTemp(t, "a.pcap", pcapFile(binary.LittleEndian, false, 100, 1, pkts...))
	b := writeTemp(t, "b.pcap", pcapFile(binary.LittleEndian, false, 100, 1, pkts[:3]...))
	out := drain(t, open(t, FileOptions{}, a, b))
	checkOrdered(t, out)
	if len(out) != 13 || out[0].input != 0 || out[10].input != 1 {
		t.Fatalf("got %d packets, first from input %d, 11th from %d", len(out), out[0].input, out[10].input)
	}
}

// TestReorderWindow checks the bounds of the reorder window on one stream.
func TestReorderWindow(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	// File order, in ms: frame 3 (5) is 5 ms late, frame 8 (40) is
	// 1160 ms late.
	stamps := []int{0, 10, 5, 20, 30, 1000, 1200, 40, 1210}
	var pkts []synthPkt
	for i, n := range stamps {
		pkts = append(pkts, synthPkt{ts: ms(n), data: frameData(byte(i), 20)})
	}
	path := writeTemp(t, "jitter.pcap", pcapFile(binary.LittleEndian, false, 100, 1, pkts...))
	tests := []struct {
		name      string
		opts      FileOptions
		frames    []int
		unordered int
	}{
		// Frame 6 (1000) goes out when frame 7 (1200) is read, before
		// frame 8 (40) comes.
		{"default", FileOptions{}, []int{1, 3, 2, 4, 5, 6, 8, 7, 9}, 1},
		{"off", FileOptions{ReorderPackets: 1}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 2},
		{"negative window", FileOptions{ReorderWindow: -1}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 2},
		{"two packets", FileOptions{ReorderPackets: 2, ReorderWindow: time.Hour}, []int{1, 3, 2, 4, 5, 6, 8, 7, 9}, 1},
		{"three packets", FileOptions{ReorderPackets: 3, ReorderWindow: time.Hour}, []int{1, 3, 2, 4, 5, 8, 6, 7, 9}, 0},
		{"wide", FileOptions{ReorderWindow: 2 * time.Second}, []int{1, 3, 2, 4, 5, 8, 6, 7, 9}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, tt.opts, path)
			out := drain(t, s)
			var frames []int
			for _, p := range out {
				frames = append(frames, p.frame)
			}
			if !slices.Equal(frames, tt.frames) {
				t.Errorf("frames %v, want %v", frames, tt.frames)
			}
			if u := s.Inputs()[0].Unordered; u != tt.unordered {
				t.Errorf("Unordered = %d, want %d", u, tt.unordered)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	plain := filepath.Join("testdata", "token-issue-ens.pcap")
	gz := gzipBytes(t, readFixture(t, "token-issue-ens.pcap"))
	gzPath := writeTemp(t, "ens.pcap.gz", gz)
	// The name does not matter: the magic does.
	oddName := writeTemp(t, "ens.pcap", gz)

	ngGz := gzipBytes(t, readFixture(t, "both-300.pcapng"))
	ngPath := writeTemp(t, "both.pcapng.gz", ngGz)

	for _, path := range []string{gzPath, oddName} {
		s := open(t, FileOptions{}, path)
		pkts := drain(t, s)
		if len(pkts) != 25 {
			t.Fatalf("%s: %d packets", path, len(pkts))
		}
		for i := range pkts {
			pkts[i].input = 0
		}
		checkAgainstReference(t, pkts, plain)
		info := s.Inputs()[0]
		if !info.Gzip || info.Format != "pcap" || info.Size != int64(len(gz)) {
			t.Errorf("Inputs()[0] = %+v", info)
		}
		if read, total := s.Progress(); read != total || total != int64(len(gz)) {
			t.Errorf("Progress() = %d, %d; want %d", read, total, len(gz))
		}
	}

	s := open(t, FileOptions{}, ngPath)
	pkts := drain(t, s)
	checkOrdered(t, pkts)
	checkAgainstReference(t, pkts, filepath.Join("testdata", "both-300.pcapng"))
	if info := s.Inputs()[0]; !info.Gzip || info.Format != "pcapng" {
		t.Errorf("Inputs()[0] = %+v", info)
	}
}

// TestBadInput checks that damaged files give one clear error naming the
// file, the packets before the damage, and leave the other inputs alone.
func TestBadInput(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	le := binary.LittleEndian
	good := pcapFile(le, false, 65535, 1,
		synthPkt{ts: ts, data: frameData(1, 60)},
		synthPkt{ts: ts.Add(time.Second), data: frameData(2, 60)},
	)
	ens := readFixture(t, "token-issue-ens.pcap")
	withRecord := func(caplen, origlen uint32) []byte {
		b := bytes.Clone(good)
		b = le.AppendUint32(b, uint32(ts.Unix()+2))
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, caplen)
		b = le.AppendUint32(b, origlen)
		return append(b, frameData(3, 100)...)
	}
	// tcpdump and Wireshark read records longer than the snap length the
	// header declares (dpkt writes them); so does pcapgo, up to 256 KiB.
	smallSnap := pcapFile(le, false, 50, 1,
		synthPkt{ts: ts, data: frameData(1, 100)},
		synthPkt{ts: ts.Add(time.Second), data: frameData(2, 40)},
	)
	var ng ngFile
	ng.section(le)
	ng.iface(1, 0, 0, "eth0")
	ngHeaderOnly := bytes.Clone(ng.b) // section header and interface only
	ng.packet(0, uint64(ts.UnixMicro()), frameData(1, 60), 0)
	ng.packet(0, uint64(ts.UnixMicro()+1), frameData(2, 60), 0)
	// An enhanced packet block whose capture length is 2 GiB.
	ngHuge := bytes.Clone(ng.b)
	binary.LittleEndian.PutUint32(ngHuge[len(ngHuge)-4-60-8:], 0x7fffffff)
	// A well-formed block with a 300000-byte packet.
	var ngBig ngFile
	ngBig.section(le)
	ngBig.iface(1, 0, 0, "eth0")
	ngBig.packet(0, uint64(ts.UnixMicro()), frameData(1, 60), 0)
	ngBig.packet(0, uint64(ts.UnixMicro()+1), make([]byte, 300000), 0)

	tests := []struct {
		name    string
		data    []byte
		packets int
		err     string // substring of the one error; "" for none
		fatal   bool   // the file cannot be opened at all
	}{
		{"empty", nil, 0, "x: empty file", true},
		{"html", []byte("<html><body>not found</body></html>"), 0, "x: not a pcap or pcapng file (magic 3c 68 74 6d)", true},
		{"short", []byte{0xd4, 0xc3}, 0, "x: truncated file header (2 bytes)", true},
		{"truncated pcap header", good[:20], 0, "x: truncated pcap file header (20 of 24 bytes)", true},
		{"pcap version", append(append([]byte{}, good[:4]...), append([]byte{3, 0, 1, 0}, good[8:]...)...), 0, "x: unsupported pcap version 3.1", true},
		{"header only", good[:24], 0, "", false},
		{"pcapng header only", ngHeaderOnly, 0, "", false},
		{"truncated record header", good[:len(good)-60-6], 1, "x: truncated record header at frame 2 (offset 100)", false},
		{"truncated packet", good[:len(good)-1], 1, "x: truncated packet record at frame 2 (offset 100)", false},
		{"huge caplen", withRecord(0x7fffffff, 0x7fffffff), 2, "x: frame 3 (offset 176): capture length 2147483647 exceeds the maximum of 262144", false},
		{"caplen over 256 KiB", withRecord(262145, 262145), 2, "exceeds the maximum of 262144", false},
		{"caplen over packet length", withRecord(100, 60), 2, "x: frame 3 (offset 176): capture length 100 exceeds packet length 60", false},
		{"caplen over snaplen is read", smallSnap, 2, "", false},
		{"truncated real capture", ens[:3000], 17, "x: truncated packet record at frame 18 (offset 2567)", false},
		{"truncated pcapng", ng.b[:len(ng.b)-10], 1, "x: truncated block at frame 2", false},
		{"pcapng huge caplen", ngHuge, 1, "x: truncated block at frame 2", false},
		{"pcapng caplen over 256 KiB", ngBig.b, 1, "x: frame 2 (offset 152): capture length 300000 exceeds the maximum of 262144", false},
		{"gzip garbage", []byte{0x1f, 0x8b, 0, 0, 0}, 0, "x: read gzip header: unexpected EOF", true},
		{"gzip of html", gzipBytes(t, []byte("<html>")), 0, "x: gzip content is not a pcap or pcapng file (magic 3c 68 74 6d)", true},
		{"truncated gzip", gzipBytes(t, ens)[:2000], -1, "x: truncated", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			otherAbs, err := filepath.Abs(filepath.Join("testdata", "bad-password-ens.pcap"))
			if err != nil {
				t.Fatal(err)
			}
			bad := writeTemp(t, "x", tt.data)
			// Name the file "x" in messages: run from its directory.
			t.Chdir(filepath.Dir(bad))
			s, err := OpenFiles([]string{"x", otherAbs}, FileOptions{})
			if err != nil {
				t.Fatalf("OpenFiles: %v", err)
			}
			defer s.Close()
			pkts := drain(t, s)
			n := 0
			for _, p := range pkts {
				if p.input == 0 {
					n++
				}
			}
			if tt.packets >= 0 && n != tt.packets {
				t.Errorf("got %d packets from the bad file, want %d", n, tt.packets)
			}
			if len(pkts)-n != 22 {
				t.Errorf("got %d packets from the good file, want 22", len(pkts)-n)
			}
			errs := s.Errors()
			info := s.Inputs()
			if tt.err == "" {
				if len(errs) != 0 || info[0].Err != nil {
					t.Fatalf("Errors() = %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.err) {
				t.Fatalf("Errors() = %v, want one containing %q", errs, tt.err)
			}
			if msg := errs[0].Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "x: ") {
				t.Errorf("error %q is not one line naming the file", msg)
			}
			if info[0].Err != errs[0] || info[1].Err != nil {
				t.Errorf("Inputs() errors = %v, %v", info[0].Err, info[1].Err)
			}
			if tt.fatal != (info[0].Format == "") {
				t.Errorf("Format = %q for a file that fatal=%v", info[0].Format, tt.fatal)
			}
		})
	}
}

func TestOpenFilesFails(t *testing.T) {
	html := writeTemp(t, "lo.pcap", []byte("<html></html>"))
	_, err := OpenFiles([]string{html, filepath.Join(t.TempDir(), "missing.pcap"), t.TempDir()}, FileOptions{})
	if err == nil {
		t.Fatal("OpenFiles of no capture succeeded")
	}
	for _, want := range []string{"lo.pcap: not a pcap or pcapng file", "missing.pcap: no such file", "is a directory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := OpenFiles(nil, FileOptions{}); err == nil {
		t.Error("OpenFiles(nil) succeeded")
	}
}

// TestProgressWhileReading polls Progress from another goroutine, as a
// progress bar does (run with -race).
func TestProgressWhileReading(t *testing.T) {
	s := open(t, FileOptions{}, filepath.Join("testdata", "both-300.pcapng"), filepath.Join("testdata", "token-issue-lo.pcap"))
	done := make(chan struct{})
	polled := make(chan int64)
	go func() {
		var last int64
		for {
			select {
			case <-done:
				polled <- last
				return
			default:
				read, total := s.Progress()
				if read > total {
					t.Errorf("Progress() = %d > %d", read, total)
				}
				last = read
			}
		}
	}()
	drain(t, s)
	close(done)
	<-polled
	if read, total := s.Progress(); read != total {
		t.Errorf("Progress() at the end = %d, %d", read, total)
	}
}

func TestCloseAndProgress(t *testing.T) {
	path := filepath.Join("testdata", "token-issue-lo.pcap")
	s := open(t, FileOptions{}, path)
	read0, total := s.Progress()
	if total != 83547 || read0 < 0 || read0 > total {
		t.Fatalf("Progress() before reading = %d, %d", read0, total)
	}
	last := read0
	for range 100 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		read, _ := s.Progress()
		if read < last {
			t.Fatalf("progress went back from %d to %d", last, read)
		}
		last = read
	}
	if info := s.Inputs()[0]; info.Packets != 100 {
		t.Errorf("Packets so far = %d, want 100", info.Packets)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close: %v, want os.ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestNextDoesNotAllocate checks the steady state: once the buffers have
// grown, reading a packet allocates nothing.
func TestNextDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a few thousand packets")
	}
	big := bigPcap(t, readFixture(t, "token-issue-lo.pcap"), 20)
	ng := batchedPcapng(3000, 100)
	for _, spec := range []inputSpec{memSpec("lo.pcap", big, true), memSpec("batched.pcapng", ng, true)} {
		s, err := openInputs([]inputSpec{spec}, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 600 { // warm up: fill windows, grow buffers
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per packet", spec.path, allocs)
		}
	}
}

// bigPcap repeats the records of a pcap file n times, each copy later in
// time than the one before.
func bigPcap(t testing.TB, file []byte, n int) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var recs []synthPkt
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, synthPkt{ts: ci.Timestamp, data: data, orig: ci.Length})
	}
	span := recs[len(recs)-1].ts.Sub(recs[0].ts) + time.Millisecond
	out := bytes.Clone(file[:pcapHeaderLen])
	for i := range n {
		for _, p := range recs {
			p.ts = p.ts.Add(time.Duration(i) * span)
			out = pcapRecord(out, binary.LittleEndian, false, p)
		}
	}
	return out
}

// batchedPcapng returns a pcapng file of n packets on two interfaces, written
// in batches of the given size as dumpcap does: each batch of one interface
// overlaps in time with the batch of the other before it.
func batchedPcapng(n, batch int) []byte {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f ngFile
	f.section(binary.LittleEndian)
	f.iface(uint16(layers.LinkTypeEthernet), 262144, 9, "eth0")
	f.iface(uint16(layers.LinkTypeEthernet), 262144, 9, "lo")
	for i := 0; i < n; i++ {
		b := i / batch
		iface := b % 2
		// interface 1's batches start half a batch earlier in time.
		t := base.Add(time.Duration(i*10-iface*batch*5) * time.Microsecond)
		f.packet(iface, uint64(t.UnixNano()), frameData(byte(i), 60+i%1400), 0)
	}
	return f.b
}
