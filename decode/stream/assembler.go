// Package stream reassembles TCP connections (with gopacket's reassembly
// package) and runs a protocol decoder on each: the decoders read each
// direction as a byte stream through a Reader, which also tells them where
// every byte was captured.
package stream

import (
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/authflow/authflow/decode/event"
)

// DefaultMaxMemory is the default of Options.MaxMemory.
const DefaultMaxMemory = 256 << 20

// connOverhead estimates the memory of one tracked connection besides its
// decoders: reassembly's connection and authflow's.
const connOverhead = 1 << 10

// Options bound what the assembler keeps in memory.
type Options struct {
	// MaxConnections is how many connections are tracked at once; beyond
	// it the longest idle ones are closed. 0 means 65536.
	MaxConnections int
	// MaxMemory bounds the memory of the connections tracked: their state,
	// their decoders' coroutines and buffers (an estimate, in bytes);
	// beyond it the longest idle connections are closed. 0 means
	// DefaultMaxMemory. The out-of-order data that reassembly buffers is
	// bounded apart, by MaxBufferedPages.
	MaxMemory int64
	// MaxBufferedPages bounds the out-of-order data buffered for all
	// connections together (pages of 1900 bytes); 0 means 16384 (~30 MB).
	MaxBufferedPages int
	// MaxBufferedPagesPerConnection bounds it per connection; 0 means 1024.
	MaxBufferedPagesPerConnection int
	// IdleTimeout closes connections without packets for that long (in
	// capture time); 0 means 10 minutes.
	IdleTimeout time.Duration
	// ServerPorts are ports known to be servers, used to tell client from
	// server when a connection's handshake is not in the capture.
	ServerPorts map[uint16]bool
}

// Stats counts what the assembler saw.
type Stats struct {
	Connections   int   // connections seen
	Evicted       int   // connections closed early to stay within MaxConnections
	EvictedMemory int   // connections closed early to stay within MaxMemory
	PeakMemory    int64 // the highest estimate of the connections' memory
}

// Assembler feeds TCP segments through reassembly into per-connection
// handlers. It is not safe for concurrent use.
type Assembler struct {
	opts    Options
	sel     Selector
	sink    event.Sink
	asm     *reassembly.Assembler
	nextID  uint64
	active  int
	stats   Stats
	now     time.Time
	flushed time.Time
	closed  time.Time
	// ctx is the context of the packet being assembled. Reassembly keeps
	// the context of every segment it buffers: kept says ctx is such a
	// one, and the next packet needs a new one.
	ctx  *captureContext
	kept bool
	pad  []byte // a truncated segment's payload, padded to its length
	zero []byte // zeros to pad with
	// live are the connections being tracked, for eviction.
	live []*tcpStream
	// mem estimates the memory they hold (see Options.MaxMemory).
	mem int64
}

