package live

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// runFilter runs prog on frame in x/net/bpf's VM. The VM does not know the
// kernel's packet-type extension, so the load of it is replaced by a
// constant pkttype; the program keeps its length and jump offsets.
func runFilter(t *testing.T, prog []bpf.Instruction, pkttype uint32, frame []byte) int {
	t.Helper()
	p := append([]bpf.Instruction(nil), prog...)
	for i, ins := range p {
		if ext, ok := ins.(bpf.LoadExtension); ok && ext.Num == bpf.ExtType {
			p[i] = bpf.LoadConstant{Dst: bpf.RegA, Val: pkttype}
		}
	}
	vm, err := bpf.NewVM(p)
	if err != nil {
		t.Fatalf("load filter in VM: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("run filter: %v", err)
	}
	return n
}

func mustFilter(t *testing.T, ports []uint16, all, loopback bool, snap uint32) []bpf.Instruction {
	t.Helper()
	prog, err := BuildFilter(ports, all, loopback, snap)
	if err != nil {
		t.Fatalf("BuildFilter: %v", err)
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatalf("assemble: %v", err)
	}
	return prog
}

// readFrames reads every frame of a classic pcap file in testdata.
func readFrames(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		frames = append(frames, data)
	}
}

// TestFilterRealFrames runs the filter on frames from the recorded
// OpenStack captures (Keystone 5000 and MySQL 3306 from token-issue, and
// memcached 11211 and Glance 9292 from image-list-warm).
func TestFilterRealFrames(t *testing.T) {
	frames := readFrames(t, "openstack-frames.pcap")
	// Server port of each frame, in file order.
	serverPort := []uint16{5000, 5000, 5000, 3306, 3306, 11211, 11211, 9292, 9292}
	if len(frames) != len(serverPort) {
		t.Fatalf("testdata has %d frames, want %d", len(frames), len(serverPort))
	}
	const snap = 65535
	tests := []struct {
		name     string
		ports    []uint16
		all      bool
		loopback bool
		pkttype  uint32
		accept   func(port uint16) bool
	}{
		{name: "default_ports", ports: DefaultPorts(), accept: func(uint16) bool { return true }},
		{name: "keystone_only", ports: []uint16{5000}, accept: func(p uint16) bool { return p == 5000 }},
		{name: "memcached_and_mysql", ports: []uint16{11211, 3306}, accept: func(p uint16) bool { return p == 11211 || p == 3306 }},
		{name: "other_port", ports: []uint16{1234}, accept: func(uint16) bool { return false }},
		{name: "all", all: true, accept: func(uint16) bool { return true }},
		{name: "loopback_host", ports: DefaultPorts(), loopback: true, pkttype: unix.PACKET_HOST, accept: func(uint16) bool { return true }},
		{name: "loopback_outgoing", ports: DefaultPorts(), loopback: true, pkttype: unix.PACKET_OUTGOING, accept: func(uint16) bool { return false }},
		{name: "loopback_all_outgoing", all: true, loopback: true, pkttype: unix.PACKET_OUTGOING, accept: func(uint16) bool { return false }},
		{name: "loopback_all_host", all: true, loopback: true, pkttype: unix.PACKET_HOST, accept: func(uint16) bool { return true }},
		{name: "outgoing_kept_off_loopback", ports: DefaultPorts(), pkttype: unix.PACKET_OUTGOING, accept: func(uint16) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := mustFilter(t, tt.ports, tt.all, tt.loopback, snap)
			for i, frame := range frames {
				got := runFilter(t, prog, tt.pkttype, frame)
				want := 0
				if tt.accept(serverPort[i]) {
					want = snap
				}
				if got != want {
					t.Errorf("frame %d (port %d): filter returned %d, want %d", i+1, serverPort[i], got, want)
				}
			}
		})
	}
}

// frame serializes layers into an Ethernet frame.
func frame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: false}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	ip4A = net.IP{198, 18, 0, 100}
	ip4B = net.IP{198, 18, 0, 11}
	ip6A = net.ParseIP("2001:db8::100")
	ip6B = net.ParseIP("2001:db8::11")
)

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ipv4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: ip4A, DstIP: ip4B}
}

func ipv6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: ip6A, DstIP: ip6B}
}

func tcp(src, dst uint16) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(src), DstPort: layers.TCPPort(dst), Seq: 1, ACK: true, Window: 512, DataOffset: 5}
}

func udp(src, dst uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(src), DstPort: layers.UDPPort(dst)}
}

func vlan(id uint16, next layers.EthernetType) *layers.Dot1Q {
	return &layers.Dot1Q{VLANIdentifier: id, Type: next}
}

