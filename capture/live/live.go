// Package live captures packets from network interfaces with AF_PACKET
// sockets (TPACKET_V3 rings, no libpcap) and writes them to pcapng files.
//
// Open starts one reader goroutine per interface; the resulting *Capture
// is a capture.Source that merges the interfaces into one stream in
// timestamp order. A classic BPF filter in the kernel keeps only TCP on the
// ports of interest (see BuildFilter). Kernel receive and drop counters are
// available from Stats, and PcapngWriter stores them in the capture file.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/capture"
)

// Defaults and limits for Options.
const (
	// DefaultSnapLen is the number of bytes kept of each frame when
	// Options.SnapLen is zero; it is also the largest allowed value.
	DefaultSnapLen = 262144
	// DefaultRingSize is the size of each interface's kernel ring when
	// Options.RingSize is zero: 64 blocks of 1 MiB.
	DefaultRingSize = 64 << 20
	// MaxRingSize is the largest ring allowed per interface.
	MaxRingSize = 1 << 30
	// RingBlockSize is the size of one TPACKET_V3 block; ring sizes are
	// rounded up to a multiple of it.
	RingBlockSize = 1 << 20
)

// Options says what to capture.
type Options struct {
	// Interfaces are the names of the interfaces to capture on, at least
	// one. Packet.Input is the index in this list.
	Interfaces []string
	// Ports are the TCP ports to capture (source or destination). Empty
	// means DefaultPorts(). Ignored when All is set.
	Ports []uint16
	// All captures every frame, not only TCP on Ports. On loopback
	// interfaces the outgoing copy of each packet is still left out.
	All bool
	// SnapLen is the number of bytes kept of each frame; zero means
	// DefaultSnapLen.
	SnapLen int
	// RingSize is the size in bytes of each interface's kernel ring;
	// zero means DefaultRingSize. It is rounded up to whole 1 MiB blocks.
	RingSize int
	// Count stops the capture after this many packets in all; zero means
	// no limit.
	Count int
	// Promiscuous puts the interfaces in promiscuous mode for the time of
	// the capture, to see frames not addressed to this host.
	Promiscuous bool
}

// Interface describes one interface of a capture, for writing capture
// files.
type Interface struct {
	// Name is the interface name, as given in Options.Interfaces.
	Name string
	// Index is the kernel's interface index.
	Index int
	// LinkType is the link type of the frames (Ethernet; on Linux lo is
	// Ethernet with zero addresses).
	LinkType layers.LinkType
	// SnapLen is the largest number of bytes kept of a frame.
	SnapLen uint32
	// Filter is a libpcap-style description of the kernel filter, empty
	// when everything is captured.
	Filter string
	// Loopback is set for loopback interfaces.
	Loopback bool
}

// InterfaceStats holds the kernel's counters for one interface.
type InterfaceStats struct {
	// Name is the interface name.
	Name string
	// Received counts the frames that passed the filter, including those
	// dropped (the kernel's tp_packets).
	Received uint64
	// Dropped counts the frames the kernel dropped because the ring was
	// full (tp_drops).
	Dropped uint64
	// Start is when capturing began on the interface.
	Start time.Time
	// End is when the counters were last read; after Close, when
	// capturing ended.
	End time.Time
}

// ErrNoSuchInterface is wrapped by Open's error for an unknown interface.
var ErrNoSuchInterface = errors.New("no such network interface")

// Kernel ring timing. The kernel hands a partly filled block to the reader
// after blockTimeout; readers wake at least every pollTimeout.
const (
	blockTimeout = 10 * time.Millisecond
	pollTimeout  = 50 * time.Millisecond
)

// timing holds the time limits of the merge, so tests can shorten them.
type timing struct {
	// lag bounds how much older than "now" a packet not yet handed to
	// the reader can be: a partly filled block is retired within two
	// block timeouts, plus slack for softirq backlog.
	lag time.Duration
	// maxHold is how long the merge waits for a quiet interface before it
	// passes on a packet of another interface anyway.
	maxHold time.Duration
	// maxDrain is how long readers keep reading after the context ends.
	maxDrain time.Duration
	// statsEvery is how often readers refresh the kernel counters.
	statsEvery time.Duration
}

