package packet

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkDecode decodes the real frames of the test captures (Ethernet
// and Linux SLL2), one frame per operation.
func BenchmarkDecode(b *testing.B) {
	frames := append(readFrames(b, "ens.pcap"), readFrames(b, "any-40.pcap")...)
	size := 0
	for _, f := range frames {
		size += len(f.data)
	}
	b.SetBytes(int64(size / len(frames)))
	b.ReportAllocs()
	d := NewDecoder()
	b.ResetTimer()
	for i := range b.N {
		f := frames[i%len(frames)]
		if _, err := d.Decode(f.lt, f.data); err != nil && !errors.Is(err, ErrNotTCP) {
			b.Fatal(err)
		}
	}
}

// BenchmarkGopacketNewPacket is the allocating alternative, for comparison.
func BenchmarkGopacketNewPacket(b *testing.B) {
	frames := append(readFrames(b, "ens.pcap"), readFrames(b, "any-40.pcap")...)
	b.ReportAllocs()
	for i := range b.N {
		f := frames[i%len(frames)]
		p := gopacket.NewPacket(f.data, f.lt, gopacket.NoCopy)
		_ = p.Layer(layers.LayerTypeTCP)
	}
}
