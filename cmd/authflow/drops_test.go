package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/sequence"
)

// TestKernelDropsAreReported checks, on the lab's capture made with a
// one-page ring (the kernel dropped 1103 packets on veth-ctl and 62 on
// lo), that the drops are said first among the warnings and in the JSON,
// and that the download that lost bytes to them says so, with the size
// its headers announced (it read "200 OK [1.5 MiB missing from capture]"
// with no word of drops; the client got all 4.3 MiB).
func TestKernelDropsAreReported(t *testing.T) {
	flow := analyzeJSON(t, filepath.Join(capturesDir, "kernel-drops", "drops.pcapng.gz"))
	want := []sequence.Drop{
		{File: "drops.pcapng.gz", Interface: "veth-ctl", Received: 3404, Dropped: 1103},
		{File: "drops.pcapng.gz", Interface: "lo", Received: 709, Dropped: 62},
	}
	if !slices.Equal(flow.Drops, want) {
		t.Errorf("drops %+v, want %+v", flow.Drops, want)
	}
	if len(flow.Warnings) == 0 || !strings.HasPrefix(flow.Warnings[0], "drops.pcapng.gz: the kernel dropped 1103 of 3404 packets on veth-ctl, 62 of 709 packets on lo") {
		t.Errorf("first warning: %q", flow.Warnings)
	}
	var download *sequence.Message
	for _, m := range flow.Messages {
		if m.Kind == openstack.ImageDownload {
			for _, a := range flow.Messages {
				if a.ReplyTo == m.Seq {
					download = a
				}
			}
		}
		if strings.Contains(m.Label, "missing from capture") || strings.Contains(m.Label, "[cut short]") {
			t.Errorf("message %d does not put its loss down to the drops: %s", m.Seq, m.Label)
		}
	}
	if download == nil || download.Label != "200 OK: 4.3 MiB [1.5 MiB of 4.3 MiB lost to kernel drops]" {
		t.Errorf("the download's answer: %+v", download)
	}
}

// TestKernelDropsCrafted: a small pcapng whose interface statistics block
// reports a drop, and a download missing one segment: the drop is
// reported and the download's loss put down to it; without the block the
// same capture says only that bytes are missing.
func TestKernelDropsCrafted(t *testing.T) {
	f := newCapFile()
	c := newConn(f, "198.18.0.100:40000", "198.18.0.11:9292")
	c.handshake()
	c.sendString(false, "GET /v2/images/127daaf5-e6b4-4ff9-b826-fc8c8571fffc/file HTTP/1.1\r\nHost: 198.18.0.11:9292\r\n\r\n")
	body := bytes.Repeat([]byte("QFI\xfb"), 2500)
	c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000\r\n\r\n")
	for i := 0; i < len(body); i += 1000 {
		if i == 3000 {
			c.sseq += 1000 // dropped by the kernel
			continue
		}
		c.send(true, body[i:i+1000])
	}
	c.close()

	write := func(name string, dropped uint64) string {
		var buf bytes.Buffer
		w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: f.link, SnapLength: f.snaplen, TimestampResolution: 9},
			pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "authflow test"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.recs {
			if err := w.WritePacket(r.ci, r.data); err != nil {
				t.Fatal(err)
			}
		}
		if dropped > 0 {
			st := pcapgo.NgInterfaceStatistics{LastUpdate: f.now, StartTime: hostileT0, EndTime: f.now,
				PacketsReceived: uint64(len(f.recs)) + dropped, PacketsDropped: dropped}
			if err := w.WriteInterfaceStats(0, st); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		dropped      uint64
		warning, ans string
	}{
		{1, fmt.Sprintf("drops.pcapng: the kernel dropped 1 of %d packets on eth0 while capturing", len(f.recs)+1), "200 OK: 9.8 KiB [1000 bytes of 9.8 KiB lost to kernel drops]"},
		{0, "", "200 OK: 9.8 KiB [1000 bytes missing from capture]"},
	} {
		flow := analyzeJSON(t, write("drops.pcapng", tc.dropped))
		var first string
		if len(flow.Warnings) > 0 {
			first = flow.Warnings[0]
		}
		if tc.warning != "" && !strings.HasPrefix(first, tc.warning) || tc.warning == "" && strings.Contains(first, "kernel") {
			t.Errorf("dropped %d: first warning %q", tc.dropped, first)
		}
		if (len(flow.Drops) > 0) != (tc.dropped > 0) {
			t.Errorf("dropped %d: drops %+v", tc.dropped, flow.Drops)
		}
		var got []string
		for _, m := range flow.Messages {
			if m.Status != 0 {
				got = append(got, m.Label)
			}
		}
		if !slices.Equal(got, []string{tc.ans}) {
			t.Errorf("dropped %d: answers %q, want %q", tc.dropped, got, tc.ans)
		}
	}
}
