package capture

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// collect reads src to its end and copies every packet.
func collect(t *testing.T, src Source) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for {
		p, err := src.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		q := *p
		q.Data = bytes.Clone(p.Data)
		out = append(out, q)
	}
}

func TestPrefetcherSameAsSource(t *testing.T) {
	paths := []string{
		filepath.Join("testdata", "both-300.pcapng"),
		filepath.Join("testdata", "token-issue-lo.pcap"),
		filepath.Join("testdata", "token-issue-ens.pcap"),
	}
	want, err := collect(t, open(t, FileOptions{}, paths...))
	if err != nil {
		t.Fatal(err)
	}
	src := open(t, FileOptions{}, paths...)
	pf := NewPrefetcher(src)
	got, err := collect(t, pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if len(got) != len(want) || len(want) < 300 {
		t.Fatalf("got %d packets through the prefetcher, %d straight", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !bytes.Equal(w.Data, g.Data) || !w.Info.Timestamp.Equal(g.Info.Timestamp) || w.Info.CaptureLength != g.Info.CaptureLength ||
			w.Info.Length != g.Info.Length || w.LinkType != g.LinkType || w.Input != g.Input || w.Frame != g.Frame {
			t.Fatalf("packet %d differs: got input %d frame %d %v, want input %d frame %d %v", i, g.Input, g.Frame, g.Info, w.Input, w.Frame, w.Info)
		}
	}
	// The source's own accounting is there after Close.
	var n int
	for _, in := range src.Inputs() {
		n += in.Packets
	}
	if n != len(want) {
		t.Errorf("inputs count %d packets, want %d", n, len(want))
	}
}

// patternSource yields packets of the given sizes, all in one buffer that it
// overwrites on every call (as the file readers do), then err.
type patternSource struct {
	sizes  []int
	err    error
	buf    []byte
	i      int
	closed atomic.Bool
}

func (s *patternSource) Next() (*Packet, error) {
	if s.i >= len(s.sizes) {
		return nil, s.err
	}
	n := s.sizes[s.i]
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	for j := range s.buf {
		s.buf[j] = byte(s.i + j)
	}
	s.i++
	return &Packet{Data: s.buf, Frame: s.i, LinkType: layers.LinkTypeEthernet,
		Info: gopacket.CaptureInfo{Timestamp: time.Unix(int64(s.i), 0), CaptureLength: n, Length: n}}, nil
}

func (s *patternSource) Close() error { s.closed.Store(true); return nil }

func TestPrefetcherFramesAndErrors(t *testing.T) {
	// Small frames fill batches by count, 1500-byte ones by bytes, frames
	// bigger than a batch get their own, empty ones take no room.
	var sizes []int
	for i := range 3000 {
		switch {
		case i%997 == 0:
			sizes = append(sizes, prefetchBytes+12345)
		case i%3 == 0:
			sizes = append(sizes, 60)
		case i%5 == 0:
			sizes = append(sizes, 0)
		default:
			sizes = append(sizes, 1514)
		}
	}
	boom := errors.New("boom")
	src := &patternSource{sizes: sizes, err: boom}
	pf := NewPrefetcher(src)
	got, err := collect(t, pf)
	if !errors.Is(err, boom) {
		t.Fatalf("error after the packets: %v, want %v", err, boom)
	}
	if _, err := pf.Next(); !errors.Is(err, boom) {
		t.Errorf("Next after the error: %v, want it again", err)
	}
	if len(got) != len(sizes) {
		t.Fatalf("got %d packets, want %d", len(got), len(sizes))
	}
	for i, p := range got {
		if len(p.Data) != sizes[i] || p.Frame != i+1 || p.Info.Timestamp.Unix() != int64(i+1) {
			t.Fatalf("packet %d: %d bytes, frame %d; want %d bytes, frame %d", i, len(p.Data), p.Frame, sizes[i], i+1)
		}
		for j, b := range p.Data {
			if b != byte(i+j) {
				t.Fatalf("packet %d byte %d = %d, want %d: frame overwritten", i, j, b, byte(i+j))
			}
		}
	}
	pf.Close()
	if !src.closed.Load() {
		t.Error("Close did not close the source")
	}
}

// endlessSource never ends.
type endlessSource struct {
	pkt    Packet
	closed atomic.Bool
}

func (s *endlessSource) Next() (*Packet, error) { return &s.pkt, nil }
func (s *endlessSource) Close() error           { s.closed.Store(true); return nil }

func TestPrefetcherCloseEarly(t *testing.T) {
	src := &endlessSource{pkt: Packet{Data: make([]byte, 1514)}}
	pf := NewPrefetcher(src)
	for range 10 {
		if _, err := pf.Next(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { pf.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs while the reader is blocked")
	}
	if !src.closed.Load() {
		t.Error("Close did not close the source")
	}
	if _, err := pf.Next(); err == nil {
		t.Error("Next after Close: no error")
	}
	if err := pf.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
