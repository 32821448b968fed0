// Package clocksync estimates the clock offsets between capture files
// recorded on different hosts, from the TCP segments that two captures both
// saw, so that their packets can be merged in true order (pass
// Result.Offsets as capture.FileOptions.Offsets).
//
// A first pass reads the first packets of every input and keys each TCP
// segment by the fields no capture point changes (sequence and
// acknowledgement numbers, flags, window, payload length, TCP options, IPv4
// identification). A segment found exactly once in each of two inputs gives
// the difference of their timestamps: the clock offset plus or minus the
// travel time between the capture points, depending on the direction. The
// two directions of each TCP connection bound the offset from both sides;
// see fitOffset. Inputs that share segments are chained to the first input
// of their group; inputs that share none (the loopback and the NIC of one
// host see different connections) are left uncorrected.
package clocksync

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/authflow/authflow/capture"
)

// Defaults for Options.
const (
	// DefaultMaxPackets is how many packets of each input are read.
	DefaultMaxPackets = 200000
	// DefaultMinSegments is the fewest shared segments that link two
	// inputs.
	DefaultMinSegments = 3
)

// Options tunes Estimate. The zero value gives the defaults.
type Options struct {
	// MaxPackets is how many packets are read from the start of each
	// input; 0 means DefaultMaxPackets, a negative value the whole file.
	// The captures must overlap in time within these packets. Memory grows
	// with it (about 100 bytes per TCP segment).
	MaxPackets int
	// MinSegments is the fewest segments two inputs must share to be
	// linked; 0 means DefaultMinSegments.
	MinSegments int
}

// Result is the outcome of Estimate.
type Result struct {
	// Offsets are to be added to the timestamps of each input, indexed
	// like the paths, to put it on the clock of its reference input
	// (Input.Ref). They are 0 for references and for inputs that share no
	// segments with another.
	Offsets []time.Duration
	// Inputs describes each input, indexed like the paths.
	Inputs []Input
	// Pairs are the pairs of inputs that share at least
	// Options.MinSegments segments, with A < B, in index order.
	Pairs []Pair
}

// Input is what Estimate found for one input.
type Input struct {
	// Path is the file name as given to Estimate.
	Path string
	// Offset is Result.Offsets for this input.
	Offset time.Duration
	// Ref is the input whose clock Offset refers to: the first input of
	// the group of inputs linked by shared segments. It is the input
	// itself for a reference or an unlinked input.
	Ref int
	// Via is the input this one was linked to, the last step of the chain
	// to Ref (Ref itself when directly linked); the input itself if Ref is.
	Via int
	// Uncertainty is the sum of the pair uncertainties along the chain to
	// Ref.
	Uncertainty time.Duration
	// Segments is the number of segments of the link to Via.
	Segments int
	// OneWay is set if a link of the chain had segments in one direction
	// only, so the travel time between the capture points is in Offset.
	OneWay bool
	// Packets is the number of packets read; TCPSegments the TCP segments
	// among them.
	Packets, TCPSegments int
	// Err is why the input could not be read, or was read only in part;
	// the packets before the damage are used.
	Err error
}

// Pair is the clock offset between two inputs.
type Pair struct {
	// A and B are indices of the inputs, A < B.
	A, B int
	// Offset is B's clock minus A's clock: B's timestamps are Offset later
	// than A's for the same moment.
	Offset time.Duration
	// Uncertainty is half the width of the interval the shared segments
	// leave for the offset, since no packet is seen at its receiver before
	// its sender: the true offset lies within Offset ± Uncertainty unless
	// the clocks drifted during the captures. Offset, the middle, is exact
	// when the fastest packets took equally long both ways.
	Uncertainty time.Duration
	// Segments is the number of shared segments used; Forward of them
	// were seen first in A, the others first in B.
	Segments, Forward int
	// OneWay is set if no TCP connection had segments in both directions
	// in both inputs: Offset is then the median time difference, which
	// includes the travel time between the capture points, and
	// Uncertainty only covers the spread of the differences.
	OneWay bool
}

