package capture

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestOffsetsShiftAndMerge checks FileOptions.Offsets: every packet of an
// input is moved by its offset before the merge, so two captures of one
// clock shifted apart come out interleaved again, and the other inputs are
// left alone.
func TestOffsetsShiftAndMerge(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const shift = 2500 * time.Millisecond
	var a, b []synthPkt
	for i := range 10 {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		if i%2 == 0 {
			a = append(a, synthPkt{ts: ts, data: frameData(byte(i), 60)})
		} else {
			// b's clock is shift ahead.
			b = append(b, synthPkt{ts: ts.Add(shift), data: frameData(byte(i), 60)})
		}
	}
	eth := uint32(layers.LinkTypeEthernet)
	pa := writeTemp(t, "a.pcap", pcapFile(binary.LittleEndian, false, 65535, eth, a...))
	pb := writeTemp(t, "b.pcap", pcapFile(binary.LittleEndian, true, 65535, eth, b...))
	pc := writeTemp(t, "c.pcap", pcapFile(binary.LittleEndian, false, 65535, eth, a[:1]...))

	tests := []struct {
		name    string
		offsets []time.Duration
		inputs  []int // input of each packet, in the order delivered
		first   []time.Duration
	}{
		{"none", nil, []int{0, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1}, []time.Duration{0, shift + time.Millisecond, 0}},
		{"zeros", []time.Duration{0, 0, 0}, []int{0, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1}, []time.Duration{0, shift + time.Millisecond, 0}},
		{"b back", []time.Duration{0, -shift}, []int{0, 2, 1, 0, 1, 0, 1, 0, 1, 0, 1}, []time.Duration{0, time.Millisecond, 0}},
		{"a forward", []time.Duration{shift, 0, shift}, []int{0, 2, 1, 0, 1, 0, 1, 0, 1, 0, 1}, []time.Duration{shift, shift + time.Millisecond, shift}},
		{"too far", []time.Duration{0, -shift - time.Second}, []int{1, 1, 1, 1, 1, 0, 2, 0, 0, 0, 0}, []time.Duration{0, -time.Second + time.Millisecond, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, FileOptions{Offsets: tt.offsets}, pa, pb, pc)
			pkts := drain(t, s)
			checkOrdered(t, pkts)
			var inputs []int
			for _, p := range pkts {
				inputs = append(inputs, p.input)
				var off time.Duration
				if p.input < len(tt.offsets) {
					off = tt.offsets[p.input]
				}
				src := a
				if p.input == 1 {
					src = b
				}
				if want := src[p.frame-1].ts.Add(off); !p.ts.Equal(want) {
					t.Errorf("input %d frame %d at %v, want %v", p.input, p.frame, p.ts, want)
				}
			}
			if !slices.Equal(inputs, tt.inputs) {
				t.Errorf("inputs in order %v, want %v", inputs, tt.inputs)
			}
			for i, info := range s.Inputs() {
				if got := info.First.Sub(base); got != tt.first[i] {
					t.Errorf("input %d: First = base%+v, want base%+v", i, got, tt.first[i])
				}
			}
		})
	}
}

// TestOffsetsPcapng checks that the offset of a pcapng input reaches the
// packets of every interface, each read by its own reader.
func TestOffsetsPcapng(t *testing.T) {
	path := filepath.Join("testdata", "both-300.pcapng")
	ref := reference(t, path)
	const shift = -1234567 * time.Microsecond
	s := open(t, FileOptions{Offsets: []time.Duration{shift}}, path)
	pkts := drain(t, s)
	if len(pkts) != len(ref) {
		t.Fatalf("%d packets, want %d", len(pkts), len(ref))
	}
	checkOrdered(t, pkts)
	ifaces := map[int]bool{}
	for _, p := range pkts {
		ifaces[p.iface] = true
		if want := ref[p.frame-1].ts.Add(shift); !p.ts.Equal(want) {
			t.Fatalf("frame %d at %v, want %v", p.frame, p.ts, want)
		}
	}
	if len(ifaces) != 2 {
		t.Errorf("packets of %d interfaces, want 2", len(ifaces))
	}
}

func TestOffsetsTooMany(t *testing.T) {
	path := filepath.Join("testdata", "token-issue-ens.pcap")
	_, err := OpenFiles([]string{path}, FileOptions{Offsets: []time.Duration{0, time.Second}})
	if err == nil || !strings.Contains(err.Error(), "2 clock offsets given for 1 capture files") {
		t.Fatalf("OpenFiles with 2 offsets for 1 file: err = %v", err)
	}
}

// TestOffsetsDoNotAllocate checks that shifting timestamps keeps reading a
// packet free of allocations.
func TestOffsetsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a few thousand packets")
	}
	big := bigPcap(t, readFixture(t, "token-issue-lo.pcap"), 20)
	ng := batchedPcapng(3000, 100)
	specs := []inputSpec{memSpec("lo.pcap", big, true), memSpec("batched.pcapng", ng, true)}
	s, err := openInputs(specs, FileOptions{Offsets: []time.Duration{3 * time.Second, -time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	for range 600 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet with offsets", allocs)
	}
}
