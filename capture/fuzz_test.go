package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// FuzzOpenFile feeds arbitrary bytes to the file reader, as one file read
// with one reader per pcapng interface and as a pipe. It must not panic or
// hang, frames must be numbered sanely and errors must be one line naming
// the file. Errors are otherwise fine.
func FuzzOpenFile(f *testing.F) {
	for _, name := range []string{"token-issue-ens.pcap", "bad-password-ens.pcap"} {
		b := readFixture(f, name)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add(readFixture(f, "both-300.pcapng")[:6000])
	f.Add(readFixture(f, "any-200.pcap")[:3000])
	f.Add(gzipBytes(f, readFixture(f, "bad-password-ens.pcap")))
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Add(pcapFile(binary.BigEndian, true, 100, uint32(layers.LinkTypeRaw),
		synthPkt{ts: ts, data: frameData(1, 40)}, synthPkt{ts: ts.Add(-time.Second), data: frameData(2, 30), orig: 90}))
	var ng ngFile
	ng.section(binary.LittleEndian)
	ng.iface(1, 0, 9, "a")
	ng.iface(113, 0, 0, "b")
	ng.packet(1, uint64(ts.UnixMicro()), frameData(1, 30), 0)
	ng.packet(0, uint64(ts.UnixNano()-1), frameData(2, 30), 0)
	ng.section(binary.BigEndian)
	ng.iface(276, 100, 9, "c")
	ng.packet(0, uint64(ts.UnixNano()), frameData(3, 30), 0)
	f.Add(ng.b)
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, split := range []bool{true, false} {
			s, err := openInputs([]inputSpec{memSpec("fuzz", data, split)}, FileOptions{})
			if err != nil {
				if !strings.Contains(err.Error(), "fuzz: ") {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			seen := map[int]bool{}
			n := 0
			for {
				p, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				n++
				if n > len(data) {
					t.Fatalf("%d packets from %d bytes", n, len(data))
				}
				if p.Frame < 1 || seen[p.Frame] {
					t.Fatalf("frame %d repeated or out of range", p.Frame)
				}
				seen[p.Frame] = true
				if len(p.Data) != p.Info.CaptureLength || len(p.Data) > maxCaptureLength {
					t.Fatalf("frame %d: %d bytes, capture length %d", p.Frame, len(p.Data), p.Info.CaptureLength)
				}
			}
			for _, err := range s.Errors() {
				if msg := err.Error(); !strings.HasPrefix(msg, "fuzz: ") || strings.Contains(msg, "\n") {
					t.Fatalf("bad error message %q", msg)
				}
			}
			if info := s.Inputs()[0]; info.Packets != n {
				t.Fatalf("Inputs says %d packets, got %d", info.Packets, n)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
