package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// fakeFrame is one scripted frame of a fakeRing.
type fakeFrame struct {
	ts   time.Time
	data []byte
	// idleBefore is the number of idle polls the ring reports before
	// delivering this frame.
	idleBefore int
}

// fakeRing plays scripted frames, then reports idle polls (or fails). Like
// a real ring it reuses one buffer, so data not copied by the reader is
// overwritten.
type fakeRing struct {
	mu        sync.Mutex
	frames    []fakeFrame
	next      func() (fakeFrame, bool) // generator used when frames is empty
	idled     int
	buf       []byte
	failAtEnd error
	closed    bool
	recv      uint64
	drop      uint64
}

func (f *fakeRing) read() ([]byte, gopacket.CaptureInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		panic("read after close")
	}
	var fr fakeFrame
	switch {
	case len(f.frames) > 0:
		fr = f.frames[0]
		if f.idled < fr.idleBefore {
			f.idled++
			return f.idle()
		}
		f.idled = 0
		f.frames = f.frames[1:]
	case f.next != nil:
		var ok bool
		if fr, ok = f.next(); !ok {
			return f.idle()
		}
	case f.failAtEnd != nil:
		return nil, gopacket.CaptureInfo{}, f.failAtEnd
	default:
		return f.idle()
	}
	f.buf = append(f.buf[:0], fr.data...)
	ci := gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: len(fr.data), Length: len(fr.data), InterfaceIndex: 99}
	return f.buf, ci, nil
}

// idle simulates a poll timeout, briefly.
func (f *fakeRing) idle() ([]byte, gopacket.CaptureInfo, error) {
	f.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	return nil, gopacket.CaptureInfo{}, errIdle
}

func (f *fakeRing) stats() (uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recv, f.drop, nil
}

func (f *fakeRing) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
}

func (f *fakeRing) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// payload encodes an input and frame number, so copies can be checked.
func payload(input, frame int) []byte {
	b := make([]byte, 64+frame%50)
	binary.BigEndian.PutUint32(b, uint32(input))
	binary.BigEndian.PutUint32(b[4:], uint32(frame))
	for i := 8; i < len(b); i++ {
		b[i] = byte(input*31 + frame + i)
	}
	return b
}

// testTiming has a short lag, so idle rings release the merge quickly, and
// a long hold, so ordering never depends on the hold timeout.
var testTiming = timing{lag: time.Millisecond, maxHold: time.Hour, maxDrain: time.Second, statsEvery: 10 * time.Millisecond}

func startFake(ctx context.Context, rings []*fakeRing, count int, tm timing) *Capture {
	ifaces := make([]Interface, len(rings))
	rs := make([]ring, len(rings))
	starts := make([]time.Time, len(rings))
	for i, r := range rings {
		ifaces[i] = Interface{Name: fmt.Sprintf("fake%d", i), LinkType: layers.LinkTypeEthernet}
		rs[i] = r
		starts[i] = time.Now().Add(-time.Hour)
	}
	return start(ctx, ifaces, rs, starts, count, tm)
}

// collected is what the tests keep of each packet.
type collected struct {
	input, frame int
	ts           time.Time
	data         []byte
}

func readAll(t *testing.T, c *Capture) ([]collected, error) {
	t.Helper()
	var out []collected
	for {
		p, err := c.Next()
		if err != nil {
			return out, err
		}
		if p.LinkType != layers.LinkTypeEthernet {
			t.Errorf("link type %v", p.LinkType)
		}
		if p.Info.InterfaceIndex != p.Input || p.Info.CaptureLength != len(p.Data) {
			t.Errorf("capture info %+v for input %d, %d bytes", p.Info, p.Input, len(p.Data))
		}
		out = append(out, collected{p.Input, p.Frame, p.Info.Timestamp, append([]byte(nil), p.Data...)})
	}
}

// checkStream checks time order, per-input frame numbering and contents.
func checkStream(t *testing.T, got []collected, wantPerInput []int) {
	t.Helper()
	frames := make([]int, len(wantPerInput))
	for i, p := range got {
		if i > 0 && p.ts.Before(got[i-1].ts) {
			t.Errorf("packet %d (input %d) at %v is older than the one before (input %d) at %v",
				i, p.input, p.ts, got[i-1].input, got[i-1].ts)
		}
		frames[p.input]++
		if p.frame != frames[p.input] {
			t.Errorf("packet %d: input %d frame %d, want %d", i, p.input, p.frame, frames[p.input])
		}
		if want := payload(p.input, p.frame); string(p.data) != string(want) {
			t.Errorf("packet %d (input %d frame %d): data not the frame's copy", i, p.input, p.frame)
		}
	}
	for i, n := range wantPerInput {
		if frames[i] != n {
			t.Errorf("input %d: %d packets, want %d", i, frames[i], n)
		}
	}
}

