package clocksync

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// EtherTypes and IP protocol numbers the parser follows.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherVLAN2 = 0x9100
	protoTCP   = 6
	// IPv6 extension headers walked over to reach TCP.
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6DestOpts = 60
	maxVLANTags  = 2
	maxIPv6Ext   = 4
)

// segment is what identifies one TCP segment across captures.
type segment struct {
	// key hashes the fields that a capture point does not change: sequence
	// and acknowledgement numbers, flags, window, payload length, TCP
	// options and the IPv4 identification. Addresses and ports are left
	// out so that a segment is recognised on both sides of a NAT, and the
	// payload is left out so that captures with different snap lengths
	// still match; checksums and TTL are left out because offloading and
	// routers change them.
	key uint64
	// flow is the directed connection the segment belongs to, as this
	// capture saw it.
	flow flowKey
}

// flowKey is one direction of a TCP connection.
type flowKey struct {
	src, dst     netip.Addr
	sport, dport uint16
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

func fnvUint32(h uint64, v uint32) uint64 {
	h = fnvByte(h, byte(v>>24))
	h = fnvByte(h, byte(v>>16))
	h = fnvByte(h, byte(v>>8))
	return fnvByte(h, byte(v))
}

// parseSegment finds the TCP segment in a frame of the given link type. It
// returns false for anything else: other protocols, IP fragments, frames
// cut before the end of the TCP header, and malformed headers.
func parseSegment(data []byte, lt layers.LinkType) (segment, bool) {
	network, etherType, ok := linkPayload(data, lt)
	if !ok {
		return segment{}, false
	}
	switch etherType {
	case etherIPv4:
		return parseIPv4(network)
	case etherIPv6:
		return parseIPv6(network)
	}
	return segment{}, false
}

// linkPayload strips the link-layer header. For link types without an
// EtherType (raw IP, BSD loopback) the IP version nibble decides.
func linkPayload(data []byte, lt layers.LinkType) ([]byte, uint16, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return nil, 0, false
		}
		et := binary.BigEndian.Uint16(data[12:14])
		data = data[14:]
		for range maxVLANTags {
			if et != etherVLAN && et != etherQinQ && et != etherVLAN2 {
				break
			}
			if len(data) < 4 {
				return nil, 0, false
			}
			et = binary.BigEndian.Uint16(data[2:4])
			data = data[4:]
		}
		return data, et, true
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return nil, 0, false
		}
		return data[16:], binary.BigEndian.Uint16(data[14:16]), true
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return nil, 0, false
		}
		return data[20:], binary.BigEndian.Uint16(data[0:2]), true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return nil, 0, false
		}
		return byVersion(data[4:])
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		// 12 and 14 are raw IP on some BSDs.
		return byVersion(data)
	}
	return nil, 0, false
}

func byVersion(data []byte) ([]byte, uint16, bool) {
	if len(data) == 0 {
		return nil, 0, false
	}
	switch data[0] >> 4 {
	case 4:
		return data, etherIPv4, true
	case 6:
		return data, etherIPv6, true
	}
	return nil, 0, false
}

func parseIPv4(b []byte) (segment, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return segment{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || len(b) < ihl || total < ihl {
		return segment{}, false
	}
	if b[9] != protoTCP {
		return segment{}, false
	}
	if frag := binary.BigEndian.Uint16(b[6:8]); frag&0x3fff != 0 {
		return segment{}, false // a fragment: MF set or offset > 0
	}
	var s segment
	s.flow.src = netip.AddrFrom4([4]byte(b[12:16]))
	s.flow.dst = netip.AddrFrom4([4]byte(b[16:20]))
	h := fnvByte(fnvOffset, 4)
	h = fnvByte(h, b[4]) // identification
	h = fnvByte(h, b[5])
	return parseTCP(b[ihl:], total-ihl, h, s)
}

func parseIPv6(b []byte) (segment, bool) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return segment{}, false
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if plen == 0 {
		return segment{}, false // a jumbogram, or a GSO frame without a length
	}
	next := b[6]
	var s segment
	s.flow.src = netip.AddrFrom16([16]byte(b[8:24]))
	s.flow.dst = netip.AddrFrom16([16]byte(b[24:40]))
	b = b[40:]
	for range maxIPv6Ext {
		if next != ipv6HopByHop && next != ipv6Routing && next != ipv6DestOpts {
			break
		}
		if len(b) < 8 {
			return segment{}, false
		}
		n := (int(b[1]) + 1) * 8
		if len(b) < n || plen < n {
			return segment{}, false
		}
		next = b[0]
		b = b[n:]
		plen -= n
	}
	if next != protoTCP {
		return segment{}, false
	}
	return parseTCP(b, plen, fnvByte(fnvOffset, 6), s)
}

// parseTCP reads the TCP header at the start of b; ipPayload is the length
// of the IP payload as the IP header gives it (b may be shorter: snaplen).
func parseTCP(b []byte, ipPayload int, h uint64, s segment) (segment, bool) {
	if len(b) < 20 || ipPayload < 20 {
		return segment{}, false
	}
	hlen := int(b[12]>>4) * 4
	if hlen < 20 || len(b) < hlen || ipPayload < hlen {
		return segment{}, false
	}
	s.flow.sport = binary.BigEndian.Uint16(b[0:2])
	s.flow.dport = binary.BigEndian.Uint16(b[2:4])
	h = fnvBytes(h, b[4:12])  // sequence and acknowledgement numbers
	h = fnvBytes(h, b[12:16]) // header length, flags, window
	h = fnvUint32(h, uint32(ipPayload-hlen))
	h = fnvBytes(h, b[20:hlen]) // options: timestamps, SACK blocks
	s.key = h
	return s, true
}
