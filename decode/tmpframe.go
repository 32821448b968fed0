package decode

// Temporary frame decoder until decode/packet lands.

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var errNotTCP = errors.New("not TCP")

type tmpSegment struct {
	NetFlow  gopacket.Flow
	TCP      *layers.TCP
	Fragment bool
	Missing  int
}

type tmpDecoder struct {
	eth   layers.Ethernet
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	dot1q layers.Dot1Q
}

func (d *tmpDecoder) Decode(lt layers.LinkType, data []byte) (tmpSegment, error) {
	p := gopacket.NewPacket(data, lt, gopacket.NoCopy)
	var seg tmpSegment
	nl := p.NetworkLayer()
	tl, ok := p.TransportLayer().(*layers.TCP)
	if nl == nil || !ok {
		return seg, errNotTCP
	}
	seg.NetFlow = nl.NetworkFlow()
	seg.TCP = tl
	return seg, nil
}