// liveFrames returns a generator of n frames stamped when read, as a real
// ring's are, with an idle poll every idleEvery reads.
func liveFrames(input, n, idleEvery int) func() (fakeFrame, bool) {
	reads, frame := 0, 0
	return func() (fakeFrame, bool) {
		reads++
		if frame >= n || reads%idleEvery == 0 {
			return fakeFrame{}, false
		}
		frame++
		return fakeFrame{ts: time.Now(), data: payload(input, frame)}, true
	}
}

func TestMergeOrdersInputsByTime(t *testing.T) {
	counts := []int{300, 200, 5}
	rings := []*fakeRing{
		{next: liveFrames(0, counts[0], 13)},
		{next: liveFrames(1, counts[1], 7)},
		{next: liveFrames(2, counts[2], 2)},
	}
	c := startFake(context.Background(), rings, 505, testTiming)
	defer c.Close()
	got, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next: %v, want io.EOF", err)
	}
	checkStream(t, got, counts)
}

// TestMergeWaitsForQuietInput checks that a packet is held back while
// another input, quiet for a while, may still deliver an older one.
func TestMergeWaitsForQuietInput(t *testing.T) {
	// Input 1 is idle for five polls, then delivers a packet older than
	// input 0's: a real ring does so when a partly filled block is
	// retired, within the lag.
	base := time.Now()
	tm := testTiming
	tm.lag = time.Second
	rings := []*fakeRing{
		{frames: []fakeFrame{{ts: base.Add(2 * time.Millisecond), data: payload(0, 1)}}},
		{frames: []fakeFrame{{ts: base.Add(time.Millisecond), data: payload(1, 1), idleBefore: 5}}},
	}
	c := startFake(context.Background(), rings, 2, tm)
	defer c.Close()
	got, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next: %v, want io.EOF", err)
	}
	checkStream(t, got, []int{1, 1})
	if len(got) == 2 && got[0].input != 1 {
		t.Errorf("first packet from input %d, want the older one from input 1", got[0].input)
	}
}

// TestMergeHoldLimit checks that a quiet input whose clock vouches for
// nothing delays the others only for maxHold.
func TestMergeHoldLimit(t *testing.T) {
	base := time.Now().Add(-time.Minute)
	tm := testTiming
	tm.lag = 2 * time.Minute
	tm.maxHold = 20 * time.Millisecond
	rings := []*fakeRing{
		{frames: []fakeFrame{{ts: base, data: payload(0, 1)}, {ts: base.Add(time.Millisecond), data: payload(0, 2)}}},
		{}, // idle forever
	}
	c := startFake(context.Background(), rings, 2, tm)
	defer c.Close()
	got, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next: %v, want io.EOF", err)
	}
	checkStream(t, got, []int{2, 0})
}

func TestCountStopsCapture(t *testing.T) {
	frame := 0
	endless := &fakeRing{next: func() (fakeFrame, bool) {
		frame++
		return fakeFrame{ts: time.Now(), data: payload(0, frame)}, true
	}}
	c := startFake(context.Background(), []*fakeRing{endless}, 5, testTiming)
	got, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next: %v, want io.EOF", err)
	}
	checkStream(t, got, []int{5})
	if _, err := c.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end: %v, want io.EOF", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !endless.isClosed() {
		t.Error("ring not closed by Close")
	}
}

// TestContextEndDrains checks that packets captured before the context
// ends are handed on, and that the capture then ends by itself.
func TestContextEndDrains(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	frame, limit := 0, 50
	ring := &fakeRing{next: func() (fakeFrame, bool) {
		mu.Lock()
		defer mu.Unlock()
		if frame >= limit {
			return fakeFrame{}, false
		}
		frame++
		return fakeFrame{ts: time.Now(), data: payload(0, frame)}, true
	}}
	quiet := &fakeRing{}
	c := startFake(ctx, []*fakeRing{ring, quiet}, 0, testTiming)
	defer c.Close()
	var got []collected
	for len(got) < 10 {
		p, err := c.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, collected{p.Input, p.Frame, p.Info.Timestamp, append([]byte(nil), p.Data...)})
	}
	cancel()
	rest, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next after cancel: %v, want io.EOF", err)
	}
	got = append(got, rest...)
	checkStream(t, got, []int{limit, 0})
}

