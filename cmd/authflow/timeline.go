package main

import (
	"fmt"
	"io"
	"net/netip"
	"sync"

	"github.com/fatih/color"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
)

// timeline prints one line per step while capturing: HTTP requests and
// responses, cache lookups, database logins and errors, file opens.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	off   bool
	name  *color.Color
	ok    *color.Color
	fail  *color.Color
	dim   *color.Color
	noTok bool
}

func newTimeline(w io.Writer, quiet bool) *timeline {
	t := &timeline{w: w, off: quiet,
		name: color.New(color.Bold), ok: color.New(color.FgGreen), fail: color.New(color.FgRed, color.Bold), dim: color.New(color.Faint)}
	on := colorWanted(w)
	for _, c := range []*color.Color{t.name, t.ok, t.fail, t.dim} {
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return t
}

// endpoint names a server endpoint by its well-known port.
func endpoint(ap netip.AddrPort) string {
	if n, ok := openstack.WellKnownPorts[ap.Port()]; ok {
		return n
	}
	return ap.String()
}

func (t *timeline) line(at event.Position, format string, args ...any) {
	if t.off {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%s %s\n", t.dim.Sprint(at.Time.Format("15:04:05.000")), fmt.Sprintf(format, args...))
}

func (t *timeline) status(code int, text string) string {
	if code >= 400 {
		return t.fail.Sprint(text)
	}
	return t.ok.Sprint(text)
}

// event prints a decoded event, if it is a step.
func (t *timeline) event(e *event.Event) {
	c := e.Conn
	switch d := e.Data.(type) {
	case *httpdec.Request:
		call := openstack.Interpret(d)
		tok := ""
		if call.Token != "" {
			tok = " " + t.dim.Sprint("token "+openstack.Fingerprint(call.Token))
		}
		t.line(e.Start, "%s → %s %s %s%s", c.Client.Addr(), t.name.Sprint(endpoint(c.Server)), d.Method, oneLine(d.Target), tok)
	case *httpdec.Response:
		t.line(e.Start, "%s ← %s %s", c.Client.Addr(), t.name.Sprint(endpoint(c.Server)), t.status(d.Status, fmt.Sprintf("%d %s", d.Status, d.Reason)))
	case *memcached.Reply:
		key := ""
		if len(d.Keys) > 0 {
			key = d.Keys[0]
			if h := openstack.HashedCacheKey(key); h != "" {
				key = "token " + h[:openstack.FingerprintLen]
			}
		}
		outcome := d.Status
		switch {
		case d.Op == "get" && d.Hits > 0:
			outcome = t.ok.Sprint("hit")
		case d.Op == "get":
			outcome = "miss"
		}
		t.line(e.Start, "%s %s %s: %s", t.name.Sprint("memcached"), d.Op, key, outcome)
	case *mysql.Login:
		t.line(e.Start, "%s login as %s to %s", t.name.Sprint("mysql"), d.User, d.Database)
	case *mysql.Result:
		if d.Kind == mysql.KindError {
			t.line(e.Start, "%s %s", t.name.Sprint("mysql"), t.fail.Sprintf("error %d: %s", d.ErrorCode, mysql.RedactError(d.ErrorMessage)))
		}
	}
	switch e.Kind {
	case event.TCPRefused:
		t.line(e.Start, "%s %s", t.name.Sprint(endpoint(c.Server)), t.fail.Sprint("connection refused"))
	}
}

// file prints a traced file open.
func (t *timeline) file(fe *fsevent.Event) {
	if fe.Op != fsevent.Open {
		return
	}
	t.line(event.Position{Time: fe.Time}, "%s[%d] %s %s = %d", fe.Comm, fe.PID, fe.Syscall, fe.Path, fe.Result)
}
