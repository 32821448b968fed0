package sequence

import (
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/openstack"
)

// tokens collects every token seen and derives the memcached keys that
// would cache it.
func (b *builder) tokens() {
	b.cacheKeys = map[string]string{}
	add := func(tok string) {
		if tok == "" {
			return
		}
		for _, k := range openstack.CacheKeys(tok, b.opts.MemcacheSecret) {
			b.cacheKeys[k] = tok
		}
	}
	for _, x := range b.xs {
		add(x.token)
		add(x.subject)
		add(x.issued)
		if x.call != nil && x.call.Auth != nil {
			add(x.call.Auth.Token)
		}
	}
	for _, x := range b.xs {
		if x.proto == protoMemcached && x.token == "" {
			x.token = b.cacheKeys[x.cacheKey()]
		}
	}
}

// stitch names each connection's caller and ties every call a service
// makes to the incoming request it serves.
func (b *builder) stitch() {
	callerOf := map[uint64]*party{}
	lastCause := map[uint64]*exchange{}
	var active []*exchange // requests being served, by start
	for _, x := range b.xs {
		// Forget requests whose answer is over.
		n := 0
		for _, y := range active {
			if y.end.IsZero() || !y.end.Before(x.start) {
				active[n] = y
				n++
			}
		}
		active = active[:n]

		if x.conn != nil {
			caller, ok := callerOf[x.conn.ID]
			if !ok {
				caller = b.caller(x, active)
				callerOf[x.conn.ID] = caller
			}
			x.caller = caller
		} else if x.caller == nil {
			x.caller = b.fileCaller(x, active)
		}
		if x.caller != nil && x.caller.service != "" {
			x.cause = pickCause(x, active, lastCause)
			if x.cause != nil && x.conn != nil {
				lastCause[x.conn.ID] = x.cause
			}
		}
		if x.proto == protoHTTP && x.req != nil && x.callee != nil && x.callee.service != "" {
			active = append(active, x)
		}
	}
}

// caller names the side that opened x's connection.
func (b *builder) caller(x *exchange, active []*exchange) *party {
	ps := b.parties
	addr := x.conn.Client.Addr()
	if n, ok := ps.alias(x.conn.Client, false); ok {
		return ps.aliasParty(n)
	}
	if !ps.isServiceHost(addr) {
		return ps.client(addr)
	}
	if x.proto == protoHTTP && x.req != nil {
		if svc := callerByUserAgent(x.req.Data.(*httpdec.Request)); svc != "" {
			return ps.service(svc)
		}
	}
	if p := b.otherCaller(x); p != nil {
		return p
	}
	// A call made while a service on this host serves a request comes
	// from that service: the one whose request carries the token this
	// call is about, else the one that started serving last.
	if y := pickCandidate(x, active, nil, x.callee); y != nil {
		return y.callee
	}
	return ps.client(addr)
}

// pickCause chooses, among the requests being served by x's caller, the one
// x serves.
func pickCause(x *exchange, active []*exchange, lastCause map[uint64]*exchange) *exchange {
	var mine []*exchange
	for _, y := range active {
		if y.callee == x.caller && y != x {
			mine = append(mine, y)
		}
	}
	var last *exchange
	if x.conn != nil {
		last = lastCause[x.conn.ID]
	}
	return pickCandidate(x, mine, last, nil)
}

// pickCandidate prefers a request whose token x carries or is about, then
// prefer (the request x's connection last served, if still open), then the
// most recently started one. Requests to exclude's party are skipped.
func pickCandidate(x *exchange, cands []*exchange, prefer *exchange, exclude *party) *exchange {
	var best *exchange
	for i := len(cands) - 1; i >= 0; i-- {
		y := cands[i]
		if y == x || (exclude != nil && y.callee == exclude) || y.start.After(x.start) {
			continue
		}
		if y.token != "" && (y.token == x.token || y.token == x.subject) {
			return y
		}
		if x.image != "" && y.call != nil && y.call.ImageID == x.image {
			return y
		}
		if best == nil {
			best = y
		}
	}
	if prefer != nil {
		for _, y := range cands {
			if y == prefer {
				return prefer
			}
		}
	}
	return best
}
