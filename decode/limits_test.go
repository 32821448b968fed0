package decode_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
)

// TestEventBudget: past MaxEventBytes the bodies of HTTP messages are no
// longer kept, then messages are dropped; the estimate of what is kept
// stays within the limit.
func TestEventBudget(t *testing.T) {
	recs := []scriptRecord{{conn: 0, syn: true}, {conn: 0, fromServer: true, syn: true}, {conn: 0}}
	body := strings.Repeat("b", 2000)
	for i := range 20 {
		recs = append(recs,
			scriptRecord{conn: 0, payload: []byte(fmt.Sprintf("GET /v3/%d HTTP/1.1\r\nHost: k\r\n\r\n", i))},
			scriptRecord{conn: 0, fromServer: true, payload: []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body))})
	}
	paths := writeCapture(t, t.TempDir(), encodeScript(0, 0, recs))
	for _, tc := range []struct {
		limit          int64
		bodies, events bool // some dropped
	}{
		{limit: 0},                      // the default: everything kept
		{limit: 1 << 30},                // a bound that does not bite
		{limit: 40 << 10, bodies: true}, // room for every message, not every body
		{limit: 8 << 10, bodies: true, events: true},
	} {
		src, err := capture.OpenFiles(paths, capture.FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		evs, st, err := decode.Run(src, decode.Options{MaxEventBytes: tc.limit})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		withBody := 0
		for _, e := range evs {
			if r, ok := e.Data.(*httpdec.Response); ok && len(r.Body) > 0 {
				withBody++
			}
		}
		if (st.BodiesDropped > 0) != tc.bodies || (st.EventsDropped > 0) != tc.events || st.Events+st.EventsDropped != 40 || len(evs) != st.Events {
			t.Errorf("limit %d: stats %+v, %d events", tc.limit, st, len(evs))
		}
		if tc.limit > 0 && st.EventBytes > tc.limit {
			t.Errorf("limit %d: %d bytes kept", tc.limit, st.EventBytes)
		}
		if !tc.events && withBody+st.BodiesDropped != 20 {
			t.Errorf("limit %d: %d responses with a body, %d bodies dropped", tc.limit, withBody, st.BodiesDropped)
		}
	}
	if n := decode.EventSize(&event.Event{Data: "twelve bytes"}); n != 512+12 {
		t.Errorf("EventSize of a warning = %d", n)
	}
}

// TestCaptureWarningsBounded: a capture with as many kinds of damage as
// frames gives a bounded number of warnings.
func TestCaptureWarningsBounded(t *testing.T) {
	d := decode.New(decode.Options{})
	for i := range 1000 {
		d.Add(&capture.Packet{Data: []byte{1, 2, 3}, LinkType: layers.LinkType(1000 + i), Frame: i + 1})
	}
	evs := d.Finish()
	if st := d.Stats(); st.Malformed != 1000 || len(evs) != 100 {
		t.Errorf("%d malformed frames, %d warnings; want 1000 and 100", st.Malformed, len(evs))
	}
}