// NewAssembler returns an Assembler that gives each new connection the
// Handler sel chooses and reports events to sink.
func NewAssembler(sel Selector, sink event.Sink, opts Options) *Assembler {
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 65536
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	if opts.MaxBufferedPages <= 0 {
		opts.MaxBufferedPages = 16384
	}
	if opts.MaxBufferedPagesPerConnection <= 0 {
		opts.MaxBufferedPagesPerConnection = 1024
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	a := &Assembler{opts: opts, sel: sel, sink: sink, ctx: &captureContext{}}
	pool := reassembly.NewStreamPool(a)
	a.asm = reassembly.NewAssembler(pool)
	a.asm.MaxBufferedPagesTotal = opts.MaxBufferedPages
	a.asm.MaxBufferedPagesPerConnection = opts.MaxBufferedPagesPerConnection
	return a
}

// Stats returns counters of what the assembler saw.
func (a *Assembler) Stats() Stats { return a.stats }

// captureContext carries a packet's position through reassembly, which
// keeps it with every segment it buffers. The frame is packed into
// CaptureInfo.InterfaceIndex; for a segment cut short by the capture,
// CaptureLength is the payload captured and Length the payload the
// segment had (both 0 otherwise).
type captureContext struct {
	ci gopacket.CaptureInfo
}

func (c *captureContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

func packFrame(f event.FrameRef) int { return f.Input<<40 | f.Number }

func positionOf(ci gopacket.CaptureInfo) event.Position {
	return event.Position{
		Time:  ci.Timestamp,
		Frame: event.FrameRef{Input: ci.InterfaceIndex >> 40, Number: ci.InterfaceIndex & (1<<40 - 1)},
	}
}

// Assemble adds one TCP segment, captured at pos, whose network flow is
// netFlow.
func (a *Assembler) Assemble(netFlow gopacket.Flow, tcp *layers.TCP, pos event.Position) {
	a.AssembleTruncated(netFlow, tcp, pos, 0)
}

// AssembleTruncated adds one TCP segment whose payload the capture cut
// short (snaplen): missing bytes of it are not in tcp.Payload. The decoder
// gets the bytes captured, then a gap of missing bytes, at once.
func (a *Assembler) AssembleTruncated(netFlow gopacket.Flow, tcp *layers.TCP, pos event.Position, missing int) {
	a.now = pos.Time
	if a.kept {
		a.ctx = &captureContext{}
		a.kept = false
	}
	a.ctx.ci = gopacket.CaptureInfo{Timestamp: pos.Time, InterfaceIndex: packFrame(pos.Frame)}
	payload := tcp.Payload
	if missing = min(missing, 0xffff); missing > 0 {
		// Reassembly sees the segment whole, so it does not wait for the
		// bytes missing; ReassembledSG turns the padding into a gap.
		a.ctx.ci.CaptureLength, a.ctx.ci.Length = len(payload), len(payload)+missing
		if len(a.zero) < missing {
			a.zero = make([]byte, missing)
		}
		a.pad = append(append(a.pad[:0], payload...), a.zero[:missing]...)
		tcp.Payload = a.pad
	}
	a.asm.AssembleWithContext(netFlow, tcp, a.ctx)
	tcp.Payload = payload
	a.housekeeping()
}

// housekeeping pushes through data stuck behind lost segments and closes
// idle connections, by capture time.
func (a *Assembler) housekeeping() {
	if a.now.Sub(a.flushed) >= time.Second {
		a.flushed = a.now
		if !a.closed.IsZero() {
			a.asm.FlushWithOptions(reassembly.FlushOptions{T: a.now.Add(-2 * time.Second)})
		}
	}
	if a.closed.IsZero() {
		a.closed = a.now
	}
	if a.now.Sub(a.closed) >= 30*time.Second {
		a.closed = a.now
		a.asm.FlushCloseOlderThan(a.now.Add(-a.opts.IdleTimeout))
	}
	if a.mem > a.stats.PeakMemory {
		a.stats.PeakMemory = a.mem
	}
	if a.active > a.opts.MaxConnections || a.mem > a.opts.MaxMemory {
		a.evict()
	}
}

// evict closes the idlest connections until at most 90% of
// MaxConnections and of MaxMemory are used. Their decoders are stopped
// rather than ended: what they were in the middle of is dropped.
func (a *Assembler) evict() {
	byMemory := a.mem > a.opts.MaxMemory
	idlest := slices.Clone(a.live)
	slices.SortFunc(idlest, func(x, y *tcpStream) int { return x.lastSeen.Compare(y.lastSeen) })
	n, mem := len(idlest), a.mem
	k := 0
	for k < len(idlest) && (n > a.opts.MaxConnections*9/10 || mem > a.opts.MaxMemory/10*9) {
		mem -= idlest[k].memory()
		n--
		k++
	}
	if k == 0 {
		return
	}
	// Reassembly closes by time: the connections last seen at the same
	// time as the last one chosen go too.
	cut := idlest[k-1].lastSeen
	for k < len(idlest) && !idlest[k].lastSeen.After(cut) {
		k++
	}
	for _, s := range idlest[:k] {
		s.stop()
	}
	before := len(a.live)
	a.asm.FlushCloseOlderThan(cut.Add(time.Nanosecond))
	closed := before - len(a.live)
	if byMemory {
		a.stats.EvictedMemory += closed
	} else {
		a.stats.Evicted += closed
	}
}

// Close pushes through everything buffered and ends every connection.
func (a *Assembler) Close() {
	a.asm.FlushAll()
}

// New implements reassembly.StreamFactory.
func (a *Assembler) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	// A bare ACK, FIN or RST of a connection not tracked (the last ACK of
	// one already closed, say) starts nothing: tracking it would keep a
	// connection whose sequence numbers are stale, and a later connection
	// on the same ports (clients reuse them) would be read with them.
	if !tcp.SYN && len(tcp.Payload) == 0 {
		return nil
	}
	a.nextID++
	a.active++
	a.stats.Connections++
	src := addrPort(netFlow.Src(), tcpFlow.Src())
	dst := addrPort(netFlow.Dst(), tcpFlow.Dst())
	firstIsClient := a.firstIsClient(tcp, src, dst)
	c := &event.Conn{ID: a.nextID, Client: src, Server: dst, Midstream: !tcp.SYN}
	if !firstIsClient {
		c.Client, c.Server = dst, src
	}
	s := &tcpStream{a: a, firstIsClient: firstIsClient, idx: len(a.live), lastSeen: a.now}
	a.live = append(a.live, s)
	a.mem += connOverhead
	s.ctx = &Context{Conn: c, sink: a.sink, mem: &a.mem}
	s.client = half{ctx: s.ctx}
	s.server = half{ctx: s.ctx}
	if h := a.sel(s.ctx); h != nil {
		s.client.run = h.Client
		s.server.run = h.Server
	} else {
		s.client.done, s.server.done = true, true
	}
	return s
}

// firstIsClient tells whether the first packet seen of a connection was
// sent by its client.
func (a *Assembler) firstIsClient(tcp *layers.TCP, src, dst netip.AddrPort) bool {
	switch {
	case tcp.SYN && !tcp.ACK:
		return true
	case tcp.SYN && tcp.ACK:
		return false
	case a.opts.ServerPorts[dst.Port()] && !a.opts.ServerPorts[src.Port()]:
		return true
	case a.opts.ServerPorts[src.Port()] && !a.opts.ServerPorts[dst.Port()]:
		return false
	default:
		return dst.Port() <= src.Port()
	}
}

func addrPort(ep, tp gopacket.Endpoint) netip.AddrPort {
	addr, _ := netip.AddrFromSlice(ep.Raw())
	var port uint16
	if raw := tp.Raw(); len(raw) == 2 {
		port = uint16(raw[0])<<8 | uint16(raw[1])
	}
	return netip.AddrPortFrom(addr.Unmap(), port)
}

// tcpStream is one connection inside reassembly.
type tcpStream struct {
	a              *Assembler
	ctx            *Context
	firstIsClient  bool
	client, server half

	clientSYN, serverSYN bool // handshake packets seen
	data                 bool // any payload seen
	reset                bool // a RST was reported
	complete             bool

	idx      int       // in Assembler.live
	lastSeen time.Time // capture time of the last packet
}

// memory estimates what the connection holds (see Options.MaxMemory).
func (s *tcpStream) memory() int64 {
	return connOverhead + s.client.memory() + s.server.memory()
}

// stop stops the connection's decoders: they get ErrStopped.
func (s *tcpStream) stop() {
	s.client.finish()
	s.server.finish()
}

func (s *tcpStream) fromServer(dir reassembly.TCPFlowDirection) bool {
	return (dir == reassembly.TCPDirClientToServer) != s.firstIsClient
}

// Accept implements reassembly.Stream: every segment is taken, and a
// connection whose start is not in the capture starts where it is found.
func (s *tcpStream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	fromServer := s.fromServer(dir)
	if ci.Timestamp.After(s.lastSeen) {
		s.lastSeen = ci.Timestamp
	}
	if len(tcp.Payload) > 0 && nextSeq != -1 && nextSeq.Difference(reassembly.Sequence(tcp.Seq)) > 0 {
		// Ahead of the stream: reassembly will buffer it with its context.
		s.a.kept = true
	}
	if tcp.SYN {
		if fromServer {
			s.serverSYN = true
		} else {
			s.clientSYN = true
		}
	}
	if len(tcp.Payload) > 0 {
		s.data = true
	}
	if tcp.RST && !s.reset {
		s.reset = true
		kind := event.TCPReset
		if s.clientSYN && !s.serverSYN && !s.data && fromServer {
			kind = event.TCPRefused
		}
		s.ctx.Emit(&event.Event{Kind: kind, Start: positionOf(ci), FromServer: fromServer})
	}
	// A direction whose start is not in the capture starts at its first
	// data, not at a bare ACK (whose sequence number a later SYN would
	// contradict).
	if nextSeq == -1 && !tcp.SYN && len(tcp.Payload) > 0 {
		*start = true
	}
	return true
}

// ReassembledSG implements reassembly.Stream.
func (s *tcpStream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, end, skip := sg.Info()
	h := &s.client
	if s.fromServer(dir) {
		h = &s.server
	}
	length, _ := sg.Lengths()
	if !h.done && (length > 0 || skip > 0) {
		gap := 0
		if skip > 0 {
			gap = skip
		}
		data := sg.Fetch(length)
		// Feed each captured segment with its own position.
		var pos event.Position
		for off := 0; off < length || (off == 0 && gap != 0); {
			ci := sg.CaptureInfo(off)
			pos = positionOf(ci)
			n := segmentEnd(sg, off, length, ci.InterfaceIndex) - off
			// The end of a segment cut short by the capture is padding.
			pad := min(max(ci.Length-ci.CaptureLength, 0), n)
			h.feed(gap, data[off:off+n-pad], pos)
			gap = pad
			off += n
			if n == 0 {
				break
			}
		}
		if gap > 0 {
			h.feed(gap, nil, pos)
		}
	}
	if end {
		h.end()
	}
}

// segmentEnd finds where the segment containing offset off ends, by
// binary search on the frame recorded for each offset.
func segmentEnd(sg reassembly.ScatterGather, off, length, frame int) int {
	if length == 0 || sg.CaptureInfo(length-1).InterfaceIndex == frame {
		return length
	}
	lo, hi := off, length-1 // frame(lo) == frame, frame(hi) != frame
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if sg.CaptureInfo(mid).InterfaceIndex == frame {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// ReassemblyComplete implements reassembly.Stream.
func (s *tcpStream) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	if !s.complete {
		s.complete = true
		s.a.active--
		s.client.end()
		s.server.end()
		a := s.a
		last := a.live[len(a.live)-1]
		a.live[s.idx], last.idx = last, s.idx
		a.live = a.live[:len(a.live)-1]
		a.mem -= connOverhead
	}
	return true
}
