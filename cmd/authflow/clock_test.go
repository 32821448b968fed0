package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// shiftCapture writes a copy of a gzip'd pcap with every timestamp moved
// by d, as if recorded on a host whose clock is d ahead.
func shiftCapture(t *testing.T, in, out string, d time.Duration) {
	t.Helper()
	r := openPcap(t, in)
	o, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	w := pcapgo.NewWriterNanos(o)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		ci.Timestamp = ci.Timestamp.Add(d)
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClockSyncMergesShiftedCaptures merges the client side of image-save
// with a second capture of the same traffic on a clock 2.5 s ahead: the
// offset is found and corrected, so the flow is the one of the first
// capture alone; without correction it is not.
func TestClockSyncMergesShiftedCaptures(t *testing.T) {
	ens := filepath.Join(capturesDir, "image-save", "ens.pcap.gz")
	shifted := filepath.Join(t.TempDir(), "other-host.pcap")
	shiftCapture(t, ens, shifted, 2500*time.Millisecond)

	alone := flowLines(analyzeJSON(t, ens))
	out, stderr, code := runCLI(t, "analyze", "-f", "json", ens, shifted)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "other-host.pcap: clock 2.500 s ahead of ens.pcap.gz") {
		t.Errorf("the correction is not reported: %q", stderr)
	}
	merged := flowLines(decodeFlow(t, out))
	if strings.Join(merged, "\n") != strings.Join(alone, "\n") {
		t.Errorf("corrected merge differs from the capture alone:\n%s\nwant:\n%s", strings.Join(merged, "\n"), strings.Join(alone, "\n"))
	}
	unsynced := flowLines(analyzeJSON(t, "--clock-sync", "off", ens, shifted))
	if strings.Join(unsynced, "\n") == strings.Join(alone, "\n") {
		t.Errorf("without correction the merge should differ (the test would be vacuous)")
	}
}