var defaultTiming = timing{
	lag:        2*blockTimeout + 40*time.Millisecond,
	maxHold:    time.Second,
	maxDrain:   time.Second,
	statsEvery: time.Second,
}

// Batch limits. A reader copies packets into a batch until the consumer
// takes it or it holds maxBatchBytes or maxBatchPackets; full batches wait
// in a queue. When the consumer falls behind, the reader goes on emptying
// the kernel ring into the queue until it holds maxQueuedBytes, which
// doubles the default buffering; memory is only used while it is needed
// and is reused after.
const (
	maxBatchBytes   = 4 << 20
	maxBatchPackets = 16384
	maxQueuedBytes  = 64 << 20
	initBatchBytes  = 256 << 10
)

// errIdle is returned by ring.read when no packet came within the poll
// timeout.
var errIdle = errors.New("no packet within poll timeout")

// ring is one interface's packet source: an AF_PACKET socket, or a fake in
// tests.
type ring interface {
	// read returns the next frame, valid until the next call, or errIdle.
	read() ([]byte, gopacket.CaptureInfo, error)
	// stats returns the cumulative kernel counters.
	stats() (received, dropped uint64, err error)
	// close releases the socket.
	close()
}

// Capture is a running live capture. It implements capture.Source.
//
// Next must not be called from more than one goroutine at a time; Close and
// Stats may be called from any goroutine, and Close unblocks a waiting
// Next.
type Capture struct {
	ifaces  []Interface
	readers []*reader
	inputs  []inputState // consumer side, owned by Next
	count   int
	emitted int
	pkt     capture.Packet
	eof     bool
	timer   *time.Timer
	tm      timing

	notify    chan struct{} // wakes Next; capacity 1
	quit      chan struct{} // closed when readers must stop at once
	quitOnce  sync.Once
	closeOnce sync.Once
	stopAt    atomic.Int64 // UnixNano when the context ended, 0 before
	stopCtx   func() bool
	wg        sync.WaitGroup
}

var _ capture.Source = (*Capture)(nil)

// inputState is the consumer's view of one interface.
type inputState struct {
	cur  *batch
	pos  int
	low  time.Time // no later packet of this input is older than low
	done bool
	err  error
	took time.Time // when cur was taken from the reader
}

// batch holds packets copied out of a kernel ring.
type batch struct {
	buf  []byte
	pkts []pktMeta
}

type pktMeta struct {
	ci       gopacket.CaptureInfo
	off, end int
	frame    int
}

func newBatch() *batch {
	return &batch{buf: make([]byte, 0, initBatchBytes)}
}

func (b *batch) reset() {
	b.buf = b.buf[:0]
	b.pkts = b.pkts[:0]
}

func (b *batch) full(n int) bool {
	return len(b.pkts) > 0 && (len(b.buf)+n > maxBatchBytes || len(b.pkts) >= maxBatchPackets)
}

// reader copies packets from one ring into batches.
type reader struct {
	input  int
	name   string
	ring   ring
	start  time.Time // frames stamped earlier predate the filter
	frames int
	space  chan struct{} // capacity 1; the consumer took a batch

	mu     sync.Mutex // guards the fields below
	fill   *batch     // being filled
	queue  []*batch   // full, oldest first
	free   []*batch   // empty, for reuse
	queued int        // bytes in queue
	low    time.Time
	done   bool
	err    error
	stats  InterfaceStats
}

