package clocksync

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// BenchmarkEstimate estimates the offset between two captures of 68 880
// packets each (the real image-save ens.pcap repeated 20 times, later each
// time, and a copy 2.5 s ahead); MB/s counts the bytes of both files.
func BenchmarkEstimate(b *testing.B) {
	pkts := readAllLT(b, imageSaveEns)
	span := pkts[len(pkts)-1].ts.Sub(pkts[0].ts) + time.Second
	dir := b.TempDir()
	var size int64
	write := func(name string, shift time.Duration) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := pcapgo.NewWriterNanos(f)
		if err := w.WriteFileHeader(262144, pkts[0].lt); err != nil {
			b.Fatal(err)
		}
		for rep := range 20 {
			for i, p := range pkts {
				// Change the IP identification of each copy, so that
				// the repeats are different segments.
				data := append([]byte(nil), p.data...)
				data[14+4] ^= byte(rep)
				data[14+5] ^= byte(i)
				ci := gopacket.CaptureInfo{Timestamp: p.ts.Add(time.Duration(rep)*span + shift), CaptureLength: len(data), Length: p.length}
				if err := w.WritePacket(ci, data); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		st, _ := os.Stat(path)
		size += st.Size()
		return path
	}
	paths := []string{write("a.pcap", 0), write("b.pcap", 2500*time.Millisecond)}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := Estimate(paths, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Pairs) != 1 || res.Pairs[0].Offset != 2500*time.Millisecond {
			b.Fatalf("pairs %+v", res.Pairs)
		}
	}
}
