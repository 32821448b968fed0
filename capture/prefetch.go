package capture

import (
	"errors"
	"io"
	"sync"
)

// Sizes of the batches a Prefetcher hands from its reading goroutine to the
// consumer: a batch holds up to prefetchPackets packets whose frames fit in
// prefetchBytes (a bigger frame gets a batch of its own), and
// prefetchBatches batches circulate, so at most about 2 MiB of frames are
// in flight whatever the size of the capture.
const (
	prefetchBytes   = 256 << 10
	prefetchPackets = 512
	prefetchBatches = 8
)

// batch is a run of packets whose frames are copied into one buffer. err,
// when set, ends the source after the packets.
type batch struct {
	buf  []byte
	pkts []Packet
	err  error
}

// Prefetcher reads a Source in its own goroutine, so that reading and
// merging the files runs on one core while the consumer decodes on another.
// Frames are copied into a few recycled buffers; nothing is allocated per
// packet and memory does not grow with the capture.
type Prefetcher struct {
	src  Source
	full chan *batch
	free chan *batch
	done chan struct{}
	wg   sync.WaitGroup

	cur    *batch
	i      int // index of the next packet in cur
	closed bool
}

// NewPrefetcher starts reading src in a new goroutine. The source must not
// be used by anyone else until Close returns; Close stops the goroutine and
// closes src.
func NewPrefetcher(src Source) *Prefetcher {
	p := &Prefetcher{
		src:  src,
		full: make(chan *batch, prefetchBatches),
		free: make(chan *batch, prefetchBatches),
		done: make(chan struct{}),
	}
	for range prefetchBatches {
		p.free <- &batch{buf: make([]byte, 0, prefetchBytes), pkts: make([]Packet, 0, prefetchPackets)}
	}
	p.wg.Add(1)
	go p.read()
	return p
}

// read is the reading goroutine: it fills free batches and sends them on
// until the source ends or Close is called.
func (p *Prefetcher) read() {
	defer p.wg.Done()
	defer close(p.full)
	var cur *batch
	take := func() bool {
		select {
		case cur = <-p.free:
			cur.buf, cur.pkts, cur.err = cur.buf[:0], cur.pkts[:0], nil
			return true
		case <-p.done:
			return false
		}
	}
	send := func() bool {
		select {
		case p.full <- cur:
			cur = nil
			return true
		case <-p.done:
			return false
		}
	}
	for {
		if cur == nil && !take() {
			return
		}
		pkt, err := p.src.Next()
		if err != nil {
			cur.err = err
			send()
			return
		}
		n := len(pkt.Data)
		if len(cur.buf)+n > cap(cur.buf) {
			if len(cur.pkts) > 0 {
				// The frame stays valid: the source is not called again
				// before it is copied.
				if !send() || !take() {
					return
				}
			}
			if n > cap(cur.buf) {
				cur.buf = make([]byte, 0, n)
			}
		}
		off := len(cur.buf)
		cur.buf = append(cur.buf, pkt.Data...)
		cur.pkts = append(cur.pkts, *pkt)
		cur.pkts[len(cur.pkts)-1].Data = cur.buf[off:len(cur.buf):len(cur.buf)]
		if len(cur.pkts) == cap(cur.pkts) && !send() {
			return
		}
	}
}

// Next returns the next packet of the source, or its error (io.EOF at the
// end). The packet and its Data are valid until the next call.
func (p *Prefetcher) Next() (*Packet, error) {
	if p.closed {
		return nil, errors.New("capture: prefetcher is closed")
	}
	for p.cur == nil || p.i >= len(p.cur.pkts) {
		if p.cur != nil {
			if p.cur.err != nil {
				return nil, p.cur.err
			}
			p.free <- p.cur // never blocks: free holds every batch
			p.cur = nil
		}
		b, ok := <-p.full
		if !ok {
			return nil, io.EOF
		}
		p.cur, p.i = b, 0
	}
	pkt := &p.cur.pkts[p.i]
	p.i++
	return pkt, nil
}

// Close stops the reading goroutine, waits for it and closes the source.
// After Close the source's own methods (errors, counts) may be used again.
func (p *Prefetcher) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.done)
	p.wg.Wait()
	return p.src.Close()
}
