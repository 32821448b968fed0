package clocksync

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow/capture"
)

// imageSaveEns is the real capture of the controller's NIC during
// `openstack image save` (committed with the project's capture set).
var imageSaveEns = filepath.Join("..", "..", "testdata", "captures", "image-save", "ens.pcap.gz")

// pkt is a packet read back, copied.
type pkt struct {
	input, frame int
	ts           time.Time
	data         []byte
}

// readAll reads capture files merged, with the given clock offsets.
func readAll(t *testing.T, offsets []time.Duration, paths ...string) []pkt {
	t.Helper()
	src, err := capture.OpenFiles(paths, capture.FileOptions{Offsets: offsets})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []pkt
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pkt{p.Input, p.Frame, p.Info.Timestamp, append([]byte(nil), p.Data...)})
	}
	if errs := src.Errors(); len(errs) > 0 {
		t.Fatalf("reading %v: %v", paths, errs)
	}
	return out
}

// shiftedCopy writes the packets of src to a new pcap file in a temporary
// directory, each moved by shift, keeping only those keep accepts (nil:
// all) and cutting each to snaplen bytes (0: whole). It returns the new
// file and the frame number in src of each of its packets.
func shiftedCopy(t *testing.T, src, name string, shift time.Duration, keep func(frame int) bool, snaplen int) (string, []int) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriterNanos(f)
	header := false
	var frames []int
	for _, p := range readAllLT(t, src) {
		if !header {
			if err := w.WriteFileHeader(262144, p.lt); err != nil {
				t.Fatal(err)
			}
			header = true
		}
		if keep != nil && !keep(p.frame) {
			continue
		}
		data := p.data
		if snaplen > 0 && len(data) > snaplen {
			data = data[:snaplen]
		}
		frames = append(frames, p.frame)
		ci := gopacket.CaptureInfo{Timestamp: p.ts.Add(shift), CaptureLength: len(data), Length: p.length}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst, frames
}

type ltPkt struct {
	pkt
	lt     layers.LinkType
	length int
}

// readAllLT reads one capture file in time order, with link types.
func readAllLT(t testing.TB, path string) []ltPkt {
	t.Helper()
	src, err := capture.OpenFiles([]string{path}, capture.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []ltPkt
	for {
		p, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ltPkt{
			pkt:    pkt{p.Input, p.Frame, p.Info.Timestamp, append([]byte(nil), p.Data...)},
			lt:     p.LinkType,
			length: p.Info.Length,
		})
	}
}

// TestShiftedCopy is the check on real traffic: a capture and a copy
// of it with the clock 2.5 s ahead merge back into one flow with the copy's
// packets next to their originals.
func TestShiftedCopy(t *testing.T) {
	const shift = 2500 * time.Millisecond
	tests := []struct {
		name    string
		keep    func(frame int) bool
		snaplen int
	}{
		{name: "whole"},
		// The copy missed a third of the packets (a capture filter, drops)
		// and was taken with a 96-byte snap length.
		{name: "partial", keep: func(frame int) bool { return frame%3 != 0 }, snaplen: 96},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			copyPath, frames := shiftedCopy(t, imageSaveEns, "ens-shifted.pcap", shift, tt.keep, tt.snaplen)
			paths := []string{imageSaveEns, copyPath}
			res, err := Estimate(paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Pairs) != 1 {
				t.Fatalf("pairs %+v, want one", res.Pairs)
			}
			p := res.Pairs[0]
			t.Logf("estimate %v ± %v from %d segments (%d seen first in A); %s", p.Offset, p.Uncertainty, p.Segments, p.Forward, res)
			if err := (p.Offset - shift).Abs(); err > time.Millisecond {
				t.Fatalf("offset %v, off by %v", p.Offset, err)
			}
			// One capture point: every segment has the same difference.
			if p.Offset != shift || p.Uncertainty != 0 || p.OneWay {
				t.Errorf("pair %+v, want exactly %v ± 0", p, shift)
			}
			if p.Segments < 1000 {
				t.Errorf("only %d segments matched", p.Segments)
			}
			if res.Offsets[0] != 0 || res.Offsets[1] != -shift {
				t.Errorf("Offsets = %v", res.Offsets)
			}
			want := "ens-shifted.pcap: clock 2.500 s ahead of ens.pcap.gz (±0 µs, "
			if line := res.Line(1); !strings.HasPrefix(line, want) {
				t.Errorf("Line(1) = %q, want prefix %q", line, want)
			}
			if res.Line(0) != "" {
				t.Errorf("Line(0) = %q, want empty for the reference", res.Line(0))
			}

			// Merged with the offsets, each packet of the copy comes with
			// the same timestamp as its original, after it.
			merged := readAll(t, res.Offsets, paths...)
			orig := map[int]time.Time{}
			for i, q := range merged {
				if q.input == 0 {
					orig[q.frame] = q.ts
					continue
				}
				of := frames[q.frame-1]
				o, ok := orig[of]
				if !ok {
					t.Fatalf("copy of frame %d (packet %d) before its original", of, i)
				}
				if !q.ts.Equal(o) {
					t.Fatalf("copy of frame %d at %v, original at %v", of, q.ts, o)
				}
			}
			// Without them, the copy comes after the whole original.
			plain := readAll(t, nil, paths...)
			if last := plain[len(orig)-1]; last.input != 0 {
				t.Errorf("uncorrected merge: packet %d is from the copy", len(orig)-1)
			}
		})
	}
}

