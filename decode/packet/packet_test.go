package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// frame is one captured frame from a test file.
type frame struct {
	lt   layers.LinkType
	data []byte
}

// readFrames reads the frames of a pcap file in testdata.
func readFrames(t testing.TB, name string) []frame {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame{r.LinkType(), data})
	}
}

// TestRealFrames decodes real frames and checks a few against what tshark
// shows for them (tshark.txt of the scenarios).
func TestRealFrames(t *testing.T) {
	ens := readFrames(t, "ens.pcap")     // token-issue, veth-ctl, Ethernet
	anyF := readFrames(t, "any-40.pcap") // image-list-cold, tcpdump -i any, SLL2
	tests := []struct {
		name    string
		f       frame
		src     string
		dst     string
		syn     bool
		payload string // prefix
		paylen  int
	}{
		{"ethernet SYN", ens[0], "198.18.0.100:60502", "198.18.0.11:5000", true, "", 0},
		{"ethernet GET /v3", ens[3], "198.18.0.100:60502", "198.18.0.11:5000", false, "GET /v3 HTTP/1.1\r\n", 222},
		{"ethernet response", ens[5], "198.18.0.11:5000", "198.18.0.100:60502", false, "HTTP/1.1 200 OK\r\n", 388},
		{"ethernet FIN", ens[7], "198.18.0.11:5000", "198.18.0.100:60502", false, "", 0},
		{"SLL2 GET /v3", anyF[3], "198.18.0.100:46648", "198.18.0.11:5000", false, "GET /v3 HTTP/1.1\r\n", -1},
		{"SLL2 on lo, MySQL query", anyF[17], "127.0.0.1:44376", "127.0.0.1:3306", false, "", -1},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, err := d.Decode(tt.f.lt, tt.f.data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if seg.Src.String() != tt.src || seg.Dst.String() != tt.dst {
				t.Errorf("%v -> %v, want %v -> %v", seg.Src, seg.Dst, tt.src, tt.dst)
			}
			if seg.TCP.SYN != tt.syn {
				t.Errorf("SYN = %v", seg.TCP.SYN)
			}
			if !bytes.HasPrefix(seg.Payload, []byte(tt.payload)) {
				t.Errorf("payload starts %q, want %q", seg.Payload[:min(len(seg.Payload), 30)], tt.payload)
			}
			if tt.paylen >= 0 && len(seg.Payload) != tt.paylen {
				t.Errorf("payload length %d, want %d", len(seg.Payload), tt.paylen)
			}
			if tt.paylen < 0 && len(seg.Payload) == 0 {
				t.Errorf("empty payload")
			}
			if seg.Truncated || seg.Missing != 0 || seg.Fragment {
				t.Errorf("flags: truncated %v missing %d fragment %v", seg.Truncated, seg.Missing, seg.Fragment)
			}
			if want := seg.Src.Addr().String(); seg.NetFlow.Src().String() != want {
				t.Errorf("NetFlow %v, src %v", seg.NetFlow, want)
			}
		})
	}
}

// TestAgainstGopacket decodes every real frame and compares with gopacket's
// own (allocating) packet decoder.
func TestAgainstGopacket(t *testing.T) {
	d := NewDecoder()
	for _, name := range []string{"ens.pcap", "any-40.pcap"} {
		for i, f := range readFrames(t, name) {
			seg, err := d.Decode(f.lt, f.data)
			p := gopacket.NewPacket(f.data, f.lt, gopacket.NoCopy)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp == nil {
				if !errors.Is(err, ErrNotTCP) {
					t.Errorf("%s frame %d: gopacket sees no TCP, Decode: %v", name, i+1, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s frame %d: %v", name, i+1, err)
				continue
			}
			if seg.NetFlow != p.NetworkLayer().NetworkFlow() ||
				seg.TCP.Seq != tcp.Seq || seg.TCP.Ack != tcp.Ack || seg.TCP.SrcPort != tcp.SrcPort ||
				seg.TCP.DstPort != tcp.DstPort || seg.TCP.FIN != tcp.FIN || seg.TCP.RST != tcp.RST ||
				!bytes.Equal(seg.Payload, tcp.Payload) {
				t.Errorf("%s frame %d differs from gopacket", name, i+1)
			}
		}
	}
}

// Synthetic frames.

var (
	ip4Src = net.IP{10, 0, 0, 1}
	ip4Dst = net.IP{10, 0, 0, 2}
	ip6Src = net.ParseIP("fd00::1")
	ip6Dst = net.ParseIP("fd00::2")
	macA   = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB   = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

const httpGet = "GET / HTTP/1.1\r\n\r\n"

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

func tcpLayer(nl gopacket.NetworkLayer) *layers.TCP {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5000, Seq: 1000, Ack: 2000, PSH: true, ACK: true, Window: 512}
	tcp.SetNetworkLayerForChecksum(nl)
	return tcp
}

func ip4Layer(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: ip4Src, DstIP: ip4Dst}
}

func ip6Layer(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: ip6Src, DstIP: ip6Dst}
}

