package clocksync

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// This file builds captures of synthetic TCP traffic between hosts whose
// clocks disagree, as seen by a capture on each host.

var simBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// simHost is a host with a capture on it.
type simHost struct {
	name  string
	ip    net.IP
	clock time.Duration // its clock minus true time
	// nat maps addresses as this host sees them: a peer behind a NAT
	// appears with another address and port (key "ip:port").
	nat map[string]simAddr
}

type simAddr struct {
	ip   net.IP
	port uint16
}

// simPacket is a segment on the wire between two hosts.
type simPacket struct {
	sent       time.Time // true time it left the sender
	delay      time.Duration
	from, to   int // host indices
	src, dst   simAddr
	seq, ack   uint32
	syn, fin   bool
	hasAck     bool
	payloadLen int
	ipid       uint16
	tsval      uint32
}

// simNet records the packets exchanged by simulated connections.
type simNet struct {
	hosts   []simHost
	packets []simPacket
	rng     *rand.Rand
	now     time.Time
	minOneWay,
	queue time.Duration
	ipid map[int]uint16
}

func newSimNet(seed uint64, hosts ...simHost) *simNet {
	return &simNet{
		hosts: hosts, rng: rand.New(rand.NewPCG(seed, 2)), now: simBase,
		minOneWay: 40 * time.Microsecond, queue: 3 * time.Millisecond, ipid: map[int]uint16{},
	}
}

// send puts one packet on the wire and advances time a little.
func (n *simNet) send(from, to int, src, dst simAddr, seq, ack uint32, syn, fin bool, payload int) {
	u := n.rng.Float64()
	n.ipid[from]++
	n.packets = append(n.packets, simPacket{
		sent: n.now, delay: n.minOneWay + time.Duration(u*u*u*float64(n.queue)),
		from: from, to: to, src: src, dst: dst, seq: seq, ack: ack, syn: syn, fin: fin,
		hasAck: !syn || ack != 0, payloadLen: payload, ipid: n.ipid[from],
		tsval: uint32(n.now.Sub(simBase) / time.Millisecond),
	})
	n.now = n.now.Add(time.Duration(100+n.rng.IntN(900)) * time.Microsecond)
}

// conversation simulates a TCP connection from host c (port cport) to host
// s (port sport): handshake, requests and responses of the given sizes,
// and close. retransmit makes the first response segment be lost once.
func (n *simNet) conversation(c int, cport uint16, s int, sport uint16, exchanges [][2]int, retransmit bool) {
	ca := simAddr{n.hosts[c].ip, cport}
	sa := simAddr{n.hosts[s].ip, sport}
	cseq, sseq := n.rng.Uint32(), n.rng.Uint32()
	n.send(c, s, ca, sa, cseq, 0, true, false, 0)
	n.send(s, c, sa, ca, sseq, cseq+1, true, false, 0)
	cseq++
	sseq++
	n.send(c, s, ca, sa, cseq, sseq, false, false, 0)
	for _, ex := range exchanges {
		for req := ex[0]; req > 0; req -= min(req, 1448) {
			l := min(req, 1448)
			n.send(c, s, ca, sa, cseq, sseq, false, false, l)
			cseq += uint32(l)
		}
		n.send(s, c, sa, ca, sseq, cseq, false, false, 0)
		for resp := ex[1]; resp > 0; resp -= min(resp, 1448) {
			l := min(resp, 1448)
			if retransmit {
				// Lost on the way: only the sender's capture has it.
				n.send(s, c, sa, ca, sseq, cseq, false, false, l)
				n.packets[len(n.packets)-1].to = -1
				retransmit = false
			}
			n.send(s, c, sa, ca, sseq, cseq, false, false, l)
			sseq += uint32(l)
		}
		n.send(c, s, ca, sa, cseq, sseq, false, false, 0)
	}
	n.send(c, s, ca, sa, cseq, sseq, false, true, 0)
	n.send(s, c, sa, ca, sseq, cseq+1, false, true, 0)
	n.send(c, s, ca, sa, cseq+1, sseq+1, false, false, 0)
}

