package clocksync

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzParseSegment feeds frames of every supported link type to the
// parser: it must not panic, and a frame that parses must parse the same
// again and give addresses of the IP version found.
func FuzzParseSegment(f *testing.F) {
	for i, p := range readAllLT(f, imageSaveEns) {
		if i >= 40 {
			break
		}
		f.Add(p.data, uint16(p.lt))
	}
	s := defaultSpec()
	v6 := defaultSpec()
	v6.v6, v6.src, v6.dst, v6.hopByHop = true, "2001:db8::100", "2001:db8::11", true
	for _, ip := range [][]byte{ipPacket(f, s), ipPacket(f, v6)} {
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop} {
			f.Add(frame(ip, lt, 1), uint16(lt))
		}
		f.Add(ip, uint16(layers.LinkTypeRaw))
	}
	f.Fuzz(func(t *testing.T, data []byte, lt uint16) {
		seg, ok := parseSegment(data, layers.LinkType(lt))
		again, ok2 := parseSegment(data, layers.LinkType(lt))
		if ok != ok2 || seg != again {
			t.Fatalf("parse not deterministic: %+v %v, %+v %v", seg, ok, again, ok2)
		}
		if ok && seg.flow.src.Is4() != seg.flow.dst.Is4() {
			t.Fatalf("mixed address families: %+v", seg.flow)
		}
	})
}
