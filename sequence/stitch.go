package sequence

import (
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/memcached"
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
		if r := b.relayed[x]; r != nil {
			// A relayed request is the proxy's, for the client's.
			x.caller, x.cause = r.front.callee, r.front
			callerOf[x.conn.ID] = x.caller
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
	// A cache, database or unknown port's connection is a service's when
	// that is known; else it is a peer, never a guessed client.
	backend := x.callee != nil && (x.callee.role == RoleMemcached || x.callee.role == RoleMySQL || x.callee.role == RolePeer)
	if x.callee != nil && x.callee.role == RoleProxy && x.proto == protoHTTP && x.req != nil {
		// A service calling another through the proxy (glance's
		// auth_token through HAProxy to keystone), from its own host.
		if svc := callerByUserAgent(x.req.Data.(*httpdec.Request)); svc != "" {
			return ps.service(svc)
		}
		// Or validating the token of a request a service is serving.
		for i := len(active) - 1; x.subject != "" && i >= 0; i-- {
			if y := active[i]; y.token == x.subject && y.callee.service != "" && !y.start.After(x.start) {
				return y.callee
			}
		}
	}
	if !ps.isServiceHost(addr) {
		if backend {
			return ps.peer(x.conn.Client)
		}
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
	if backend {
		if p := b.backendCaller(x, active); p != nil {
			return p
		}
		return ps.peer(x.conn.Client)
	}
	// A call made while a service on this host serves a request comes
	// from that service: the one whose request carries the token this
	// call is about, else the one that started serving last.
	if y := pickCandidate(x, active, nil, x.callee); y != nil {
		return y.callee
	}
	// A validation while no request is being served (its request lost to
	// drops): the service the validated token was sent to.
	if x.call != nil && x.call.Kind == openstack.TokenValidate {
		if p := b.tokenService(x.subject); p != nil && p != x.callee {
			return p
		}
	}
	return ps.client(addr)
}

// backendCaller names the service that opened a connection to a cache,
// a database or an unknown port, when something shows it: a request it
// serves that carries the token (or image) the call is about, its
// validation of that token, or being the only service serving at the
// time. A program sending what no client library sends (a line memcached
// does not know) is no service.
func (b *builder) backendCaller(x *exchange, active []*exchange) *party {
	if x.req != nil {
		if c, ok := x.req.Data.(*memcached.Command); ok && c.Op == "unknown" {
			return nil
		}
	}
	var only *party
	ambiguous := false
	for i := len(active) - 1; i >= 0; i-- {
		y := active[i]
		if y.callee == x.callee || y.start.After(x.start) {
			continue
		}
		if y.token != "" && (y.token == x.token || y.token == x.subject) || x.image != "" && y.call != nil && y.call.ImageID == x.image {
			return y.callee
		}
		if only != nil && only != y.callee {
			ambiguous = true
		}
		only = y.callee
	}
	if p := b.tokenService(x.token); p != nil {
		return p
	}
	if ambiguous {
		return nil
	}
	return only
}

// tokenService names the service a token belongs with, when the capture
// shows one alone: the service that validated it (known by its
// User-Agent), else the one service that was sent requests carrying it.
// It is nil when none or several are.
func (b *builder) tokenService(token string) *party {
	if token == "" {
		return nil
	}
	if b.tokenServices == nil {
		b.tokenServices = map[string]*party{}
		validated := onlyOne{}
		received := onlyOne{}
		for _, x := range b.xs {
			if x.proto != protoHTTP || x.req == nil || x.call == nil {
				continue
			}
			if x.call.Kind == openstack.TokenValidate {
				if svc := callerByUserAgent(x.req.Data.(*httpdec.Request)); svc != "" {
					validated.add(x.subject, b.parties.service(svc))
				}
			}
			if x.callee != nil && x.callee.service != "" {
				received.add(x.token, x.callee)
			}
		}
		for tok, p := range received.m {
			b.tokenServices[tok] = p
		}
		for tok, p := range validated.m {
			b.tokenServices[tok] = p
		}
	}
	return b.tokenServices[token]
}

// onlyOne maps keys to the one party seen with each; a key seen with
// several maps to nil.
type onlyOne struct{ m map[string]*party }

func (o *onlyOne) add(key string, p *party) {
	if key == "" {
		return
	}
	if o.m == nil {
		o.m = map[string]*party{}
	}
	if prev, ok := o.m[key]; ok && prev != p {
		p = nil
	}
	o.m[key] = p
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