// Open checks the options and the interfaces, opens one AF_PACKET socket
// per interface with its filter attached, and starts capturing. The capture
// ends, after handing on the packets captured until then, when ctx is done;
// it ends at once after Options.Count packets or on Close. The caller must
// Close the capture.
func Open(ctx context.Context, opts Options) (*Capture, error) {
	cfg, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	ifaces := make([]Interface, len(opts.Interfaces))
	for i, name := range opts.Interfaces {
		ifc, err := lookupInterface(name)
		if err != nil {
			return nil, err
		}
		ifc.SnapLen = cfg.snapLen
		ifc.Filter = DescribeFilter(cfg.ports, opts.All)
		ifaces[i] = ifc
	}
	rings := make([]ring, 0, len(ifaces))
	starts := make([]time.Time, 0, len(ifaces))
	for _, ifc := range ifaces {
		r, start, err := openTPacket(ifc, cfg)
		if err != nil {
			for _, r := range rings {
				r.close()
			}
			return nil, err
		}
		rings = append(rings, r)
		starts = append(starts, start)
	}
	return start(ctx, ifaces, rings, starts, opts.Count, defaultTiming), nil
}

// config is Options checked and with defaults filled in.
type config struct {
	ports     []uint16
	all       bool
	snapLen   uint32
	numBlocks int
	promisc   bool
}

func (o Options) normalize() (config, error) {
	cfg := config{all: o.All, promisc: o.Promiscuous}
	if len(o.Interfaces) == 0 {
		return cfg, errors.New("no interface to capture on")
	}
	seen := make(map[string]bool, len(o.Interfaces))
	for _, name := range o.Interfaces {
		if seen[name] {
			return cfg, fmt.Errorf("interface %q given more than once", name)
		}
		seen[name] = true
	}
	switch {
	case o.SnapLen == 0:
		cfg.snapLen = DefaultSnapLen
	case o.SnapLen < 0 || o.SnapLen > DefaultSnapLen:
		return cfg, fmt.Errorf("snap length %d out of range 1..%d", o.SnapLen, DefaultSnapLen)
	default:
		cfg.snapLen = uint32(o.SnapLen)
	}
	size := o.RingSize
	if size == 0 {
		size = DefaultRingSize
	}
	if size < RingBlockSize || size > MaxRingSize {
		return cfg, fmt.Errorf("ring size %d out of range %d..%d bytes", o.RingSize, RingBlockSize, MaxRingSize)
	}
	cfg.numBlocks = (size + RingBlockSize - 1) / RingBlockSize
	if o.Count < 0 {
		return cfg, fmt.Errorf("packet count %d is negative", o.Count)
	}
	if !o.All {
		if len(o.Ports) == 0 {
			cfg.ports = DefaultPorts()
		} else {
			cfg.ports = normalizePorts(o.Ports)
			if len(cfg.ports) == 0 {
				return cfg, errors.New("port 0 cannot be captured")
			}
		}
		if len(cfg.ports) > MaxPorts {
			return cfg, fmt.Errorf("%d ports given, at most %d allowed", len(cfg.ports), MaxPorts)
		}
	}
	return cfg, nil
}

// start launches the readers; it is separate from Open so tests can use
// fake rings.
func start(ctx context.Context, ifaces []Interface, rings []ring, starts []time.Time, count int, tm timing) *Capture {
	c := &Capture{
		ifaces:  ifaces,
		readers: make([]*reader, len(rings)),
		inputs:  make([]inputState, len(rings)),
		count:   count,
		tm:      tm,
		notify:  make(chan struct{}, 1),
		quit:    make(chan struct{}),
		timer:   time.NewTimer(time.Hour),
	}
	c.timer.Stop()
	for i, rg := range rings {
		r := &reader{
			input: i,
			name:  ifaces[i].Name,
			ring:  rg,
			start: starts[i],
			space: make(chan struct{}, 1),
			fill:  newBatch(),
			stats: InterfaceStats{Name: ifaces[i].Name, Start: starts[i], End: starts[i]},
		}
		c.readers[i] = r
		c.inputs[i].cur = newBatch()
	}
	c.wg.Add(len(rings))
	for _, r := range c.readers {
		go r.run(c)
	}
	c.stopCtx = context.AfterFunc(ctx, func() { c.stopAt.CompareAndSwap(0, time.Now().UnixNano()) })
	return c
}

// Interfaces describes the capture's interfaces, in the order of
// Options.Interfaces.
func (c *Capture) Interfaces() []Interface {
	return append([]Interface(nil), c.ifaces...)
}

