package clocksync

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpSpec describes a TCP segment to build.
type tcpSpec struct {
	v6            bool
	src, dst      string
	sport, dport  uint16
	seq, ack      uint32
	syn, fin, psh bool
	window        uint16
	ipid          uint16
	ttl           uint8
	tsval         uint32
	payload       int
	frag          bool // IPv4: more fragments; IPv6: a fragment header
	hopByHop      bool // IPv6: a hop-by-hop options header
	udp           bool
	badChecksum   bool // write a wrong TCP checksum (offloading)
}

func defaultSpec() tcpSpec {
	return tcpSpec{
		src: "198.18.0.100", dst: "198.18.0.11", sport: 41234, dport: 5000,
		seq: 1000, ack: 2000, psh: true, window: 502, ipid: 77, ttl: 64, tsval: 123456, payload: 100,
	}
}

// ipPacket builds the IP packet of s.
func ipPacket(t testing.TB, s tcpSpec) []byte {
	t.Helper()
	var ls []gopacket.SerializableLayer
	var netLayer gopacket.NetworkLayer
	if s.v6 {
		ip6 := &layers.IPv6{Version: 6, HopLimit: s.ttl, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP(s.src), DstIP: net.ParseIP(s.dst)}
		ls = append(ls, ip6)
		netLayer = ip6
		if s.hopByHop {
			ip6.NextHeader = layers.IPProtocolIPv6HopByHop
			hop := &layers.IPv6HopByHop{}
			hop.NextHeader = layers.IPProtocolTCP
			hop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
			ls = append(ls, hop)
		}
		if s.frag {
			ip6.NextHeader = layers.IPProtocolIPv6Fragment
			ls = append(ls, gopacket.Payload{byte(layers.IPProtocolTCP), 0, 0, 1, 0, 0, 0, 9})
		}
	} else {
		ip4 := &layers.IPv4{Version: 4, TTL: s.ttl, Id: s.ipid, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP, SrcIP: net.ParseIP(s.src).To4(), DstIP: net.ParseIP(s.dst).To4()}
		if s.frag {
			ip4.Flags = layers.IPv4MoreFragments
		}
		if s.udp {
			ip4.Protocol = layers.IPProtocolUDP
		}
		ls = append(ls, ip4)
		netLayer = ip4
	}
	if s.udp {
		udp := &layers.UDP{SrcPort: layers.UDPPort(s.sport), DstPort: layers.UDPPort(s.dport)}
		if err := udp.SetNetworkLayerForChecksum(netLayer); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, udp)
	} else {
		ts := binary.BigEndian.AppendUint32(nil, s.tsval)
		ts = binary.BigEndian.AppendUint32(ts, 99)
		tcp := &layers.TCP{
			SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport),
			Seq: s.seq, Ack: s.ack, ACK: true, SYN: s.syn, FIN: s.fin, PSH: s.psh, Window: s.window,
			Options: []layers.TCPOption{
				{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
				{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
			},
		}
		if err := tcp.SetNetworkLayerForChecksum(netLayer); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, tcp)
	}
	pl := make([]byte, s.payload)
	for i := range pl {
		pl[i] = byte(i * 7)
	}
	ls = append(ls, gopacket.Payload(pl))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: !s.badChecksum}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// frame wraps an IP packet in a link-layer header of lt.
