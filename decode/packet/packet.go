// Package packet decodes captured frames down to the TCP segment they
// carry, for TCP reassembly: it takes the link layers authflow meets
// (Ethernet with 802.1Q/QinQ tags, Linux cooked capture v1 and v2, BSD
// loopback, raw IP), IPv4 and IPv6 (skipping extension headers), and TCP,
// reusing gopacket's layers so that decoding a frame allocates nothing.
package packet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	// ErrNotTCP is returned for frames that carry no TCP segment (ARP, UDP,
	// ICMP, ...). Callers skip them silently.
	ErrNotTCP = errors.New("not a TCP segment")
	// ErrTruncated is wrapped by the errors of frames cut off inside their
	// link, IP or TCP headers, usually by a small snap length.
	ErrTruncated = errors.New("frame truncated inside its headers")
	// ErrUnsupportedLinkType is wrapped by the error for a link type the
	// decoder does not know.
	ErrUnsupportedLinkType = errors.New("unsupported link type")
)

// DLT_RAW as some pcap files carry it: 12 on most systems, 14 on OpenBSD.
// LINKTYPE_RAW (101) is what libpcap writes today.
const (
	linkTypeDLTRaw12 layers.LinkType = 12
	linkTypeDLTRaw14 layers.LinkType = 14
)

// Segment is a decoded TCP segment.
type Segment struct {
	// NetFlow is the IPv4 or IPv6 source and destination, the network key
	// for reassembly.
	NetFlow gopacket.Flow
	// Src and Dst are the addresses and ports of the sender and receiver.
	Src, Dst netip.AddrPort
	// TCP is the TCP header. It belongs to the Decoder and is overwritten
	// by the next call to Decode; its byte slices point into the frame.
	// It is nil for a Fragment.
	TCP *layers.TCP
	// Payload is the TCP payload as captured, a slice of the frame.
	Payload []byte
	// Truncated says the capture cut the payload short: the IP header
	// announces Missing more bytes than the frame holds.
	Truncated bool
	// Missing is how many payload bytes the capture left out.
	Missing int
	// Fragment says the frame is an IPv4 fragment or has an IPv6 fragment
	// header, of a TCP segment. Fragments are not reassembled: only NetFlow
	// and the addresses (without ports) are set, and TCP is nil.
	Fragment bool
}

// LayerError is the error for a frame whose headers cannot be decoded.
type LayerError struct {
	// Layer is the layer that failed.
	Layer gopacket.LayerType
	// Truncated says the frame ended inside that layer's header.
	Truncated bool
	// Err is the error from gopacket.
	Err error
}

func (e *LayerError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("%v header truncated: %v", e.Layer, e.Err)
	}
	return fmt.Sprintf("bad %v header: %v", e.Layer, e.Err)
}

// Unwrap returns the gopacket error.
func (e *LayerError) Unwrap() error { return e.Err }

// Is reports ErrTruncated for truncated headers.
func (e *LayerError) Is(target error) bool {
	return target == ErrTruncated && e.Truncated
}

// feedback receives gopacket's truncation notices.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// Decoder decodes frames to TCP segments. It reuses its layers from one
// frame to the next, so it is not safe for concurrent use, and what a
// Segment points to is only valid until the next call to Decode.
type Decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	ip6frag layers.IPv6Fragment
	tcp     layers.TCP
	dlc     gopacket.DecodingLayerContainer
	fb      feedback

	// set while decoding one frame
	ipVersion  int
	ipProto    layers.IPProtocol // of the layer after the IP headers
	ipMissing  int               // bytes the IP header announces beyond the frame
	ipCaptured bool              // the IP datagram is complete in the frame

	lastLT  layers.LinkType
	lastErr error // the error for lastLT, if unsupported
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{}
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6,
		&d.ip6ext,  // routing, destination options (hop-by-hop is part of IPv6)
		&d.ip6frag, // after ip6ext: fragment headers are not skipped
		&d.tcp,
	} {
		dlc = dlc.Put(l)
	}
	d.dlc = dlc
	return d
}

// firstLayer returns the layer a frame of link type lt starts with.
func (d *Decoder) firstLayer(lt layers.LinkType, data []byte) (gopacket.LayerType, error) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, nil
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, nil
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, nil
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, nil
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, nil
	case layers.LinkTypeRaw, linkTypeDLTRaw12, linkTypeDLTRaw14:
		if len(data) == 0 {
			return 0, &LayerError{Layer: layers.LayerTypeIPv4, Truncated: true, Err: errors.New("empty raw IP frame")}
		}
		switch data[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4, nil
		case 6:
			return layers.LayerTypeIPv6, nil
		}
		return 0, fmt.Errorf("raw IP frame of IP version %d", data[0]>>4)
	}
	if lt != d.lastLT || d.lastErr == nil {
		d.lastLT = lt
		d.lastErr = fmt.Errorf("%w %d (%v)", ErrUnsupportedLinkType, uint16(lt), lt)
	}
	return 0, d.lastErr
}

