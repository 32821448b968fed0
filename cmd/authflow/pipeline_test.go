package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/sequence"
)

// replaySource hands over the packets of a capture file one by one, as the
// live capture hands over what it reads from the kernel.
type replaySource struct {
	r     *pcapgo.Reader
	frame int
	p     capture.Packet
}

func (s *replaySource) Next() (*capture.Packet, error) {
	data, ci, err := s.r.ReadPacketData()
	if err != nil {
		return nil, err
	}
	s.frame++
	s.p = capture.Packet{Data: data, Info: ci, LinkType: s.r.LinkType(), Frame: s.frame}
	return &s.p, nil
}

func (s *replaySource) Close() error { return nil }

// TestCaptureMatchesAnalyze feeds one real capture through both ways in:
// analyze reading the file, and capture's path (the packets replayed as a
// live source, written to a capture file and decoded as they come, the
// flow written with -o). The JSON must be the same, findings included.
func TestCaptureMatchesAnalyze(t *testing.T) {
	in := filepath.Join(capturesDir, "image-list-cold", "any.pcap.gz")
	want, stderr, code := runCLI(t, "analyze", "-f", "json", in)
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}

	o := &captureOptions{}
	o.addFlags(pflag.NewFlagSet("capture", pflag.ContinueOnError))
	dir := t.TempDir()
	// The flow names its input after the file capture writes: the same
	// base name as the file analyze read.
	o.write = filepath.Join(dir, filepath.Base(in))
	o.output = filepath.Join(dir, "flow.json")
	r := openPcap(t, in)
	w, err := live.NewPcapngWriter(o.write, []live.Interface{{Name: "any", LinkType: r.LinkType(), SnapLen: r.Snaplen()}})
	if err != nil {
		t.Fatal(err)
	}
	var errb, tl bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetErr(&errb)
	err = recordLive(cmd, o, "json", nil, recording{
		src:      &replaySource{r: r},
		stats:    func() []live.InterfaceStats { return []live.InterfaceStats{{Name: "any"}} },
		pcapng:   w,
		timeline: newTimeline(&tl, false, sequence.Options{Inputs: []string{filepath.Base(in)}}, o.pathPrefix),
	})
	if err != nil {
		t.Fatalf("capture: %v\n%s", err, errb.String())
	}
	got, err := os.ReadFile(o.output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("capture -o flow.json differs from analyze -f json:\n%s", firstDiff(want, string(got)))
	}
	var flow struct {
		Findings []json.RawMessage `json:"findings"`
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(got, &flow); err != nil {
		t.Fatal(err)
	}
	if len(flow.Findings) == 0 || len(flow.Messages) == 0 {
		t.Errorf("capture's flow has %d findings and %d messages; the capture has both", len(flow.Findings), len(flow.Messages))
	}
	if tl.Len() == 0 {
		t.Error("no timeline while capturing")
	}
	// What capture wrote analyses like the capture it replayed.
	again, stderr, code := runCLI(t, "analyze", "-f", "json", o.write)
	if code != 0 {
		t.Fatalf("analyze of the written capture: exit %d: %s", code, stderr)
	}
	if again != want {
		t.Errorf("the written capture analyses differently:\n%s", firstDiff(want, again))
	}
}