func frame(ip []byte, lt layers.LinkType, vlans int) []byte {
	et := []byte{0x08, 0x00}
	fam := uint32(2)
	if ip[0]>>4 == 6 {
		et = []byte{0x86, 0xdd}
		fam = 24
	}
	var b []byte
	switch lt {
	case layers.LinkTypeEthernet:
		b = append(b, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2)
		for range vlans {
			b = append(b, 0x81, 0x00, 0, 42)
		}
		b = append(b, et...)
	case layers.LinkTypeLinuxSLL:
		b = append(b, 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
		b = append(b, et...)
	case layers.LinkTypeLinuxSLL2:
		b = append(b, et...)
		b = append(b, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	case layers.LinkTypeNull:
		b = binary.LittleEndian.AppendUint32(b, fam)
	case layers.LinkTypeLoop:
		b = binary.BigEndian.AppendUint32(b, fam)
	}
	return append(b, ip...)
}

func TestParseSegmentLinkTypes(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		s := defaultSpec()
		if v6 {
			s.v6, s.src, s.dst = true, "2001:db8::100", "2001:db8::11"
		}
		ip := ipPacket(t, s)
		want, ok := parseSegment(ip, layers.LinkTypeRaw)
		if !ok {
			t.Fatalf("v6=%v: raw IP not parsed", v6)
		}
		wantFlow := flowKey{netip.MustParseAddr(s.src), netip.MustParseAddr(s.dst), s.sport, s.dport}
		if want.flow != wantFlow {
			t.Errorf("v6=%v: flow %+v, want %+v", v6, want.flow, wantFlow)
		}
		tests := []struct {
			name  string
			data  []byte
			lt    layers.LinkType
			wants bool
		}{
			{"ethernet", frame(ip, layers.LinkTypeEthernet, 0), layers.LinkTypeEthernet, true},
			{"vlan", frame(ip, layers.LinkTypeEthernet, 1), layers.LinkTypeEthernet, true},
			{"qinq", frame(ip, layers.LinkTypeEthernet, 2), layers.LinkTypeEthernet, true},
			{"three tags", frame(ip, layers.LinkTypeEthernet, 3), layers.LinkTypeEthernet, false},
			{"sll", frame(ip, layers.LinkTypeLinuxSLL, 0), layers.LinkTypeLinuxSLL, true},
			{"sll2", frame(ip, layers.LinkTypeLinuxSLL2, 0), layers.LinkTypeLinuxSLL2, true},
			{"null", frame(ip, layers.LinkTypeNull, 0), layers.LinkTypeNull, true},
			{"loop", frame(ip, layers.LinkTypeLoop, 0), layers.LinkTypeLoop, true},
			{"ipv4/ipv6 link type", ip, map[bool]layers.LinkType{false: layers.LinkTypeIPv4, true: layers.LinkTypeIPv6}[v6], true},
			{"unknown link type", frame(ip, layers.LinkTypeEthernet, 0), layers.LinkTypeIEEE802_11, false},
			{"ethernet cut", frame(ip, layers.LinkTypeEthernet, 0)[:13], layers.LinkTypeEthernet, false},
		}
		for _, tt := range tests {
			got, ok := parseSegment(tt.data, tt.lt)
			if ok != tt.wants || ok && got != want {
				t.Errorf("v6=%v %s: %+v %v, want %+v %v", v6, tt.name, got, ok, want, tt.wants)
			}
		}
	}
}

// TestParseSegmentKey checks which fields make a segment another one.
func TestParseSegmentKey(t *testing.T) {
	base := defaultSpec()
	ref, ok := parseSegment(ipPacket(t, base), layers.LinkTypeRaw)
	if !ok {
		t.Fatal("not parsed")
	}
	tests := []struct {
		name   string
		change func(*tcpSpec)
		same   bool
	}{
		// What capture points, offloading, routers and NAT change.
		{"ttl", func(s *tcpSpec) { s.ttl = 63 }, true},
		{"addresses", func(s *tcpSpec) { s.src = "192.0.2.7" }, true},
		{"ports", func(s *tcpSpec) { s.sport = 61000 }, true},
		{"checksum", func(s *tcpSpec) { s.badChecksum = true }, true},
		// What makes another segment.
		{"seq", func(s *tcpSpec) { s.seq++ }, false},
		{"ack", func(s *tcpSpec) { s.ack++ }, false},
		{"flags", func(s *tcpSpec) { s.fin = true }, false},
		{"window", func(s *tcpSpec) { s.window++ }, false},
		{"ip id", func(s *tcpSpec) { s.ipid++ }, false},
		{"timestamp option", func(s *tcpSpec) { s.tsval++ }, false},
		{"payload length", func(s *tcpSpec) { s.payload++ }, false},
	}
	for _, tt := range tests {
		s := base
		tt.change(&s)
		got, ok := parseSegment(ipPacket(t, s), layers.LinkTypeRaw)
		if !ok {
			t.Errorf("%s: not parsed", tt.name)
			continue
		}
		if (got.key == ref.key) != tt.same {
			t.Errorf("%s: same key = %v, want %v", tt.name, got.key == ref.key, tt.same)
		}
	}
}

func TestParseSegmentRejects(t *testing.T) {
	s := defaultSpec()
	full := ipPacket(t, s)
	ref, _ := parseSegment(full, layers.LinkTypeRaw)
	const tcpEnd = 20 + 32 // IPv4 header, TCP header with options
	v6 := defaultSpec()
	v6.v6, v6.src, v6.dst = true, "2001:db8::100", "2001:db8::11"
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"snaplen after the TCP header", full[:tcpEnd], true},
		{"snaplen inside the options", full[:tcpEnd-1], false},
		{"ipv4 fragment", ipPacket(t, func() tcpSpec { x := s; x.frag = true; return x }()), false},
		{"udp", ipPacket(t, func() tcpSpec { x := s; x.udp = true; return x }()), false},
		{"ipv6 hop-by-hop", ipPacket(t, func() tcpSpec { x := v6; x.hopByHop = true; return x }()), true},
		{"ipv6 fragment", ipPacket(t, func() tcpSpec { x := v6; x.frag = true; return x }()), false},
		{"empty", nil, false},
		{"version 5", append([]byte{0x55}, full[1:]...), false},
		{"ihl too small", append([]byte{0x44}, full[1:]...), false},
		{"total length too small", append(append([]byte{}, full[:2]...), append([]byte{0, 10}, full[4:]...)...), false},
		{"data offset too small", func() []byte { b := append([]byte{}, full...); b[20+12] = 0x40; return b }(), false},
	}
	for _, tt := range tests {
		got, ok := parseSegment(tt.data, layers.LinkTypeRaw)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
		if tt.name == "snaplen after the TCP header" && got != ref {
			t.Errorf("%s: key differs from the whole frame's", tt.name)
		}
	}
}
