package clocksync

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// labClient is the client's address in the lab; the controller is the
// other end of every connection in the lab captures.
var labClient = netip.MustParseAddr("198.18.0.100")

// TestLabTwoPoints uses real captures made at both ends of the lab's veth
// pair (see testdata/README.md): one kernel clock, so the true offset is 0
// and a packet is seen first at its sender, 0.4 to 70 µs before the other
// end. One file is then moved by a known offset, and may lose packets and
// bytes, as a capture on another host with a filter and a snap length
// would; the estimate must find the offset within 1 ms (it does within a
// microsecond), and the merge must put every packet at its sender first.
func TestLabTwoPoints(t *testing.T) {
	td := func(name string) string { return filepath.Join("testdata", name) }
	tests := []struct {
		name        string
		client, ctl string
		shiftCtl    time.Duration // moved: the controller file, or with
		shiftClient time.Duration // these, the client file
		keep        func(frame int) bool
		snaplen     int
		minSegments int
	}{
		{name: "token as recorded", client: td("lab-token-client.pcap.gz"), ctl: td("lab-token-ctl.pcap.gz"), minSegments: 46},
		{name: "token, controller 2.5 s ahead", client: td("lab-token-client.pcap.gz"), ctl: td("lab-token-ctl.pcap.gz"),
			shiftCtl: 2500 * time.Millisecond, minSegments: 46},
		{name: "token, client 1.75 s behind, cut", client: td("lab-token-client.pcap.gz"), ctl: td("lab-token-ctl.pcap.gz"),
			shiftClient: -1750 * time.Millisecond, keep: func(f int) bool { return f > 5 && f%4 != 0 }, snaplen: 66, minSegments: 25},
		{name: "image save as recorded", client: td("lab-save-client-600.pcap.gz"), ctl: td("lab-save-ctl-600.pcap.gz"), minSegments: 590},
		{name: "image save, controller 2.5 s ahead", client: td("lab-save-client-600.pcap.gz"), ctl: td("lab-save-ctl-600.pcap.gz"),
			shiftCtl: 2500 * time.Millisecond, minSegments: 590},
		{name: "image save, controller 10 min behind, cut", client: td("lab-save-client-600.pcap.gz"), ctl: td("lab-save-ctl-600.pcap.gz"),
			shiftCtl: -10 * time.Minute, keep: func(f int) bool { return f%3 != 1 }, snaplen: 54 + 12, minSegments: 390},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, ctl := tt.client, tt.ctl
			if tt.shiftCtl != 0 || tt.keep != nil && tt.shiftClient == 0 {
				ctl, _ = shiftedCopy(t, ctl, "ctl.pcap", tt.shiftCtl, tt.keep, tt.snaplen)
			}
			if tt.shiftClient != 0 {
				client, _ = shiftedCopy(t, client, "client.pcap", tt.shiftClient, tt.keep, tt.snaplen)
			}
			truth := tt.shiftCtl - tt.shiftClient // the controller's clock minus the client's
			paths := []string{client, ctl}
			res, err := Estimate(paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Pairs) != 1 {
				t.Fatalf("pairs %+v", res.Pairs)
			}
			p := res.Pairs[0]
			e := p.Offset - truth
			t.Logf("offset %v ± %v (truth %v, error %v), %d segments, %d client first; %s",
				p.Offset, p.Uncertainty, truth, e, p.Segments, p.Forward, res.Line(1))
			if e.Abs() > time.Millisecond {
				t.Fatalf("offset %v, want %v within 1 ms", p.Offset, truth)
			}
			if e.Abs() > p.Uncertainty || p.Uncertainty > 5*time.Microsecond {
				t.Errorf("offset %v ± %v: want the truth %v inside and a few µs at most", p.Offset, p.Uncertainty, truth)
			}
			if p.Segments < tt.minSegments || p.OneWay {
				t.Errorf("%d segments (one-way %v), want at least %d both ways", p.Segments, p.OneWay, tt.minSegments)
			}

			// The merged flow: each segment comes first from the capture at
			// its sender; merged as recorded, not, if the clocks were apart.
			if wrong, both := receiverFirst(t, res.Offsets, paths); wrong > 0 || both < tt.minSegments {
				t.Errorf("%d of %d segments seen by both came first from the receiver's capture", wrong, both)
			}
			if truth != 0 {
				if wrong, both := receiverFirst(t, nil, paths); wrong == 0 {
					t.Errorf("uncorrected: none of %d segments came first from the receiver's capture", both)
				}
			}
		})
	}
}

// receiverFirst merges the client (input 0) and controller (input 1)
// captures with the given offsets and counts the segments seen in both that
// came first from the capture at their receiver.
func receiverFirst(t *testing.T, offsets []time.Duration, paths []string) (wrong, both int) {
	t.Helper()
	type seen struct {
		first, n   int
		fromClient bool
	}
	segs := map[uint64]*seen{}
	for _, q := range readAll(t, offsets, paths...) {
		seg, ok := parseSegment(q.data, layers.LinkTypeEthernet)
		if !ok {
			continue
		}
		if s := segs[seg.key]; s != nil {
			s.n++
			continue
		}
		segs[seg.key] = &seen{first: q.input, n: 1, fromClient: seg.flow.src == labClient}
	}
	for _, s := range segs {
		if s.n != 2 {
			continue
		}
		both++
		if s.fromClient != (s.first == 0) {
			wrong++
		}
	}
	return wrong, both
}
