package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/pipeline"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// hostileEvents are a glance request answered with a reason phrase, and a
// file read by a process whose path and command name, carry terminal
// escape sequences (colour, clear screen, window title ended by BEL).
func hostileEvents() (http []*event.Event, files []fsevent.Event) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	conn := &event.Conn{ID: 1, Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:9292")}
	req := &event.Event{Kind: event.HTTPRequest, Start: event.Position{Time: t0, Frame: event.FrameRef{Number: 1}}, End: t0, Conn: conn,
		Data: &httpdec.Request{Message: httpdec.Message{Proto: "HTTP/1.1", Complete: true}, Method: "GET", Target: "/v2/images/\x1b[31mred", Seq: 1}}
	at := t0.Add(time.Millisecond)
	resp := &event.Event{Kind: event.HTTPResponse, Start: event.Position{Time: at, Frame: event.FrameRef{Number: 2}}, End: at, Conn: conn, FromServer: true,
		Data: &httpdec.Response{Message: httpdec.Message{Proto: "HTTP/1.1", Complete: true}, Status: 599, Reason: "Odd\x1b[2JThing", Request: req}}
	path := "/var/lib/glance/images/\x1b]0;owned\x07img"
	comm := "gl\x1b[1mance"
	files = []fsevent.Event{
		{Time: t0.Add(2 * time.Millisecond), PID: 7, TID: 7, Comm: comm, Op: fsevent.Open, Syscall: "openat", FD: 5, Path: path, Result: 5},
		{Time: t0.Add(3 * time.Millisecond), PID: 7, TID: 7, Comm: comm, Op: fsevent.Read, Syscall: "read", FD: 5, Bytes: 4096, Result: 4096},
		{Time: t0.Add(4 * time.Millisecond), PID: 7, TID: 7, Comm: comm, Op: fsevent.Close, Syscall: "close", FD: 5},
	}
	return []*event.Event{req, resp}, files
}

// TestTerminalEscapes: a reason phrase, a path and a process name from the
// wire or the kernel, carrying escape sequences, reach neither the live
// timeline nor the text output raw.
func TestTerminalEscapes(t *testing.T) {
	evs, files := hostileEvents()
	var tlOut bytes.Buffer
	tl := newTimeline(&tlOut, false, sequence.Options{}, "")
	for _, e := range evs {
		tl.event(e)
	}
	for i := range files {
		tl.file(&files[i])
	}
	tl.flush()

	flow := sequence.Build(append(evs, decode.FileEvents(files, "")...), sequence.Options{})
	var text bytes.Buffer
	if err := render.Text(&text, flow); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"timeline": tlOut.String(), "text": text.String()} {
		for _, want := range []string{"Thing", "red", "img", "ance"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q missing:\n%s", name, want, out)
			}
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%s has raw escape sequences: %q", name, out)
		}
	}
}

// TestLiveTimelineMatchesDiagram: the live timeline draws what the diagram
// draws, with the same names and labels (plus the durations), as each
// step completes: glance named as glance when it calls keystone, the token
// validated (not glance's own) on the validation, users, sizes.
func TestLiveTimelineMatchesDiagram(t *testing.T) {
	in := filepath.Join(capturesDir, "image-list-cold", "any.pcap.gz")
	res, err := pipeline.Files([]string{in}, pipeline.FileOptions{}, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	flow := res.Flow
	names := map[string]string{}
	for _, p := range flow.Participants {
		names[p.ID] = p.Name
	}

	var tlOut bytes.Buffer
	tl := newTimeline(&tlOut, false, sequence.Options{Inputs: []string{filepath.Base(in)}}, "")
	r := openPcap(t, in)
	src := &replaySource{r: r}
	d := decode.New(decode.Options{Notify: tl.event})
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		d.Add(p)
	}
	d.Finish()
	tl.flush()
	lines := strings.Split(tlOut.String(), "\n")

	// Every message of the diagram.
	for _, m := range flow.Messages {
		from, to, arrow := names[m.From], names[m.To], "→"
		if m.Response {
			from, to, arrow = to, from, "←"
		}
		want := fmt.Sprintf(" %s %s %s: %s", from, arrow, to, m.Label)
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		if !found {
			t.Errorf("message %d %q not on the timeline", m.Seq, want)
		}
	}
	for _, want := range []string{
		"glance → keystone: GET /v3/auth/tokens: validate token f34a309db2e7 [token d1b227cea2af]",
		"glance ← keystone: 200 OK: token f34a309db2e7 valid (admin@Default, project admin@Default) (154 ms)",
		"glance → memcached: set token f34a309db2e7 (1.9 KiB, ttl 300 s)",
	} {
		if !strings.Contains(tlOut.String(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, tlOut.String())
		}
	}
}

// TestTimelineDrops: the kernel's drops are reported as the counts grow,
// not only at the end, with the interface and the flag to raise.
func TestTimelineDrops(t *testing.T) {
	var out bytes.Buffer
	tl := newTimeline(&out, false, sequence.Options{}, "")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tl.drops(at, []live.InterfaceStats{{Name: "eth0", Received: 100}})
	if out.Len() != 0 {
		t.Fatalf("no drops, yet %q", out.String())
	}
	tl.drops(at.Add(time.Second), []live.InterfaceStats{{Name: "eth0", Received: 200, Dropped: 15}})
	tl.drops(at.Add(2*time.Second), []live.InterfaceStats{{Name: "eth0", Received: 300, Dropped: 15}})
	tl.drops(at.Add(3*time.Second), []live.InterfaceStats{{Name: "eth0", Received: 400, Dropped: 40}})
	want := "03:04:06.000 warning: eth0: 15 packets dropped by the kernel (15 in all): the flow has gaps; raise --buffer-size\n" +
		"03:04:08.000 warning: eth0: 25 packets dropped by the kernel (40 in all): the flow has gaps; raise --buffer-size\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
