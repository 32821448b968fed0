package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// peer is one end of a TCP connection as the generator plays it.
type peer struct {
	mac   net.HardwareAddr
	ip    net.IP // 4 bytes
	port  uint16
	seq   uint32 // next new sequence number to send
	ipID  uint16 // Linux counts IP IDs per connected socket
	tsOff uint32 // TSval = tsOff + the packet's time in milliseconds
	win   uint16 // advertised window (scaled by 2^10 in these captures)
}

// peerFrom takes a peer's addresses and counters from a real packet it sent.
func peerFrom(p *tpacket) *peer {
	val, _, _ := tsOption(p.tcp)
	return &peer{
		mac:   p.eth.SrcMAC,
		ip:    p.ip.SrcIP.To4(),
		port:  uint16(p.tcp.SrcPort),
		seq:   p.tcp.Seq + uint32(len(p.tcp.Payload)),
		ipID:  p.ip.Id + 1,
		tsOff: val - uint32(p.ci.Timestamp.UnixMilli()),
		win:   p.tcp.Window,
	}
}

func (p *peer) ts(t time.Time) uint32 { return p.tsOff + uint32(t.UnixMilli()) }

// flag bits of a segment.
const (
	fFIN = 1 << iota
	fSYN
	fRST
	fPSH
	fACK
)

// segment is one TCP segment to serialise.
type segment struct {
	seq, ack uint32
	flags    int
	payload  []byte
	sack     [][2]uint32 // SACK blocks
	synOpts  bool        // MSS, SACK permitted, timestamps, window scale
	mss      uint16
	zeroID   bool // IP ID 0 (Linux's SYN-ACKs), not counted
}

// builder serialises Ethernet/IPv4/TCP packets with gopacket, reusing its
// layers and buffer. What build returns is valid until the next call.
type builder struct {
	buf   gopacket.SerializeBuffer
	eth   layers.Ethernet
	ip    layers.IPv4
	tcp   layers.TCP
	pl    gopacket.Payload
	ts    [8]byte
	sack  [32]byte
	mss   [2]byte
	ws    [1]byte
	opts  []layers.TCPOption
	full  bool
	sopts gopacket.SerializeOptions
}

func newBuilder(full bool) *builder {
	return &builder{
		buf:   gopacket.NewSerializeBufferExpectedSize(80, 1500),
		full:  full,
		sopts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: full},
	}
}

// build serialises s sent by from to to at time t, and counts the sender's
// IP ID.
func (b *builder) build(from, to *peer, t time.Time, s *segment) ([]byte, error) {
	b.eth = layers.Ethernet{SrcMAC: from.mac, DstMAC: to.mac, EthernetType: layers.EthernetTypeIPv4}
	b.ip = layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Id: from.ipID, Flags: layers.IPv4DontFragment,
		Protocol: layers.IPProtocolTCP, SrcIP: from.ip, DstIP: to.ip,
	}
	if s.zeroID {
		b.ip.Id = 0
	} else {
		from.ipID++
	}
	b.tcp = layers.TCP{
		SrcPort: layers.TCPPort(from.port), DstPort: layers.TCPPort(to.port),
		Seq: s.seq, Ack: s.ack, Window: from.win,
		FIN: s.flags&fFIN != 0, SYN: s.flags&fSYN != 0, RST: s.flags&fRST != 0,
		PSH: s.flags&fPSH != 0, ACK: s.flags&fACK != 0,
	}
	var ecr uint32
	if s.flags&fACK != 0 {
		ecr = to.ts(t)
	}
	binary.BigEndian.PutUint32(b.ts[0:], from.ts(t))
	binary.BigEndian.PutUint32(b.ts[4:], ecr)
	b.opts = b.opts[:0]
	nop := layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1}
	if s.synOpts {
		// Linux's SYN options: MSS, SACK permitted, timestamps, NOP, WS.
		binary.BigEndian.PutUint16(b.mss[:], s.mss)
		b.ws[0] = 10
		b.opts = append(b.opts,
			layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: b.mss[:]},
			layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted},
			layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: b.ts[:]},
			nop,
			layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: b.ws[:]})
	} else {
		b.opts = append(b.opts, nop, nop,
			layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: b.ts[:]})
		if n := min(len(s.sack), 3); n > 0 {
			for i, blk := range s.sack[:n] {
				binary.BigEndian.PutUint32(b.sack[8*i:], blk[0])
				binary.BigEndian.PutUint32(b.sack[8*i+4:], blk[1])
			}
			b.opts = append(b.opts, nop, nop,
				layers.TCPOption{OptionType: layers.TCPOptionKindSACK, OptionData: b.sack[:8*n]})
		}
	}
	b.tcp.Options = b.opts
	b.pl = s.payload
	if b.full {
		if err := b.tcp.SetNetworkLayerForChecksum(&b.ip); err != nil {
			return nil, err
		}
	}
	if err := gopacket.SerializeLayers(b.buf, b.sopts, &b.eth, &b.ip, &b.tcp, b.pl); err != nil {
		return nil, fmt.Errorf("serialise packet: %w", err)
	}
	data := b.buf.Bytes()
	if !b.full {
		offloadChecksums(data)
	}
	return data, nil
}

// offloadChecksums fills in the checksums as a capture on the sending host
// shows them with checksum offload: the IPv4 header checksum is right and
// the TCP checksum holds only the pseudo-header sum the NIC would complete.
func offloadChecksums(frame []byte) {
	ip := frame[14:34]
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum16(ip, 0)))
	tcpLen := len(frame) - 34
	var s uint32
	s = sum16(ip[12:20], s)
	s += 6 + uint32(tcpLen)
	binary.BigEndian.PutUint16(frame[34+16:], fold(s))
}

func sum16(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