// capture writes the pcap file of host h: every packet it sent or
// received, at its own clock, with addresses as it sees them. drop leaves
// out every packet for which it returns true.
func (n *simNet) capture(t *testing.T, dir string, h int, drop func(i int) bool) string {
	t.Helper()
	host := n.hosts[h]
	type rec struct {
		ts   time.Time
		data []byte
	}
	var recs []rec
	for i, p := range n.packets {
		var ts time.Time
		switch h {
		case p.from:
			ts = p.sent
		case p.to:
			ts = p.sent.Add(p.delay)
		default:
			continue
		}
		if drop != nil && drop(i) {
			continue
		}
		src, dst := p.src, p.dst
		if m, ok := host.nat[key(src)]; ok {
			src = m
		}
		if m, ok := host.nat[key(dst)]; ok {
			dst = m
		}
		recs = append(recs, rec{ts.Add(host.clock), serialize(t, p, src, dst)})
	}
	slices.SortStableFunc(recs, func(a, b rec) int { return a.ts.Compare(b.ts) })
	path := filepath.Join(dir, host.name+".pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		ci := gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: len(r.data)}
		if err := w.WritePacket(ci, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func key(a simAddr) string { return net.JoinHostPort(a.ip.String(), itoa(a.port)) }

func itoa(p uint16) string {
	var b [5]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + p%10)
		p /= 10
		if p == 0 {
			return string(b[i:])
		}
	}
}

func serialize(t *testing.T, p simPacket, src, dst simAddr) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(p.from)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(p.to)},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip := &layers.IPv4{
		Version: 4, TTL: 64, Id: p.ipid, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: src.ip.To4(), DstIP: dst.ip.To4(),
	}
	ts := make([]byte, 8)
	binary.BigEndian.PutUint32(ts, p.tsval)
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port),
		Seq: p.seq, Ack: p.ack, SYN: p.syn, FIN: p.fin, ACK: p.hasAck, PSH: p.payloadLen > 0,
		Window: 502,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
		},
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, p.payloadLen)
	for i := range payload {
		payload[i] = byte(i)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSyntheticHosts checks three hosts with different clocks: the client
// and the compute node each talk to the controller, never to each other,
// so the compute node is set to the client's clock through the controller;
// the controller sees the client through a NAT, misses a tenth of its
// packets, and a retransmission is in one capture twice. The controller's
// loopback capture shares nothing and stays as it is.
func TestSyntheticHosts(t *testing.T) {
	const (
		ctlClock     = -1234567 * time.Microsecond
		computeClock = 2500 * time.Millisecond
	)
	client, ctl, compute, ctlLo := 0, 1, 2, 3
	hosts := []simHost{
		{name: "client", ip: net.IPv4(10, 0, 20, 100)},
		{name: "controller", ip: net.IPv4(10, 0, 20, 11), clock: ctlClock,
			nat: map[string]simAddr{"10.0.20.100:41000": {net.IPv4(192, 0, 2, 7), 61000}, "10.0.20.100:41002": {net.IPv4(192, 0, 2, 7), 61002}}},
		{name: "compute", ip: net.IPv4(10, 0, 20, 31), clock: computeClock},
		{name: "controller-lo", ip: net.IPv4(127, 0, 0, 1), clock: ctlClock},
	}
	n := newSimNet(11, hosts...)
	n.conversation(client, 41000, ctl, 5000, [][2]int{{300, 5000}, {200, 800}}, true)
	n.conversation(compute, 52000, ctl, 9292, [][2]int{{400, 3000}}, false)
	n.conversation(client, 41002, ctl, 9292, [][2]int{{500, 64}, {120, 12000}}, false)
	n.conversation(ctl, 33000, compute, 16509, [][2]int{{90, 90}, {90, 90}}, false)
	n.conversation(ctlLo, 45000, ctlLo, 11211, [][2]int{{60, 200}, {60, 20}}, false)

	dir := t.TempDir()
	paths := []string{
		n.capture(t, dir, client, nil),
		n.capture(t, dir, ctl, func(i int) bool { return i%10 == 3 }),
		n.capture(t, dir, compute, nil),
		n.capture(t, dir, ctlLo, nil),
	}
	res, err := Estimate(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pairs %+v\n%s", res.Pairs, res)

	wantClock := []time.Duration{0, ctlClock, computeClock, 0}
	wantRef := []int{client, client, client, ctlLo}
	wantVia := []int{client, client, ctl, ctlLo}
	for i, in := range res.Inputs {
		if in.Ref != wantRef[i] || in.Via != wantVia[i] {
			t.Errorf("%s: Ref %d Via %d, want %d %d", hosts[i].name, in.Ref, in.Via, wantRef[i], wantVia[i])
		}
		if in.Err != nil {
			t.Errorf("%s: %v", hosts[i].name, in.Err)
		}
		got := -res.Offsets[i] // clock minus the reference's
		if e := (got - wantClock[i]).Abs(); e > time.Millisecond || e > in.Uncertainty {
			t.Errorf("%s: clock %v ± %v, want %v (off by %v)", hosts[i].name, got, in.Uncertainty, wantClock[i], e)
		}
		if in.OneWay {
			t.Errorf("%s: one-way", hosts[i].name)
		}
	}
	if len(res.Pairs) != 2 {
		t.Errorf("%d pairs, want client–controller and controller–compute", len(res.Pairs))
	}
	wantLines := []string{
		"",
		"controller.pcap: clock 1.235 s behind client.pcap (±",
		"compute.pcap: clock 2.500 s ahead of client.pcap via controller.pcap (±",
		"controller-lo.pcap: no TCP segments in common with the other captures; clock left as recorded",
	}
	for i, want := range wantLines {
		if got := res.Line(i); len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("Line(%d) = %q, want prefix %q", i, got, want)
		}
	}

	// Merged with the offsets, every segment is seen by its sender's
	// capture before its receiver's; merged as recorded, not.
	if bad, shared := reversed(t, res.Offsets, paths, hosts); bad > 0 || shared < 50 {
		t.Errorf("corrected: %d of %d shared segments first seen at the receiver", bad, shared)
	}
	if bad, shared := reversed(t, nil, paths, hosts); bad == 0 {
		t.Errorf("uncorrected: %d of %d shared segments first seen at the receiver, want some", bad, shared)
	}
}

// reversed merges the captures with the given offsets and counts the
// segments seen by more than one capture that came first from a capture
// other than their sender's.
func reversed(t *testing.T, offsets []time.Duration, paths []string, hosts []simHost) (bad, shared int) {
	t.Helper()
	first := map[uint64]int{} // segment key → input that showed it first
	count := map[uint64]int{}
	for _, p := range readAll(t, offsets, paths...) {
		seg, ok := parseSegment(p.data, layers.LinkTypeEthernet)
		if !ok {
			t.Fatalf("input %d frame %d: not a TCP segment", p.input, p.frame)
		}
		if _, ok := first[seg.key]; !ok {
			first[seg.key] = p.input
		}
		count[seg.key]++
	}
	// The sender of a segment is the host whose own address is its source
	// in its own capture.
	for h, path := range paths {
		for _, p := range readAllLT(t, path) {
			seg, _ := parseSegment(p.data, p.lt)
			if seg.flow.src.String() != hosts[h].ip.String() || count[seg.key] < 2 {
				continue
			}
			shared++
			if first[seg.key] != h {
				bad++
			}
		}
	}
	return bad, shared
}