// Stats returns the kernel counters of each interface, in the order of
// Options.Interfaces. During the capture they are refreshed about once a
// second; after Close they are final.
func (c *Capture) Stats() []InterfaceStats {
	out := make([]InterfaceStats, len(c.readers))
	for i, r := range c.readers {
		r.mu.Lock()
		out[i] = r.stats
		r.mu.Unlock()
	}
	return out
}

// Close stops the readers, waits for them and releases the sockets. It is
// safe to call more than once. Stats returns the final counters after it.
func (c *Capture) Close() error {
	c.closeOnce.Do(func() {
		c.stopCtx()
		c.abandon()
		c.wg.Wait()
	})
	return nil
}

// Next returns the next packet in timestamp order across the interfaces.
// Its Data is a copy of the frame, valid until the next call. Next returns
// io.EOF after Options.Count packets, after the context ends and the
// packets captured until then are handed on, or after Close; it returns an
// error naming the interface if reading from one fails.
func (c *Capture) Next() (*capture.Packet, error) {
	if c.eof {
		return nil, io.EOF
	}
	if c.count > 0 && c.emitted >= c.count {
		return c.end(nil)
	}
	for {
		select {
		case <-c.quit:
			return c.end(nil)
		default:
		}
		best := -1
		var bestTS time.Time
		pending := false
		for i := range c.inputs {
			in := &c.inputs[i]
			if in.pos >= len(in.cur.pkts) {
				c.take(i)
			}
			if in.err != nil {
				return c.end(fmt.Errorf("capture on %s: %w", c.ifaces[i].Name, in.err))
			}
			if in.pos < len(in.cur.pkts) {
				ts := in.cur.pkts[in.pos].ci.Timestamp
				if best < 0 || ts.Before(bestTS) {
					best, bestTS = i, ts
				}
			} else if !in.done {
				pending = true
			}
		}
		if best < 0 {
			if !pending {
				return c.end(nil)
			}
			c.wait(time.Time{})
			continue
		}
		deadline := c.inputs[best].took.Add(c.tm.maxHold)
		if c.ordered(best, bestTS) || !time.Now().Before(deadline) {
			return c.emit(best), nil
		}
		c.wait(deadline)
	}
}

// ordered reports whether no other input can still deliver a packet older
// than ts.
func (c *Capture) ordered(best int, ts time.Time) bool {
	for j := range c.inputs {
		in := &c.inputs[j]
		if j == best || in.done || in.pos < len(in.cur.pkts) {
			continue
		}
		if in.low.Before(ts) {
			return false
		}
	}
	return true
}

func (c *Capture) emit(i int) *capture.Packet {
	in := &c.inputs[i]
	m := &in.cur.pkts[in.pos]
	in.pos++
	c.pkt = capture.Packet{
		Data:     in.cur.buf[m.off:m.end:m.end],
		Info:     m.ci,
		LinkType: c.ifaces[i].LinkType,
		Input:    i,
		Frame:    m.frame,
	}
	c.emitted++
	if c.count > 0 && c.emitted >= c.count {
		c.abandon()
	}
	return &c.pkt
}

func (c *Capture) end(err error) (*capture.Packet, error) {
	c.eof = true
	c.abandon()
	if err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// take replaces input i's exhausted batch with the reader's oldest full
// one, or else with the one being filled if it has packets, and copies the
// reader's state.
func (c *Capture) take(i int) {
	in := &c.inputs[i]
	r := c.readers[i]
	r.mu.Lock()
	var next *batch
	switch {
	case len(r.queue) > 0:
		next = r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		r.queued -= len(next.buf)
		in.cur.reset()
		r.free = append(r.free, in.cur)
	case len(r.fill.pkts) > 0:
		next = r.fill
		in.cur.reset()
		r.fill = in.cur
	}
	if next != nil {
		in.cur, in.pos, in.took = next, 0, time.Now()
		select {
		case r.space <- struct{}{}:
		default:
		}
	}
	in.low, in.done, in.err = r.low, r.done, r.err
	r.mu.Unlock()
}

// wait blocks until a reader reports, the capture is abandoned, or the
// deadline passes (no deadline if zero).
func (c *Capture) wait(deadline time.Time) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		c.timer.Reset(time.Until(deadline))
		defer c.timer.Stop()
		timeout = c.timer.C
	}
	select {
	case <-c.notify:
	case <-c.quit:
	case <-timeout:
	}
}