// TestOneHostChain uses three real captures made at once on the lab
// controller: the NIC (ens), the loopback (lo) and dumpcap on both
// (both.pcapng). ens and lo share no segments (different connections);
// both.pcapng shares segments with each and links lo to ens. One kernel
// clock: every offset is within a microsecond or two of 0.
func TestOneHostChain(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "captures", "image-save")
	ens, both, lo := filepath.Join(dir, "ens.pcap.gz"), filepath.Join(dir, "both.pcapng.gz"), filepath.Join(dir, "lo.pcap.gz")

	res, err := Estimate([]string{ens, lo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) != 0 || res.Offsets[0] != 0 || res.Offsets[1] != 0 {
		t.Errorf("ens and lo: pairs %+v, offsets %v; want none", res.Pairs, res.Offsets)
	}
	want := "ens.pcap.gz: no TCP segments in common with the other captures; clock left as recorded\n" +
		"lo.pcap.gz: no TCP segments in common with the other captures; clock left as recorded"
	if got := res.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}

	res, err = Estimate([]string{ens, lo, both}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", res.Pairs, res)
	if len(res.Pairs) != 2 {
		t.Fatalf("pairs %+v, want ens–both and lo–both", res.Pairs)
	}
	for i, in := range res.Inputs {
		if in.Ref != 0 || in.Offset.Abs() > 2*time.Microsecond {
			t.Errorf("input %d: Ref %d, Offset %v", i, in.Ref, in.Offset)
		}
	}
	if res.Inputs[1].Via != 2 || res.Inputs[2].Via != 0 {
		t.Errorf("lo via %d, both via %d; want lo via both, both via ens", res.Inputs[1].Via, res.Inputs[2].Via)
	}
	if line := res.Line(1); !strings.HasPrefix(line, "lo.pcap.gz: clock the same as ens.pcap.gz via both.pcapng.gz (±") {
		t.Errorf("Line(1) = %q", line)
	}
}

func TestEstimateInputs(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("hello, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pcap")
	udpOnly := filepath.Join(dir, "udp.pcap")
	writePcap(t, udpOnly, frame(ipPacket(t, func() tcpSpec { s := defaultSpec(); s.udp = true; return s }()), layers.LinkTypeEthernet, 0))

	if _, err := Estimate(nil, Options{}); err == nil {
		t.Error("Estimate(nil) did not fail")
	}

	res, err := Estimate([]string{imageSaveEns}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.String(); s != "" || res.Offsets[0] != 0 || res.Inputs[0].Packets != 3444 || res.Inputs[0].TCPSegments != 3444 {
		t.Errorf("one input: %q, %+v", s, res.Inputs[0])
	}

	res, err = Estimate([]string{imageSaveEns, missing, notCapture, udpOnly}, Options{MaxPackets: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inputs[0].Packets != 100 {
		t.Errorf("MaxPackets 100: read %d", res.Inputs[0].Packets)
	}
	for i, wantErr := range []string{"", "missing.pcap: no such file", "notes.txt: not a pcap or pcapng file", ""} {
		in := res.Inputs[i]
		if (in.Err == nil) != (wantErr == "") || in.Err != nil && !strings.Contains(in.Err.Error(), wantErr) {
			t.Errorf("input %d: Err %v, want %q", i, in.Err, wantErr)
		}
		if res.Offsets[i] != 0 || in.Ref != i {
			t.Errorf("input %d: offset %v ref %d", i, res.Offsets[i], in.Ref)
		}
	}
	lines := strings.Split(res.String(), "\n")
	want := []string{
		"ens.pcap.gz: no TCP segments in common with the other captures; clock left as recorded",
		"missing.pcap: clock not estimated: ",
		"notes.txt: clock not estimated: ",
		"udp.pcap: no TCP segments; clock left as recorded",
	}
	if len(lines) != len(want) {
		t.Fatalf("String() =\n%s", res.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
}

// TestNames checks that inputs with the same file name are named by path.
func TestNames(t *testing.T) {
	r := Result{Inputs: []Input{{Path: "a/ens.pcap"}, {Path: "b/ens.pcap"}, {Path: "c/lo.pcap"}}}
	for i, want := range []string{"a/ens.pcap", "b/ens.pcap", "lo.pcap"} {
		if got := r.name(i); got != want {
			t.Errorf("name(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		d           time.Duration
		offset, unc string
	}{
		{0, "0 µs", "0 µs"},
		{1499 * time.Nanosecond, "1 µs", "1 µs"},
		{99 * time.Microsecond, "99 µs", "99 µs"},
		{100 * time.Microsecond, "100 µs", "0.1 ms"},
		{1234567 * time.Nanosecond, "1.235 ms", "1.2 ms"},
		{2500 * time.Millisecond, "2.500 s", "2.500 s"},
		{3*time.Hour + 1500*time.Microsecond, "10800.002 s", "10800.002 s"},
	}
	for _, tt := range tests {
		if got := formatOffset(tt.d); got != tt.offset {
			t.Errorf("formatOffset(%v) = %q, want %q", tt.d, got, tt.offset)
		}
		if got := formatUncertainty(tt.d); got != tt.unc {
			t.Errorf("formatUncertainty(%v) = %q, want %q", tt.d, got, tt.unc)
		}
	}
}

// writePcap writes Ethernet frames to a pcap file, a millisecond apart.
func writePcap(t *testing.T, path string, frames ...[]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: simBase.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
