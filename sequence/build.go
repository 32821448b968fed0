package sequence

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/decode/secrets"
)

// Options control how the flow is built.
type Options struct {
	// Aliases name endpoints: "ADDR" or "ADDR:PORT" → name.
	Aliases map[string]string
	// Inputs are the names of the inputs, indexed like event.FrameRef.Input.
	Inputs []string
	// DetailLevel 0 summarises bursts of database queries and runs of file
	// reads; 1 draws every query and cache lookup; 2 also every read and
	// write of a file.
	DetailLevel int
	// MemcacheSecret is keystonemiddleware's memcache_secret_key, to
	// recognise token cache keys under the MAC and ENCRYPT strategies.
	MemcacheSecret string
	// ShowSecrets shows whole tokens instead of fingerprints.
	ShowSecrets bool
	// Timing adds durations to response labels.
	Timing bool
	// Lang is the language of notes: "en" (default) or "zh".
	Lang string
	// Drops are the kernel's drops while capturing the inputs: messages
	// of those inputs that lost bytes say they were lost to drops.
	Drops []Drop
	// Secrets collects what the capture revealed (passwords, secrets,
	// tokens) and is scrubbed from every string of the flow; Build adds
	// what it sees and MemcacheSecret. Nil: Build makes its own. Pass one
	// to scrub other output (errors, warnings) with it too.
	Secrets *secrets.Set
}

// exchange is one request and its answer (or one of them alone), the unit
// the flow is built from.
type exchange struct {
	proto      protocol
	req, resp  *event.Event
	conn       *event.Conn
	caller     *party
	callee     *party
	call       *openstack.Call
	result     *openstack.Result
	cause      *exchange
	start, end time.Time
	// token is the raw token the exchange carries or is about, for
	// lineage and stitching; subject is the token validated or revoked.
	token, subject string
	// issued is the raw token an issue returned.
	issued string
	// resps are the results of a MySQL command (several for multiple
	// result sets).
	resps []*event.Event
	// run is the burst of queries this exchange starts (drawn as one);
	// member the run it belongs to; skip is set for the other members.
	run, member *dbRun
	skip        bool
	// leader is the first of repeated identical cache lookups, repeats
	// how many followed it.
	leader  *exchange
	repeats int
	// file is a file descriptor's use, for file exchanges; image the image
	// id its path names.
	file  *fileUse
	image string
	seq   int // seq of the request message, once drawn
}

func (x *exchange) first() *event.Event {
	if x.req != nil {
		return x.req
	}
	return x.resp
}

// Build correlates events (in any order) into a flow.
func Build(events []*event.Event, opts Options) *Flow {
	if opts.Secrets == nil {
		opts.Secrets = secrets.New(opts.ShowSecrets)
	}
	opts.Secrets.AddSecret(opts.MemcacheSecret)
	for _, e := range events {
		opts.Secrets.Observe(e)
	}
	b := &builder{opts: opts, flow: &Flow{Inputs: opts.Inputs, Warnings: []string{}, Drops: opts.Drops}}
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, compareEvents)
	if len(evs) > 0 {
		b.flow.Start = evs[0].Start.Time
		for _, e := range evs {
			if e.End.After(b.flow.End) {
				b.flow.End = e.End
			}
		}
	}
	b.correlate(evs)
	b.draw()
	b.checkMemcacheSecret()
	b.flow.Scrub(opts.Secrets.Scrub)
	return b.flow
}

// correlate pairs the events (in time order) into exchanges, names who
// takes part and ties every call to the request it serves.
func (b *builder) correlate(evs []*event.Event) {
	b.exchanges(evs)
	if !b.now.IsZero() {
		// A request not answered yet is still being served: what its
		// server calls meanwhile is for it.
		for _, x := range b.xs {
			if x.proto == protoHTTP && x.req != nil && x.resp == nil && b.now.After(x.end) {
				x.end = b.now
			}
		}
	}
	b.databases()
	b.tokens()
	b.participants()
	b.proxies()
	b.stitch()
	b.summarize()
}

// checkMemcacheSecret warns when a memcache secret was given but tied no
// protected cache key to a token: a wrong secret must not pass unseen.
func (b *builder) checkMemcacheSecret() {
	if b.opts.MemcacheSecret == "" {
		return
	}
	protected, tied := 0, 0
	for _, m := range b.flow.Messages {
		if m.Response || !strings.HasPrefix(string(m.Kind), "memcached.") || !openstack.ProtectedCacheKey(m.Key) {
			continue
		}
		protected++
		if m.Token != "" {
			tied++
		}
	}
	switch {
	case protected == 0:
		b.flow.Warnings = append(b.flow.Warnings, "--memcache-secret: no cache key in the capture is protected (memcache_security_strategy MAC or ENCRYPT): the secret is not needed and tied nothing")
	case tied == 0:
		b.flow.Warnings = append(b.flow.Warnings, fmt.Sprintf("--memcache-secret ties none of the %d protected cache keys to a token seen in the capture: is it the memcache_secret_key of the service's [keystone_authtoken]?", protected))
	}
}