// Estimate reads the first packets of each capture file and estimates the
// clock offset of each one relative to the first input it is linked to by
// shared TCP segments. A file that cannot be read gets no correction and
// its error is in Result.Inputs; Estimate fails only on bad arguments.
func Estimate(paths []string, opts Options) (Result, error) {
	if len(paths) == 0 {
		return Result{}, errors.New("clock sync: no capture files given")
	}
	if opts.MaxPackets == 0 {
		opts.MaxPackets = DefaultMaxPackets
	}
	if opts.MinSegments <= 0 {
		opts.MinSegments = DefaultMinSegments
	}
	data := make([]*inputData, len(paths))
	for i, p := range paths {
		data[i] = readInput(p, opts.MaxPackets)
	}
	res := Result{
		Offsets: make([]time.Duration, len(paths)),
		Inputs:  make([]Input, len(paths)),
	}
	for i, d := range data {
		res.Inputs[i] = Input{
			Path: paths[i], Ref: i, Via: i,
			Packets: d.packets, TCPSegments: d.tcp, Err: d.err,
		}
	}
	for a := range data {
		for b := a + 1; b < len(data); b++ {
			f, ok := fitOffset(match(data[a], data[b]), opts.MinSegments)
			if !ok {
				continue
			}
			res.Pairs = append(res.Pairs, Pair{
				A: a, B: b, Offset: f.offset, Uncertainty: f.uncertainty,
				Segments: f.segments(), Forward: f.forward, OneWay: f.oneWay,
			})
		}
	}
	res.chain()
	return res, nil
}

// inputData holds the TCP segments of the first packets of one input.
type inputData struct {
	// segs maps segment keys to when they were seen; a key seen more than
	// once (a retransmission seen twice, a packet captured on two
	// interfaces) has flow -1 and is not used.
	segs  map[uint64]segRec
	flows []flowInfo
	index map[flowKey]int32
	conns map[connKey]int32

	packets, tcp int
	err          error
}

type segRec struct {
	t    int64 // Unix nanoseconds
	flow int32
}

// flowInfo places a directed flow in its connection.
type flowInfo struct {
	conn int32
	dir  uint8
}

type endpoint struct {
	addr [16]byte
	port uint16
}

// connKey is a connection with its endpoints in canonical order.
type connKey struct{ lo, hi endpoint }

func (e endpoint) compare(o endpoint) int {
	if c := strings.Compare(string(e.addr[:]), string(o.addr[:])); c != 0 {
		return c
	}
	return int(e.port) - int(o.port)
}

func readInput(path string, maxPackets int) *inputData {
	d := &inputData{
		segs:  map[uint64]segRec{},
		index: map[flowKey]int32{},
		conns: map[connKey]int32{},
	}
	src, err := capture.OpenFiles([]string{path}, capture.FileOptions{})
	if err != nil {
		d.err = err
		return d
	}
	defer src.Close()
	for maxPackets < 0 || d.packets < maxPackets {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.err = fmt.Errorf("%s: %w", path, err)
			break
		}
		d.packets++
		seg, ok := parseSegment(p.Data, p.LinkType)
		if !ok {
			continue
		}
		d.tcp++
		d.add(seg, p.Info.Timestamp.UnixNano())
	}
	if errs := src.Errors(); len(errs) > 0 && d.err == nil {
		d.err = errs[0]
	}
	return d
}

func (d *inputData) add(seg segment, t int64) {
	if r, seen := d.segs[seg.key]; seen {
		if r.flow >= 0 {
			d.segs[seg.key] = segRec{t: r.t, flow: -1}
		}
		return
	}
	d.segs[seg.key] = segRec{t: t, flow: d.flowIndex(seg.flow)}
}

func (d *inputData) flowIndex(f flowKey) int32 {
	if i, ok := d.index[f]; ok {
		return i
	}
	src := endpoint{f.src.As16(), f.sport}
	dst := endpoint{f.dst.As16(), f.dport}
	key, dir := connKey{src, dst}, uint8(0)
	if src.compare(dst) > 0 {
		key, dir = connKey{dst, src}, 1
	}
	conn, ok := d.conns[key]
	if !ok {
		conn = int32(len(d.conns))
		d.conns[key] = conn
	}
	i := int32(len(d.flows))
	d.flows = append(d.flows, flowInfo{conn: conn, dir: dir})
	d.index[f] = i
	return i
}

// match returns the segments seen exactly once in each of a and b, with
// the connections as a numbers them.
func match(a, b *inputData) []sample {
	var out []sample
	small, large, swapped := a, b, false
	if len(b.segs) < len(a.segs) {
		small, large, swapped = b, a, true
	}
	for key, rs := range small.segs {
		if rs.flow < 0 {
			continue
		}
		rl, ok := large.segs[key]
		if !ok || rl.flow < 0 {
			continue
		}
		ra, rb := rs, rl
		if swapped {
			ra, rb = rl, rs
		}
		fi := a.flows[ra.flow]
		out = append(out, sample{conn: fi.conn, dir: fi.dir, d: time.Duration(rb.t - ra.t)})
	}
	return out
}

// chainCost orders the ways to link an input to its reference: fewest
// one-way links, then least total uncertainty, then fewest links.
type chainCost struct {
	oneWay int
	unc    time.Duration
	hops   int
}

