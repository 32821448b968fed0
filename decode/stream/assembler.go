// Package stream reassembles TCP connections (with gopacket's reassembly
// package) and runs a protocol decoder on each: the decoders read each
// direction as a byte stream through a Reader, which also tells them where
// every byte was captured.
package stream

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/authflow/authflow/decode/event"
)

// Options bound what the assembler keeps in memory.
type Options struct {
	// MaxConnections is how many connections are tracked at once; beyond
	// it the longest idle ones are closed. 0 means 65536.
	MaxConnections int
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
	Connections int // connections seen
	Evicted     int // connections closed early to stay within MaxConnections
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
	ctx     captureContext
}

// NewAssembler returns an Assembler that gives each new connection the
// Handler sel chooses and reports events to sink.
func NewAssembler(sel Selector, sink event.Sink, opts Options) *Assembler {
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 65536
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
	a := &Assembler{opts: opts, sel: sel, sink: sink}
	pool := reassembly.NewStreamPool(a)
	a.asm = reassembly.NewAssembler(pool)
	a.asm.MaxBufferedPagesTotal = opts.MaxBufferedPages
	a.asm.MaxBufferedPagesPerConnection = opts.MaxBufferedPagesPerConnection
	return a
}

// Stats returns counters of what the assembler saw.
func (a *Assembler) Stats() Stats { return a.stats }

// captureContext carries a packet's position through reassembly. The frame
// is packed into CaptureInfo.InterfaceIndex, which reassembly keeps with
// every buffered segment, so that no allocation is needed per packet.
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
// netFlow. tcp.Payload may be shorter than the segment was (snaplen); the
// bytes missing are reported to the decoder as a gap.
func (a *Assembler) Assemble(netFlow gopacket.Flow, tcp *layers.TCP, pos event.Position) {
	a.now = pos.Time
	a.ctx.ci = gopacket.CaptureInfo{Timestamp: pos.Time, InterfaceIndex: packFrame(pos.Frame)}
	a.asm.AssembleWithContext(netFlow, tcp, &a.ctx)
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
	if a.active > a.opts.MaxConnections {
		// Close the idlest connections until within bounds.
		for idle := a.opts.IdleTimeout / 2; a.active > a.opts.MaxConnections*9/10 && idle > time.Millisecond; idle /= 4 {
			before := a.active
			a.asm.FlushCloseOlderThan(a.now.Add(-idle))
			a.stats.Evicted += before - a.active
		}
	}
}

// Close pushes through everything buffered and ends every connection.
func (a *Assembler) Close() {
	a.asm.FlushAll()
}

// New implements reassembly.StreamFactory.
func (a *Assembler) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
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
	s := &tcpStream{a: a, firstIsClient: firstIsClient}
	s.ctx = &Context{Conn: c, sink: a.sink}
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
}

func (s *tcpStream) fromServer(dir reassembly.TCPFlowDirection) bool {
	return (dir == reassembly.TCPDirClientToServer) != s.firstIsClient
}

// Accept implements reassembly.Stream: every segment is taken, and a
// connection whose start is not in the capture starts where it is found.
func (s *tcpStream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	fromServer := s.fromServer(dir)
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
	if nextSeq == -1 && !tcp.SYN {
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
		for off := 0; off < length || (off == 0 && gap != 0); {
			ci := sg.CaptureInfo(off)
			n := segmentEnd(sg, off, length, ci.InterfaceIndex) - off
			h.feed(gap, data[off:off+n], positionOf(ci))
			gap = 0
			off += n
			if n == 0 {
				break
			}
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
	}
	return true
}
