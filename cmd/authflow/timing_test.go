package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// connTimes reads a capture with plain gopacket and returns, for the TCP
// connection whose client sends a payload starting with start, the time of
// that payload and of the server's last payload on the connection.
func connTimes(t *testing.T, path, start string) (first, last time.Time) {
	t.Helper()
	r := openPcap(t, path)
	var client layers.TCPPort
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		tcp, ok := p.TransportLayer().(*layers.TCP)
		if !ok || len(tcp.Payload) == 0 {
			continue
		}
		if client == 0 && bytes.HasPrefix(tcp.Payload, []byte(start)) {
			client, first = tcp.SrcPort, ci.Timestamp
		}
		if client != 0 && tcp.DstPort == client {
			last = ci.Timestamp
		}
	}
	if first.IsZero() || last.IsZero() {
		t.Fatalf("%s: no connection starting with %q", path, start)
	}
	return first, last
}

// TestTimingMatchesCapture checks --timing durations against the
// capture's own timestamps: from the request's first segment to the
// response's last, for keystone exchanges (one per connection).
func TestTimingMatchesCapture(t *testing.T) {
	for _, tc := range []struct {
		scenario, file, request string
		kind                    sequence.Kind
	}{
		{"image-save", "ens.pcap.gz", "POST /v3/auth/tokens", "keystone.token.issued"},
		{"image-save", "lo.pcap.gz", "GET /v3/auth/tokens", "keystone.token.valid"},
		{"image-save", "lo.pcap.gz", "POST /v3/auth/tokens", "keystone.token.issued"},
		{"bad-password", "ens.pcap.gz", "POST /v3/auth/tokens", "keystone.token.denied"},
		{"revoked-token", "ens.pcap.gz", "DELETE /v3/auth/tokens", "http.response"},
	} {
		t.Run(tc.scenario+"/"+tc.file+"/"+tc.request, func(t *testing.T) {
			first, last := connTimes(t, filepath.Join(capturesDir, tc.scenario, tc.file), tc.request)
			want := last.Sub(first)
			flow := analyzeJSON(t, append([]string{"--timing"}, scenarioArgs(tc.scenario)...)...)
			bySeq := map[int]string{}
			for _, m := range flow.Messages {
				bySeq[m.Seq] = m.Method + " " + m.Target
			}
			found := false
			for _, m := range flow.Messages {
				if m.Kind != tc.kind || m.ReplyTo == 0 || len(m.Frames) == 0 || m.Frames[0].File != tc.file || bySeq[m.ReplyTo] != tc.request {
					continue
				}
				found = true
				if m.DurationMS == nil {
					t.Fatalf("message %d has no duration", m.Seq)
				}
				got := time.Duration(math.Round(*m.DurationMS * 1e6))
				if d := got - want; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("message %d: duration %v, the capture says %v", m.Seq, got, want)
				}
				if !bytes.Contains([]byte(m.Label), []byte(" ms)")) {
					t.Errorf("label %q has no duration", m.Label)
				}
			}
			if !found {
				t.Fatalf("no %s answering %s in %s", tc.kind, tc.request, tc.file)
			}
		})
	}
}

// TestSummaryDatabaseIsBusyTime checks, on a slow token issue, that the summary's database time is the database's busy time
// (the slow-token-issue finding's figure), not the span of keystone's
// burst of queries, which covers nearly the whole issue; the table's
// header says which.
func TestSummaryDatabaseIsBusyTime(t *testing.T) {
	flow := analyzeJSON(t, append([]string{"--findings"}, scenarioArgs("image-create")...)...)
	var issue *sequence.RequestTiming
	timings := sequence.Timings(flow)
	for i := range timings {
		if timings[i].Request == "POST /v3/auth/tokens" {
			issue = &timings[i]
		}
	}
	if issue == nil {
		t.Fatalf("no token issue in %+v", timings)
	}
	db := issue.Spent[sequence.SpentDatabase]
	if db <= 0 || db > issue.TotalMS/10 {
		t.Errorf("database %.1f ms of %.1f ms: want the busy time, a small share", db, issue.TotalMS)
	}
	if issue.DatabaseSpanMS < issue.TotalMS*9/10 || issue.DatabaseSpanMS > issue.TotalMS {
		t.Errorf("database span %.1f ms of %.1f ms: want the burst's span", issue.DatabaseSpanMS, issue.TotalMS)
	}
	found := false
	for _, f := range flow.Findings {
		if f.Kind == "slow-token-issue" {
			found = true
			if !strings.Contains(f.Summary, fmt.Sprintf("busy for %.0f ms", db)) {
				t.Errorf("the finding's DB time differs from the summary's %.0f ms: %s", db, f.Summary)
			}
		}
	}
	if !found {
		t.Errorf("no slow-token-issue finding: %+v", flow.Findings)
	}
	var table bytes.Buffer
	if err := render.SummaryTable(&table, flow); err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(table.String(), "\n"); !strings.Contains(header, "database busy") {
		t.Errorf("the header does not say the database time is busy time: %s", header)
	}
}