// Decode decodes a frame of link type lt. It returns ErrNotTCP for frames
// without TCP, a Segment with Fragment set for IP fragments of TCP, and an
// error naming the layer for frames it cannot decode (wrapping ErrTruncated
// if the frame ends inside the headers).
//
// The Segment's TCP header and byte slices stay valid until the next call.
func (d *Decoder) Decode(lt layers.LinkType, data []byte) (seg Segment, err error) {
	defer func() {
		if r := recover(); r != nil {
			seg, err = Segment{}, fmt.Errorf("decode %v frame: panic: %v", lt, r)
		}
	}()
	typ, err := d.firstLayer(lt, data)
	if err != nil {
		return Segment{}, err
	}
	d.fb.truncated = false
	d.ipVersion, d.ipProto, d.ipMissing, d.ipCaptured = 0, 0, 0, false
	for {
		dec, ok := d.dlc.Decoder(typ)
		if !ok {
			break
		}
		if err := dec.DecodeFromBytes(data, &d.fb); err != nil {
			return Segment{}, d.layerError(typ, data, err)
		}
		switch typ {
		case layers.LayerTypeIPv4:
			d.ipVersion, d.ipProto = 4, d.ip4.Protocol
			d.noteIPLength(int(d.ip4.Length), len(data))
		case layers.LayerTypeIPv6:
			d.ipVersion, d.ipProto = 6, d.ip6.NextHeader
			if d.ip6.HopByHop != nil {
				d.ipProto = d.ip6.HopByHop.NextHeader
			}
			if d.ip6.Length != 0 { // 0: jumbogram, length in hop-by-hop
				d.noteIPLength(40+int(d.ip6.Length), len(data))
			} else {
				d.ipCaptured = !d.fb.truncated
			}
		case layers.LayerTypeIPv6Fragment:
			d.ipProto = d.ip6frag.NextHeader
		case layers.LayerTypeTCP:
			return d.segment(), nil
		default:
			if d.ipVersion == 6 && layers.LayerClassIPv6Extension.Contains(typ) {
				d.ipProto = d.ip6ext.NextHeader
			}
		}
		typ = dec.NextLayerType()
		data = dec.LayerPayload()
	}
	if typ == gopacket.LayerTypeFragment && d.ipProto == layers.IPProtocolTCP {
		seg := Segment{Fragment: true}
		d.setAddrs(&seg, 0, 0)
		return seg, nil
	}
	return Segment{}, ErrNotTCP
}

// noteIPLength compares the length an IP header announces with the bytes
// the frame holds from that header on.
func (d *Decoder) noteIPLength(announced, captured int) {
	if announced == 0 { // IPv4 with TCP segmentation offload: no length
		announced = captured
	}
	d.ipMissing = max(announced-captured, 0)
	d.ipCaptured = d.ipMissing == 0
}

// layerError describes why typ could not be decoded from data.
func (d *Decoder) layerError(typ gopacket.LayerType, data []byte, err error) error {
	truncated := d.fb.truncated || len(data) < minHeaderLen(typ)
	if d.ipCaptured && typ != layers.LayerTypeIPv4 && typ != layers.LayerTypeIPv6 {
		// The whole IP datagram is in the frame, so its headers are
		// malformed rather than cut off.
		truncated = false
	}
	return &LayerError{Layer: typ, Truncated: truncated, Err: err}
}

// minHeaderLen is the shortest header of a layer.
func minHeaderLen(typ gopacket.LayerType) int {
	switch typ {
	case layers.LayerTypeEthernet:
		return 14
	case layers.LayerTypeDot1Q, layers.LayerTypeLoopback:
		return 4
	case layers.LayerTypeLinuxSLL:
		return 16
	case layers.LayerTypeLinuxSLL2, layers.LayerTypeIPv4, layers.LayerTypeTCP:
		return 20
	case layers.LayerTypeIPv6:
		return 40
	case layers.LayerTypeIPv6Fragment:
		return 8
	}
	return 2 // IPv6 extension headers
}

// segment builds the Segment once the TCP header is decoded.
func (d *Decoder) segment() Segment {
	seg := Segment{
		TCP:       &d.tcp,
		Payload:   d.tcp.Payload,
		Missing:   d.ipMissing,
		Truncated: d.ipMissing > 0,
	}
	d.setAddrs(&seg, uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort))
	return seg
}

func (d *Decoder) setAddrs(seg *Segment, sport, dport uint16) {
	if d.ipVersion == 4 {
		seg.NetFlow = d.ip4.NetworkFlow()
		seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.SrcIP)), sport)
		seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.DstIP)), dport)
		return
	}
	seg.NetFlow = d.ip6.NetworkFlow()
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.SrcIP)), sport)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.DstIP)), dport)
}