func TestFilterSyntheticFrames(t *testing.T) {
	payload := gopacket.Payload("GET /v3 HTTP/1.1\r\n\r\n")

	v4opts := ipv4(layers.IPProtocolTCP)
	v4opts.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}} // 4 NOPs: IHL 6
	fragFirst := ipv4(layers.IPProtocolTCP)
	fragFirst.Flags = layers.IPv4MoreFragments
	fragLater := ipv4(layers.IPProtocolTCP)
	fragLater.FragOffset = 185

	qinq := eth(layers.EthernetTypeQinQ)
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: ip4A, DstHwAddress: make([]byte, 6), DstProtAddress: ip4B}
	hopByHop := &layers.IPv6HopByHop{}
	hopByHop.NextHeader = layers.IPProtocolTCP
	hopByHop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}

	v4 := frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 5000), payload)

	tests := []struct {
		name   string
		frame  []byte
		accept bool
	}{
		{"ipv4_dst_port", v4, true},
		{"ipv4_src_port", frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(3306, 40000)), true},
		{"ipv4_other_ports", frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 5001)), false},
		{"ipv4_options", frame(t, eth(layers.EthernetTypeIPv4), v4opts, tcp(40000, 9292)), true},
		{"ipv4_first_fragment", frame(t, eth(layers.EthernetTypeIPv4), fragFirst, tcp(40000, 9292)), true},
		{"ipv4_later_fragment", frame(t, eth(layers.EthernetTypeIPv4), fragLater, tcp(40000, 9292)), false},
		{"ipv4_udp_same_port", frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(40000, 5000), payload), false},
		{"ipv6_dst_port", frame(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(40000, 11211), payload), true},
		{"ipv6_src_port", frame(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(35357, 40000)), true},
		{"ipv6_other_ports", frame(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(40000, 80)), false},
		{"ipv6_udp", frame(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolUDP), udp(5000, 5000)), false},
		{"ipv6_extension_header", frame(t, eth(layers.EthernetTypeIPv6), ipv6(layers.IPProtocolIPv6HopByHop), hopByHop, tcp(40000, 5000)), false},
		{"vlan_ipv4", frame(t, eth(layers.EthernetTypeDot1Q), vlan(100, layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 8774)), true},
		{"vlan_ipv4_other", frame(t, eth(layers.EthernetTypeDot1Q), vlan(100, layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 22)), false},
		{"vlan_ipv6", frame(t, eth(layers.EthernetTypeDot1Q), vlan(7, layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(9696, 40000)), true},
		{"qinq_ipv4", frame(t, qinq, vlan(10, layers.EthernetTypeDot1Q), vlan(20, layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 8080)), true},
		{"qinq_ipv6_other", frame(t, qinq, vlan(10, layers.EthernetTypeDot1Q), vlan(20, layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(40000, 443)), false},
		{"vlan_udp", frame(t, eth(layers.EthernetTypeDot1Q), vlan(100, layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(40000, 5000)), false},
		{"arp", frame(t, eth(layers.EthernetTypeARP), arp), false},
		{"truncated_in_tcp_header", v4[:14+20+2], false},
		{"truncated_in_ip_header", v4[:14+8], false},
		{"ethernet_header_only", v4[:14], false},
		{"empty", nil, false},
	}
	const snap = 262144
	ports := []uint16{5000, 3306, 9292, 11211, 35357, 8774, 9696, 8080}
	for _, loopback := range []bool{false, true} {
		prog := mustFilter(t, ports, false, loopback, snap)
		all := mustFilter(t, nil, true, loopback, snap)
		for _, tt := range tests {
			name := tt.name
			if loopback {
				name = "lo_" + name
			}
			t.Run(name, func(t *testing.T) {
				want := 0
				if tt.accept {
					want = snap
				}
				if got := runFilter(t, prog, unix.PACKET_HOST, tt.frame); got != want {
					t.Errorf("filter returned %d, want %d", got, want)
				}
				if got := runFilter(t, all, unix.PACKET_HOST, tt.frame); got != snap {
					t.Errorf("all: filter returned %d, want %d", got, snap)
				}
				if loopback {
					if got := runFilter(t, prog, unix.PACKET_OUTGOING, tt.frame); got != 0 {
						t.Errorf("outgoing: filter returned %d, want 0", got)
					}
				}
			})
		}
	}
}

func TestFilterSnapLen(t *testing.T) {
	f := frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, 5000))
	for _, snap := range []uint32{1, 96, 65535, DefaultSnapLen} {
		for _, all := range []bool{false, true} {
			if got := runFilter(t, mustFilter(t, []uint16{5000}, all, false, snap), 0, f); got != int(snap) {
				t.Errorf("snap %d all=%v: filter returned %d", snap, all, got)
			}
		}
	}
}

