package packet

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzDecode decodes arbitrary frames of any link type. It must not panic;
// a decoded segment must be consistent with the frame.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"ens.pcap", "any-40.pcap"} {
		for i, fr := range readFrames(f, name) {
			if i%4 == 0 {
				f.Add(uint16(fr.lt), fr.data)
			}
		}
	}
	v4, v6 := tcp4(f), tcp6(f, layers.IPProtocolIPv6HopByHop, []byte{6, 0, 1, 4, 0, 0, 0, 0})
	f.Add(uint16(layers.LinkTypeLinuxSLL), sll(layers.EthernetTypeIPv4, v4))
	f.Add(uint16(layers.LinkTypeNull), null(binary.LittleEndian, 24, v6))
	f.Add(uint16(layers.LinkTypeLoop), null(binary.BigEndian, 2, v4))
	f.Add(uint16(layers.LinkTypeRaw), v6)
	f.Add(uint16(layers.LinkTypeEthernet), vlan(f, layers.EthernetTypeQinQ, []layers.EthernetType{layers.EthernetTypeDot1Q, layers.EthernetTypeIPv4}, v4))
	f.Add(uint16(layers.LinkTypeIPv4), v4[:30])

	d := NewDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		seg, err := d.Decode(layers.LinkType(lt), data)
		if err != nil {
			if seg.TCP != nil || seg.Fragment {
				t.Fatalf("error %v with a segment", err)
			}
			if errors.Is(err, ErrNotTCP) && err != ErrNotTCP {
				t.Fatalf("ErrNotTCP wrapped: %v", err)
			}
			return
		}
		if !seg.Src.IsValid() || !seg.Dst.IsValid() {
			t.Fatalf("invalid addresses %v %v", seg.Src, seg.Dst)
		}
		if seg.Fragment {
			if seg.TCP != nil || seg.Payload != nil {
				t.Fatal("fragment with TCP")
			}
			return
		}
		if seg.TCP == nil || len(seg.Payload) > len(data) || seg.Missing < 0 || seg.Truncated != (seg.Missing > 0) {
			t.Fatalf("bad segment: payload %d of %d bytes, missing %d, truncated %v", len(seg.Payload), len(data), seg.Missing, seg.Truncated)
		}
		if uint16(seg.TCP.SrcPort) != seg.Src.Port() || uint16(seg.TCP.DstPort) != seg.Dst.Port() {
			t.Fatal("ports differ")
		}
	})
}