// tcp4 is an IPv4 TCP segment carrying httpGet.
func tcp4(t testing.TB) []byte {
	ip := ip4Layer(layers.IPProtocolTCP)
	return serialize(t, ip, tcpLayer(ip), gopacket.Payload(httpGet))
}

// tcp6 is an IPv6 TCP segment carrying httpGet, after raw extension headers.
func tcp6(t testing.TB, next layers.IPProtocol, ext []byte) []byte {
	ip := ip6Layer(next)
	return serialize(t, ip, gopacket.Payload(ext), tcpLayer(ip), gopacket.Payload(httpGet))
}

func ethernet(t testing.TB, typ layers.EthernetType, payload []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: typ}
	return serialize(t, eth, gopacket.Payload(payload))
}

func sll(typ layers.EthernetType, payload []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 4) // outgoing
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[14:], uint16(typ))
	return append(h, payload...)
}

func sll2(typ layers.EthernetType, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], uint16(typ))
	binary.BigEndian.PutUint32(h[4:], 1)   // ifindex
	binary.BigEndian.PutUint16(h[8:], 772) // ARPHRD_LOOPBACK
	h[10] = 0                              // host
	h[11] = 6
	copy(h[12:], macA)
	return append(h, payload...)
}

func null(bo binary.ByteOrder, family uint32, payload []byte) []byte {
	h := make([]byte, 4)
	bo.PutUint32(h, family)
	return append(h, payload...)
}

func vlan(t testing.TB, outer layers.EthernetType, inner []layers.EthernetType, payload []byte) []byte {
	ls := []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: outer}}
	for i, typ := range inner {
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: uint16(100 + i), Type: typ})
	}
	return serialize(t, append(ls, gopacket.Payload(payload))...)
}

// errMalformed stands for any error that is neither ErrNotTCP nor
// ErrTruncated.
var errMalformed = errors.New("malformed")

