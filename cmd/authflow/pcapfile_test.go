package main

import (
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// openPcap opens a pcap file, gzip-compressed when its name ends in .gz,
// with plain pcapgo (not authflow's reader, which the tests check). The
// file is closed when the test ends.
func openPcap(t testing.TB, path string) *pcapgo.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}