func (c chainCost) less(o chainCost) bool {
	if c.oneWay != o.oneWay {
		return c.oneWay < o.oneWay
	}
	if c.unc != o.unc {
		return c.unc < o.unc
	}
	return c.hops < o.hops
}

// chain links every input to the first input of its group through the
// pairs, along the chain of least uncertainty, and sets the offsets.
func (r *Result) chain() {
	n := len(r.Inputs)
	done := make([]bool, n)
	cost := make([]chainCost, n)
	reached := make([]bool, n)
	clock := make([]time.Duration, n) // clock minus the reference's clock
	for root := range n {
		if done[root] {
			continue
		}
		reached[root] = true
		for {
			// The closest reached input not done yet (Dijkstra).
			u := -1
			for i := range n {
				if reached[i] && !done[i] && (u < 0 || cost[i].less(cost[u])) {
					u = i
				}
			}
			if u < 0 {
				break
			}
			done[u] = true
			for _, p := range r.Pairs {
				v, off := p.B, p.Offset
				if p.B == u {
					v, off = p.A, -p.Offset
				} else if p.A != u {
					continue
				}
				if done[v] {
					continue
				}
				c := chainCost{oneWay: cost[u].oneWay, unc: cost[u].unc + p.Uncertainty, hops: cost[u].hops + 1}
				if p.OneWay {
					c.oneWay++
				}
				if reached[v] && !c.less(cost[v]) {
					continue
				}
				reached[v], cost[v] = true, c
				clock[v] = clock[u] + off
				in := &r.Inputs[v]
				in.Ref, in.Via = root, u
				in.Uncertainty, in.Segments, in.OneWay = c.unc, p.Segments, c.oneWay > 0
			}
		}
	}
	for i := range r.Inputs {
		r.Offsets[i] = -clock[i]
		r.Inputs[i].Offset = -clock[i]
	}
}

// String reports the result, one line per input that was set to another's
// clock or could not be: "b.pcap: clock 2.500 s ahead of a.pcap (±12 µs,
// 812 segments)". It is empty for a single input that was read.
func (r Result) String() string {
	var lines []string
	for i := range r.Inputs {
		if l := r.Line(i); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// Line reports input i: its offset to its reference, that it shares no
// segments with another input, or that it could not be read. It is empty
// for a reference input, and for the only input.
func (r Result) Line(i int) string {
	in := r.Inputs[i]
	name := r.name(i)
	if in.Ref == i {
		switch {
		case in.Packets == 0 && in.Err != nil:
			return fmt.Sprintf("%s: clock not estimated: %v", name, in.Err)
		case len(r.Inputs) == 1 || r.isReference(i):
			return ""
		case in.TCPSegments == 0:
			return fmt.Sprintf("%s: no TCP segments; clock left as recorded", name)
		}
		return fmt.Sprintf("%s: no TCP segments in common with the other captures; clock left as recorded", name)
	}
	ahead := -in.Offset // this clock minus the reference's
	rel := "the same as"
	switch {
	case ahead >= time.Microsecond/2:
		rel = formatOffset(ahead) + " ahead of"
	case ahead <= -time.Microsecond/2:
		rel = formatOffset(-ahead) + " behind"
	}
	via := ""
	if in.Via != in.Ref {
		via = " via " + r.name(in.Via)
	}
	oneWay := ""
	if in.OneWay {
		oneWay = ", one direction only: travel time not removed"
	}
	return fmt.Sprintf("%s: clock %s %s%s (±%s, %d segments%s)",
		name, rel, r.name(in.Ref), via, formatUncertainty(in.Uncertainty), in.Segments, oneWay)
}

// isReference reports whether another input was set to input i's clock.
func (r Result) isReference(i int) bool {
	for j, in := range r.Inputs {
		if j != i && in.Ref == i {
			return true
		}
	}
	return false
}

// name is the file name of input i, or its whole path if another input
// has the same file name.
func (r Result) name(i int) string {
	base := filepath.Base(r.Inputs[i].Path)
	for j, in := range r.Inputs {
		if j != i && filepath.Base(in.Path) == base {
			return r.Inputs[i].Path
		}
	}
	return base
}

// formatOffset writes a positive offset in seconds or milliseconds with
// three decimals, or in microseconds.
func formatOffset(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", int64(math.Round(float64(d)/float64(time.Microsecond))))
}

// formatUncertainty writes an uncertainty with one decimal in milliseconds
// from 0.1 ms on, in microseconds below.
func formatUncertainty(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	case d >= 100*time.Microsecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", int64(math.Round(float64(d)/float64(time.Microsecond))))
}