func compareEvents(a, b *event.Event) int {
	if c := a.Start.Time.Compare(b.Start.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Start.Frame.Input, b.Start.Frame.Input); c != 0 {
		return c
	}
	return cmp.Compare(a.Start.Frame.Number, b.Start.Frame.Number)
}

type builder struct {
	opts Options
	flow *Flow
	xs   []*exchange
	// cacheKeys maps memcached keys to the raw token they cache.
	cacheKeys map[string]string
	parties   *parties
	// conns holds per-connection state of non-HTTP protocols.
	conns          map[*event.Conn]*connState
	memcachedConns map[*event.Conn]bool
	// tls names the version and cipher suite of the TLS connections
	// decrypted.
	tls map[*event.Conn]string
	// fds follows open file descriptors by (pid, fd).
	fds map[[2]int]*exchange
	// relayed are the requests a proxy relayed, with the request each
	// relays.
	relayed map[*exchange]*relay
	// tokenServices maps tokens to the one service they belong with.
	tokenServices map[string]*party
	// fps remembers the fingerprints of tokens.
	fps map[string]string
	// unsettled are exchanges still going on, whose answers are not drawn
	// yet (Live).
	unsettled map[*exchange]bool
	// starts, when set, records when each message's exchange began (Live).
	starts map[*Message]time.Time
	// now, when set, is the time of the latest event of a flow still
	// being captured (Live).
	now time.Time
}

// exchanges pairs requests with their responses.
func (b *builder) exchanges(evs []*event.Event) {
	byReq := map[*event.Event]*exchange{}
	for _, e := range evs {
		switch e.Kind {
		case event.HTTPRequest:
			req := e.Data.(*httpdec.Request)
			x := &exchange{proto: protoHTTP, req: e, conn: e.Conn, start: e.Start.Time, end: e.End}
			x.call = openstack.Interpret(req)
			x.token, x.subject = x.call.Token, x.call.Subject
			byReq[e] = x
			b.xs = append(b.xs, x)
		case event.HTTPResponse:
			resp := e.Data.(*httpdec.Response)
			x := byReq[resp.Request]
			if x == nil {
				x = &exchange{proto: protoHTTP, conn: e.Conn, start: e.Start.Time, call: &openstack.Call{}}
				b.xs = append(b.xs, x)
			}
			if x.resp != nil && x.resp.Data.(*httpdec.Response).Status < 200 {
				// A 1xx interim response is replaced by the final one.
				x.resp = nil
			}
			if x.resp == nil {
				x.resp = e
				x.end = e.End
				x.result = openstack.InterpretResponse(x.call, resp)
				x.issued = x.result.Token
			}
		case event.Warning:
			b.flow.Warnings = append(b.flow.Warnings, fmt.Sprint(e.Data))
		default:
			b.otherEvent(e)
		}
	}
	slices.SortStableFunc(b.xs, func(a, c *exchange) int { return compareEvents(a.first(), c.first()) })
	b.pairLateRequests()
}

// pairLateRequests gives answers decoded before their request the request
// they answer. A connection that lost segments has the data after the
// loss held back by reassembly until it gives up on them, so a request
// after a loss can reach the decoder after its answer. HTTP/1.1 answers in
// order: per connection, an answer without a request answers the earliest
// earlier request left without an answer.
func (b *builder) pairLateRequests() {
	waiting := map[*event.Conn][]*exchange{}
	n := 0
	for _, x := range b.xs {
		if x.proto == protoHTTP && x.conn != nil {
			switch q := waiting[x.conn]; {
			case x.req != nil && x.resp == nil:
				waiting[x.conn] = append(q, x)
			case x.req == nil && x.resp != nil && len(q) > 0 && q[0].req.Start.Time.Before(x.resp.Start.Time):
				y := q[0]
				waiting[x.conn] = q[1:]
				resp := x.resp.Data.(*httpdec.Response)
				y.resp, y.end = x.resp, x.end
				y.result = openstack.InterpretResponse(y.call, resp)
				y.issued = y.result.Token
				continue // x is y now
			}
		}
		b.xs[n] = x
		n++
	}
	clear(b.xs[n:])
	b.xs = b.xs[:n]
}