// TestContextEndStopsEndlessInput checks that an input that never goes
// quiet is cut at the moment the context ended.
func TestContextEndStopsEndlessInput(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frame := 0
	endless := &fakeRing{next: func() (fakeFrame, bool) {
		frame++
		time.Sleep(50 * time.Microsecond)
		return fakeFrame{ts: time.Now(), data: payload(0, frame)}, true
	}}
	c := startFake(ctx, []*fakeRing{endless}, 0, testTiming)
	defer c.Close()
	if _, err := c.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	var stamps []time.Time
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, p.Info.Timestamp)
	}
	stop := c.stopTime()
	if stop.IsZero() {
		t.Fatal("no stop time after the context ended")
	}
	for i, ts := range stamps {
		if ts.After(stop) {
			t.Errorf("packet %d stamped %v, after the context ended at %v", i+2, ts, stop)
		}
	}
}

func TestCloseUnblocksNext(t *testing.T) {
	rings := []*fakeRing{{recv: 7, drop: 2}, {recv: 1}}
	c := startFake(context.Background(), rings, 0, testTiming)
	done := make(chan error, 1)
	go func() {
		_, err := c.Next()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	for i, r := range rings {
		if !r.isClosed() {
			t.Errorf("ring %d not closed", i)
		}
	}
	stats := c.Stats()
	want := []InterfaceStats{{Name: "fake0", Received: 7, Dropped: 2}, {Name: "fake1", Received: 1}}
	for i := range want {
		s := stats[i]
		if s.Name != want[i].Name || s.Received != want[i].Received || s.Dropped != want[i].Dropped {
			t.Errorf("stats[%d] = %+v, want %+v", i, s, want[i])
		}
		if s.End.Before(s.Start) {
			t.Errorf("stats[%d]: end %v before start %v", i, s.End, s.Start)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestReaderErrorEndsCapture(t *testing.T) {
	base := time.Now().Add(-time.Minute)
	broken := &fakeRing{
		frames:    []fakeFrame{{ts: base, data: payload(1, 1)}},
		failAtEnd: errors.New("packet poll failed"),
	}
	c := startFake(context.Background(), []*fakeRing{{}, broken}, 0, testTiming)
	defer c.Close()
	_, err := readAll(t, c)
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "capture on fake1: packet poll failed") {
		t.Fatalf("Next: %v, want the error of fake1", err)
	}
	if _, err := c.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the error: %v, want io.EOF", err)
	}
}

// TestBatchesFillUp sends more packets than a batch holds while the
// consumer is slow to start.
func TestBatchesFillUp(t *testing.T) {
	n := maxBatchPackets + 100
	base := time.Now().Add(-time.Minute)
	ring := &fakeRing{}
	for f := 1; f <= n; f++ {
		ring.frames = append(ring.frames, fakeFrame{ts: base.Add(time.Duration(f) * time.Microsecond), data: payload(0, f)})
	}
	big := &fakeRing{}
	for f := 1; f <= 9; f++ { // 1 MiB frames: a batch holds 4
		d := make([]byte, 1<<20)
		copy(d, payload(1, f))
		big.frames = append(big.frames, fakeFrame{ts: base.Add(time.Duration(f) * time.Millisecond), data: d})
	}
	c := startFake(context.Background(), []*fakeRing{ring, big}, n+9, testTiming)
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	var got []collected
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d := p.Data
		if p.Input == 1 {
			if len(d) != 1<<20 {
				t.Fatalf("big frame %d has %d bytes", p.Frame, len(d))
			}
			d = d[:len(payload(1, p.Frame))]
		}
		got = append(got, collected{p.Input, p.Frame, p.Info.Timestamp, append([]byte(nil), d...)})
	}
	checkStream(t, got, []int{n, 9})
}

func TestFramesBeforeStartDropped(t *testing.T) {
	now := time.Now()
	ring := &fakeRing{frames: []fakeFrame{
		{ts: now.Add(-2 * time.Hour), data: []byte("before the filter")},
		{ts: now.Add(-time.Minute), data: payload(0, 1)},
		{ts: now.Add(-time.Minute + time.Millisecond), data: payload(0, 2)},
	}}
	c := startFake(context.Background(), []*fakeRing{ring}, 2, testTiming)
	defer c.Close()
	got, err := readAll(t, c)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next: %v", err)
	}
	checkStream(t, got, []int{2})
}