func TestSyntheticFrames(t *testing.T) {
	v4, v6 := tcp4(t), tcp6(t, layers.IPProtocolTCP, nil)
	// IPv6 extension headers: hop-by-hop and destination options with a
	// PadN option, routing type 0 with no addresses left.
	hbh := []byte{byte(layers.IPProtocolIPv6Destination), 0, 1, 4, 0, 0, 0, 0}
	dst := []byte{byte(layers.IPProtocolIPv6Routing), 0, 1, 4, 0, 0, 0, 0}
	rt := []byte{byte(layers.IPProtocolTCP), 0, 0, 0, 0, 0, 0, 0}
	ext := append(append(append([]byte{}, hbh...), dst...), rt...)
	frag := func(offset uint16, more bool) []byte {
		b := []byte{byte(layers.IPProtocolTCP), 0, 0, 0, 0, 0, 0, 42}
		v := offset << 3
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(b[2:], v)
		return b
	}
	ip4frag := func(flags layers.IPv4Flag, offset uint16) []byte {
		ip := ip4Layer(layers.IPProtocolTCP)
		ip.Flags, ip.FragOffset, ip.Id = flags, offset, 7
		return serialize(t, ip, gopacket.Payload(bytes.Repeat([]byte{1}, 48)))
	}
	udp := func() []byte {
		ip := ip4Layer(layers.IPProtocolUDP)
		u := &layers.UDP{SrcPort: 53, DstPort: 53}
		u.SetNetworkLayerForChecksum(ip)
		return serialize(t, ip, u, gopacket.Payload("x"))
	}()
	arp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: macA, SourceProtAddress: ip4Src, DstHwAddress: macB, DstProtAddress: ip4Dst})
	// A pure ACK in a 60-byte Ethernet frame: 6 bytes of padding.
	ack := func() []byte {
		ip := ip4Layer(layers.IPProtocolTCP)
		tcp := tcpLayer(ip)
		tcp.PSH = false
		b := ethernet(t, layers.EthernetTypeIPv4, serialize(t, ip, tcp))
		return append(b, 0, 0, 0, 0, 0, 0)
	}()
	// Snap length 96 on Ethernet: 14 + 20 + 20 + 42 of the 100 payload bytes.
	long := func() []byte {
		ip := ip4Layer(layers.IPProtocolTCP)
		return ethernet(t, layers.EthernetTypeIPv4, serialize(t, ip, tcpLayer(ip), gopacket.Payload(bytes.Repeat([]byte("x"), 100))))
	}()
	long6 := func() []byte {
		ip := ip6Layer(layers.IPProtocolTCP)
		return serialize(t, ip, tcpLayer(ip), gopacket.Payload(bytes.Repeat([]byte("y"), 1000)))
	}()
	badIHL := bytes.Clone(v4)
	badIHL[0] = 0x43
	badOffset := bytes.Clone(v4)
	badOffset[20+12] = 0x30 // TCP data offset 3

	const (
		s4 = "10.0.0.1:40000"
		d4 = "10.0.0.2:5000"
		s6 = "[fd00::1]:40000"
		d6 = "[fd00::2]:5000"
	)
	tests := []struct {
		name     string
		lt       layers.LinkType
		data     []byte
		err      error
		src, dst string
		payload  string
		missing  int
		fragment bool
	}{
		{"ethernet IPv4", layers.LinkTypeEthernet, ethernet(t, layers.EthernetTypeIPv4, v4), nil, s4, d4, httpGet, 0, false},
		{"ethernet IPv6", layers.LinkTypeEthernet, ethernet(t, layers.EthernetTypeIPv6, v6), nil, s6, d6, httpGet, 0, false},
		{"ethernet padding", layers.LinkTypeEthernet, ack, nil, s4, d4, "", 0, false},
		{"802.1Q", layers.LinkTypeEthernet, vlan(t, layers.EthernetTypeDot1Q, []layers.EthernetType{layers.EthernetTypeIPv4}, v4), nil, s4, d4, httpGet, 0, false},
		{"QinQ", layers.LinkTypeEthernet, vlan(t, layers.EthernetTypeQinQ, []layers.EthernetType{layers.EthernetTypeDot1Q, layers.EthernetTypeIPv6}, v6), nil, s6, d6, httpGet, 0, false},
		{"Linux SLL", layers.LinkTypeLinuxSLL, sll(layers.EthernetTypeIPv4, v4), nil, s4, d4, httpGet, 0, false},
		{"Linux SLL IPv6", layers.LinkTypeLinuxSLL, sll(layers.EthernetTypeIPv6, v6), nil, s6, d6, httpGet, 0, false},
		{"Linux SLL2", layers.LinkTypeLinuxSLL2, sll2(layers.EthernetTypeIPv4, v4), nil, s4, d4, httpGet, 0, false},
		{"NULL little-endian", layers.LinkTypeNull, null(binary.LittleEndian, 2, v4), nil, s4, d4, httpGet, 0, false},
		{"NULL big-endian", layers.LinkTypeNull, null(binary.BigEndian, 2, v4), nil, s4, d4, httpGet, 0, false},
		{"NULL IPv6 BSD", layers.LinkTypeNull, null(binary.LittleEndian, 24, v6), nil, s6, d6, httpGet, 0, false},
		{"NULL IPv6 Darwin", layers.LinkTypeNull, null(binary.LittleEndian, 30, v6), nil, s6, d6, httpGet, 0, false},
		{"LOOP", layers.LinkTypeLoop, null(binary.BigEndian, 2, v4), nil, s4, d4, httpGet, 0, false},
		{"raw IPv4", layers.LinkTypeRaw, v4, nil, s4, d4, httpGet, 0, false},
		{"raw IPv6", layers.LinkTypeRaw, v6, nil, s6, d6, httpGet, 0, false},
		{"DLT_RAW 12", 12, v4, nil, s4, d4, httpGet, 0, false},
		{"DLT_RAW 14", 14, v6, nil, s6, d6, httpGet, 0, false},
		{"LINKTYPE_IPV4", layers.LinkTypeIPv4, v4, nil, s4, d4, httpGet, 0, false},
		{"LINKTYPE_IPV6", layers.LinkTypeIPv6, v6, nil, s6, d6, httpGet, 0, false},
		{"IPv6 extension headers", layers.LinkTypeRaw, tcp6(t, layers.IPProtocolIPv6HopByHop, ext), nil, s6, d6, httpGet, 0, false},
		{"IPv6 atomic fragment", layers.LinkTypeRaw, tcp6(t, layers.IPProtocolIPv6Fragment, frag(0, false)), nil, s6, d6, httpGet, 0, false},
		{"IPv6 first fragment", layers.LinkTypeRaw, tcp6(t, layers.IPProtocolIPv6Fragment, frag(0, true)), nil, "[fd00::1]:0", "[fd00::2]:0", "", 0, true},
		{"IPv6 last fragment", layers.LinkTypeRaw, tcp6(t, layers.IPProtocolIPv6Fragment, frag(10, false)), nil, "[fd00::1]:0", "[fd00::2]:0", "", 0, true},
		{"IPv4 first fragment", layers.LinkTypeRaw, ip4frag(layers.IPv4MoreFragments, 0), nil, "10.0.0.1:0", "10.0.0.2:0", "", 0, true},
		{"IPv4 last fragment", layers.LinkTypeRaw, ip4frag(0, 185), nil, "10.0.0.1:0", "10.0.0.2:0", "", 0, true},
		{"snaplen cut payload", layers.LinkTypeEthernet, long[:96], nil, s4, d4, "xxxxxx", 58, false},
		{"snaplen cut IPv6 payload", layers.LinkTypeRaw, long6[:100], nil, s6, d6, "yyyy", 960, false},
		{"snaplen cut TCP header", layers.LinkTypeEthernet, long[:14+20+10], ErrTruncated, "", "", "", 0, false},
		{"snaplen cut IPv4 header", layers.LinkTypeEthernet, long[:14+12], ErrTruncated, "", "", "", 0, false},
		{"snaplen cut after IPv4 header", layers.LinkTypeEthernet, long[:14+20], ErrTruncated, "", "", "", 0, false},
		{"snaplen cut Ethernet header", layers.LinkTypeEthernet, long[:10], ErrTruncated, "", "", "", 0, false},
		{"empty raw frame", layers.LinkTypeRaw, nil, ErrTruncated, "", "", "", 0, false},
		{"UDP", layers.LinkTypeRaw, udp, ErrNotTCP, "", "", "", 0, false},
		{"ARP", layers.LinkTypeEthernet, arp, ErrNotTCP, "", "", "", 0, false},
		{"IPv6 no next header", layers.LinkTypeRaw, serialize(t, ip6Layer(layers.IPProtocolNoNextHeader), gopacket.Payload("zz")), ErrNotTCP, "", "", "", 0, false},
		{"IPv4 fragment of UDP", layers.LinkTypeRaw, func() []byte {
			ip := ip4Layer(layers.IPProtocolUDP)
			ip.Flags = layers.IPv4MoreFragments
			return serialize(t, ip, gopacket.Payload("12345678"))
		}(), ErrNotTCP, "", "", "", 0, false},
		{"bad IHL", layers.LinkTypeRaw, badIHL, errMalformed, "", "", "", 0, false},
		{"bad TCP data offset", layers.LinkTypeRaw, badOffset, errMalformed, "", "", "", 0, false},
		{"raw IP version 5", layers.LinkTypeRaw, append([]byte{0x50}, v4[1:]...), errMalformed, "", "", "", 0, false},
		{"NULL unknown family", layers.LinkTypeNull, null(binary.LittleEndian, 99, v4), ErrNotTCP, "", "", "", 0, false},
		{"802.11", layers.LinkTypeIEEE802_11, v4, ErrUnsupportedLinkType, "", "", "", 0, false},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, err := d.Decode(tt.lt, tt.data)
			switch {
			case tt.err == errMalformed:
				if err == nil || errors.Is(err, ErrNotTCP) || errors.Is(err, ErrTruncated) {
					t.Fatalf("Decode: %v, want a malformed-frame error", err)
				}
				return
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("Decode: %v, want %v", err, tt.err)
				}
				return
			case err != nil:
				t.Fatalf("Decode: %v", err)
			}
			if seg.Src != netip.MustParseAddrPort(tt.src) || seg.Dst != netip.MustParseAddrPort(tt.dst) {
				t.Errorf("%v -> %v, want %v -> %v", seg.Src, seg.Dst, tt.src, tt.dst)
			}
			if seg.Fragment != tt.fragment {
				t.Errorf("Fragment = %v", seg.Fragment)
			}
			if seg.NetFlow.Src().String() != seg.Src.Addr().String() || seg.NetFlow.Dst().String() != seg.Dst.Addr().String() {
				t.Errorf("NetFlow = %v", seg.NetFlow)
			}
			if tt.fragment {
				if seg.TCP != nil || seg.Payload != nil {
					t.Errorf("fragment with TCP %v payload %q", seg.TCP, seg.Payload)
				}
				return
			}
			if seg.TCP == nil || seg.TCP.Seq != 1000 || seg.TCP.Ack != 2000 {
				t.Fatalf("TCP = %+v", seg.TCP)
			}
			if !bytes.HasPrefix(seg.Payload, []byte(tt.payload)) || tt.missing == 0 && string(seg.Payload) != tt.payload {
				t.Errorf("payload %q, want %q", seg.Payload, tt.payload)
			}
			if seg.Missing != tt.missing || seg.Truncated != (tt.missing > 0) {
				t.Errorf("Missing = %d, Truncated = %v; want %d", seg.Missing, seg.Truncated, tt.missing)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	d := NewDecoder()
	long := tcp4(t)
	tests := []struct {
		lt   layers.LinkType
		data []byte
		want string
	}{
		{layers.LinkTypeRaw, long[:30], "TCP header truncated: Invalid TCP header. Length 10 less than 20"},
		{layers.LinkTypeEthernet, []byte{1, 2, 3}, "Ethernet header truncated: Ethernet packet too small"},
		{layers.LinkTypeRaw, []byte{0x70}, "raw IP frame of IP version 7"},
		{layers.LinkTypeIEEE802_11, long, "unsupported link type 105 (802.11)"},
	}
	for _, tt := range tests {
		_, err := d.Decode(tt.lt, tt.data)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%v, % x): %v, want %q", tt.lt, tt.data[:min(len(tt.data), 8)], err, tt.want)
		}
	}
}

// TestDecodeDoesNotAllocate checks the per-frame promise on real frames, for
// TCP frames and for the ErrNotTCP path.
func TestDecodeDoesNotAllocate(t *testing.T) {
	frames := append(readFrames(t, "ens.pcap"), readFrames(t, "any-40.pcap")...)
	frames = append(frames, frame{layers.LinkTypeRaw, func() []byte {
		ip := ip4Layer(layers.IPProtocolUDP)
		u := &layers.UDP{SrcPort: 53, DstPort: 53}
		u.SetNetworkLayerForChecksum(ip)
		return serialize(t, ip, u, gopacket.Payload("x"))
	}()})
	frames = append(frames, frame{layers.LinkTypeRaw, tcp6(t, layers.IPProtocolTCP, nil)})
	d := NewDecoder()
	for _, f := range frames { // warm up: TCP options slices
		d.Decode(f.lt, f.data)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(frames)*10, func() {
		f := frames[i%len(frames)]
		i++
		if _, err := d.Decode(f.lt, f.data); err != nil && !errors.Is(err, ErrNotTCP) {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}
