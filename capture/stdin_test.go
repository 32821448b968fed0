package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// countPackets reads src to its end.
func countPackets(t *testing.T, src *FileSource) (n int, frames []int) {
	t.Helper()
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			return n, frames
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n <= 5 {
			frames = append(frames, p.Frame)
		}
	}
}

// TestStdin: "-" reads a capture stream (here the lab's gzip'd pcap of the
// token storm, and pcapng) from FileOptions.Stdin, once, with the packets
// reading the file gives; naming it twice is an error for the second.
func TestStdin(t *testing.T) {
	for _, path := range []string{"../testdata/captures/token-storm/ens.pcap.gz", "../testdata/captures/kernel-drops/drops.pcapng.gz"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := OpenFiles([]string{path}, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wn, wf := countPackets(t, want)
		want.Close()
		got, err := OpenFiles([]string{StdinPath, StdinPath}, FileOptions{Stdin: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		gn, gf := countPackets(t, got)
		if gn != wn || wn == 0 || len(gf) != len(wf) {
			t.Errorf("%s: %d packets from stdin, %d from the file", path, gn, wn)
		}
		for i := range gf {
			if gf[i] != wf[i] {
				t.Errorf("%s: frames %v from stdin, %v from the file", path, gf, wf)
				break
			}
		}
		if errs := got.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "standard input named twice") {
			t.Errorf("%s: errors %v, want one for the second -", path, errs)
		}
		got.Close()
	}
}