func TestFilterManyPorts(t *testing.T) {
	ports := make([]uint16, MaxPorts)
	for i := range ports {
		ports[i] = uint16(10000 + i)
	}
	prog := mustFilter(t, ports, false, true, 1500)
	if len(prog) > 4096 {
		t.Fatalf("program has %d instructions; the kernel allows 4096", len(prog))
	}
	for _, tt := range []struct {
		port   uint16
		accept bool
	}{{10000, true}, {10000 + MaxPorts - 1, true}, {10000 + MaxPorts, false}, {9999, false}} {
		f := frame(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(40000, tt.port))
		if got := runFilter(t, prog, unix.PACKET_HOST, f) != 0; got != tt.accept {
			t.Errorf("port %d: accepted=%v, want %v", tt.port, got, tt.accept)
		}
	}
	if _, err := BuildFilter(append(ports, 9), false, false, 1500); err == nil {
		t.Errorf("BuildFilter with %d ports: no error", MaxPorts+1)
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		name  string
		ports []uint16
		snap  uint32
	}{
		{"no_ports", nil, 1500},
		{"only_port_zero", []uint16{0, 0}, 1500},
		{"zero_snaplen", []uint16{5000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := BuildFilter(tt.ports, false, false, tt.snap); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestDescribeFilter(t *testing.T) {
	tests := []struct {
		ports []uint16
		all   bool
		want  string
	}{
		{[]uint16{5000}, false, "tcp and (port 5000)"},
		{[]uint16{5000, 0, 3306, 5000}, false, "tcp and (port 5000 or port 3306)"},
		{[]uint16{5000}, true, ""},
	}
	for _, tt := range tests {
		if got := DescribeFilter(tt.ports, tt.all); got != tt.want {
			t.Errorf("DescribeFilter(%v, %v) = %q, want %q", tt.ports, tt.all, got, tt.want)
		}
	}
}

// referenceAccept is the filter written in Go, load for load: a load past
// the end of the frame rejects it, as in the kernel.
func referenceAccept(frame []byte, ports []uint16, loopback bool, pkttype uint32) bool {
	if loopback && pkttype == unix.PACKET_OUTGOING {
		return false
	}
	u16 := func(off int) (int, bool) {
		if off < 0 || off+2 > len(frame) {
			return 0, false
		}
		return int(frame[off])<<8 | int(frame[off+1]), true
	}
	u8 := func(off int) (int, bool) {
		if off < 0 || off >= len(frame) {
			return 0, false
		}
		return int(frame[off]), true
	}
	off := 12
	et, ok := u16(off)
	for tags := 0; ok && tags < 2 && (et == etherTypeVLAN || et == etherTypeQinQ); tags++ {
		off += vlanTagLen
		et, ok = u16(off)
	}
	if !ok {
		return false
	}
	l3 := off + 2
	var l4 int
	switch et {
	case etherTypeIPv4:
		proto, ok := u8(l3 + 9)
		if !ok || proto != ipProtocolTCP {
			return false
		}
		frag, ok := u16(l3 + 6)
		if !ok || frag&ipv4FragOffMask != 0 {
			return false
		}
		vihl, ok := u8(l3)
		if !ok {
			return false
		}
		l4 = l3 + 4*(vihl&0x0f)
	case etherTypeIPv6:
		next, ok := u8(l3 + 6)
		if !ok || next != ipProtocolTCP {
			return false
		}
		l4 = l3 + ipv6HeaderLen
	default:
		return false
	}
	for _, portOff := range []int{0, 2} {
		p, ok := u16(l4 + portOff)
		if !ok {
			return false
		}
		for _, want := range ports {
			if p == int(want) {
				return true
			}
		}
	}
	return false
}

// FuzzFilter checks the BPF program against referenceAccept on arbitrary
// frames, seeded with real and synthetic ones.
func FuzzFilter(f *testing.F) {
	for _, fr := range readFrames(f, "openstack-frames.pcap") {
		f.Add(fr, uint8(unix.PACKET_HOST))
		f.Add(fr, uint8(unix.PACKET_OUTGOING))
	}
	f.Add(frame(f, eth(layers.EthernetTypeDot1Q), vlan(100, layers.EthernetTypeIPv6), ipv6(layers.IPProtocolTCP), tcp(40000, 5000)), uint8(0))
	f.Add(frame(f, eth(layers.EthernetTypeQinQ), vlan(1, layers.EthernetTypeDot1Q), vlan(2, layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(3306, 1)), uint8(0))
	f.Add(frame(f, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), udp(5000, 5000)), uint8(0))
	f.Add([]byte{}, uint8(0))

	const snap = 4096
	ports := []uint16{5000, 3306, 11211, 9292}
	progs := map[bool][]bpf.Instruction{}
	for _, loopback := range []bool{false, true} {
		prog, err := BuildFilter(ports, false, loopback, snap)
		if err != nil {
			f.Fatal(err)
		}
		progs[loopback] = prog
	}
	f.Fuzz(func(t *testing.T, data []byte, pkttype uint8) {
		for _, loopback := range []bool{false, true} {
			got := runFilter(t, progs[loopback], uint32(pkttype), data) != 0
			if want := referenceAccept(data, ports, loopback, uint32(pkttype)); got != want {
				t.Fatalf("loopback=%v pkttype=%d: filter accepts=%v, reference %v for % x", loopback, pkttype, got, want, data)
			}
		}
	})
}