// wake tells Next that a reader has news.
func (c *Capture) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// abandon makes the readers stop at once.
func (c *Capture) abandon() {
	c.quitOnce.Do(func() { close(c.quit) })
}

func (c *Capture) abandoned() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// stopTime is when the context ended, or zero.
func (c *Capture) stopTime() time.Time {
	if ns := c.stopAt.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// run reads packets until the capture is abandoned, or, once the context
// has ended, until every packet stamped before the end has been read.
func (r *reader) run(c *Capture) {
	defer c.wg.Done()
	var err error
	defer func() { r.finish(c, err) }()
	lastStats := time.Now()
	for !c.abandoned() {
		now := time.Now()
		if stop := c.stopTime(); !stop.IsZero() && now.Sub(stop) > c.tm.maxDrain {
			return
		}
		data, ci, rerr := r.ring.read()
		// Loaded after the read, so a frame stamped after the end is
		// seen to be.
		stop := c.stopTime()
		switch {
		case errors.Is(rerr, errIdle):
			// Every frame stamped before now-lag would have been
			// handed over by now.
			low := now.Add(-c.tm.lag)
			r.mu.Lock()
			if low.After(r.low) {
				r.low = low
			}
			r.mu.Unlock()
			c.wake()
			if !stop.IsZero() && !low.Before(stop) {
				return
			}
		case rerr != nil:
			err = rerr
			return
		case ci.Timestamp.Before(r.start):
			// Queued before the filter was attached.
		case !stop.IsZero() && ci.Timestamp.After(stop):
			return
		default:
			if !r.add(c, data, ci) {
				return
			}
			c.wake()
		}
		if now.Sub(lastStats) >= c.tm.statsEvery {
			r.refreshStats(now)
			lastStats = now
		}
	}
}

// add copies one frame into the reader's batch. A full batch joins the
// queue; when the queue is full too, add waits for the consumer. It
// returns false if the capture was abandoned while waiting.
func (r *reader) add(c *Capture, data []byte, ci gopacket.CaptureInfo) bool {
	r.mu.Lock()
	for r.fill.full(len(data)) {
		if r.queued+len(r.fill.buf) <= maxQueuedBytes {
			r.queue = append(r.queue, r.fill)
			r.queued += len(r.fill.buf)
			if n := len(r.free); n > 0 {
				r.fill, r.free = r.free[n-1], r.free[:n-1]
			} else {
				r.fill = newBatch()
			}
			break
		}
		r.mu.Unlock()
		select {
		case <-r.space:
		case <-c.quit:
			return false
		}
		r.mu.Lock()
	}
	r.frames++
	b := r.fill
	off := len(b.buf)
	b.buf = append(b.buf, data...)
	ci.CaptureLength = len(data)
	ci.InterfaceIndex = r.input
	ci.AncillaryData = nil
	b.pkts = append(b.pkts, pktMeta{ci: ci, off: off, end: len(b.buf), frame: r.frames})
	if ci.Timestamp.After(r.low) {
		r.low = ci.Timestamp
	}
	r.mu.Unlock()
	return true
}

// refreshStats reads the kernel counters.
func (r *reader) refreshStats(now time.Time) {
	recv, drop, err := r.ring.stats()
	if err != nil {
		return
	}
	r.mu.Lock()
	r.stats.Received, r.stats.Dropped, r.stats.End = recv, drop, now
	r.mu.Unlock()
}

// finish reads the final counters, closes the ring and reports the end.
func (r *reader) finish(c *Capture, err error) {
	r.refreshStats(time.Now())
	r.ring.close()
	r.mu.Lock()
	r.done = true
	r.err = err
	r.mu.Unlock()
	c.wake()
}
