package capture

import (
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// slot holds one packet copied out of a reader's buffer.
type slot struct {
	data  []byte
	ci    gopacket.CaptureInfo
	lt    layers.LinkType
	frame int
}

// before orders the packets of one stream: by time, then by frame.
func (a *slot) before(b *slot) bool {
	if c := a.ci.Timestamp.Compare(b.ci.Timestamp); c != 0 {
		return c < 0
	}
	return a.frame < b.frame
}

// window is the reorder buffer of one stream: a min-heap of the packets read
// ahead. Its first packet may go out (ready) once the window holds its
// maximum number of packets or bytes, or a packet later than it by the
// window's span was read: a packet older than that is taken to be too far
// out of order to wait for. Slots are reused, so steady reading does not
// allocate.
type window struct {
	h          []*slot
	free       []*slot
	latest     time.Time // latest timestamp pushed
	bytes      int
	maxPackets int
	span       time.Duration
}

func (w *window) init(opts FileOptions) {
	w.maxPackets = opts.ReorderPackets
	w.span = opts.ReorderWindow
}

func (w *window) len() int { return len(w.h) }

func (w *window) head() *slot { return w.h[0] }

// ready reports whether the first packet may go out before more are read.
func (w *window) ready() bool {
	if len(w.h) == 0 {
		return false
	}
	return len(w.h) >= w.maxPackets || w.bytes >= reorderBytes ||
		w.latest.Sub(w.h[0].ci.Timestamp) >= w.span
}

// push copies a packet into the window.
func (w *window) push(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, frame int) {
	var s *slot
	if n := len(w.free); n > 0 {
		s = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		s = new(slot)
	}
	s.data = append(s.data[:0], data...)
	s.ci, s.lt, s.frame = ci, lt, frame
	if len(w.h) == 0 || ci.Timestamp.After(w.latest) {
		w.latest = ci.Timestamp
	}
	w.bytes += len(data)
	w.h = append(w.h, s)
	w.up(len(w.h) - 1)
}

// pop removes the first packet. Its slot stays valid until release.
func (w *window) pop() *slot {
	s := w.h[0]
	n := len(w.h) - 1
	w.h[0] = w.h[n]
	w.h[n] = nil
	w.h = w.h[:n]
	if n > 0 {
		w.down(0)
	}
	w.bytes -= len(s.data)
	return s
}

// release returns a popped slot for reuse.
func (w *window) release(s *slot) {
	w.free = append(w.free, s)
}

func (w *window) up(i int) {
	h := w.h
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (w *window) down(i int) {
	h := w.h
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// streamHeap merges the readers by the timestamp of their first packet;
// ties go to the earlier input, then to the earlier frame.
type streamHeap struct {
	s []*reader
}

func streamBefore(a, b *reader) bool {
	x, y := a.win.head(), b.win.head()
	if c := x.ci.Timestamp.Compare(y.ci.Timestamp); c != 0 {
		return c < 0
	}
	if a.in.idx != b.in.idx {
		return a.in.idx < b.in.idx
	}
	return x.frame < y.frame
}

func (h *streamHeap) len() int { return len(h.s) }

func (h *streamHeap) top() *reader { return h.s[0] }

func (h *streamHeap) push(r *reader) {
	h.s = append(h.s, r)
	i := len(h.s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !streamBefore(h.s[i], h.s[p]) {
			break
		}
		h.s[i], h.s[p] = h.s[p], h.s[i]
		i = p
	}
}

// fixTop restores the order after the first reader's head changed.
func (h *streamHeap) fixTop() {
	s := h.s
	n := len(s)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && streamBefore(s[r], s[l]) {
			m = r
		}
		if !streamBefore(s[m], s[i]) {
			return
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

// popTop removes the first reader.
func (h *streamHeap) popTop() {
	n := len(h.s) - 1
	h.s[0] = h.s[n]
	h.s[n] = nil
	h.s = h.s[:n]
	if n > 0 {
		h.fixTop()
	}
}
