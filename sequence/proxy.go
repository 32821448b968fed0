package sequence

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/authflow/authflow/decode/httpdec"
)

// RoleProxy is a proxy (HAProxy) relaying requests to services.
const RoleProxy = "proxy"

// haproxyPorts are the ports deployment tools give HAProxy's TLS front
// ends (TripleO's public endpoints, the lab's TLS front): a proxy found
// there is named HAProxy.
var haproxyPorts = map[uint16]bool{13000: true, 13004: true, 13005: true, 13292: true, 13357: true, 13696: true, 13774: true, 13776: true, 13778: true, 13808: true, 13876: true}

// relay is a request a proxy relayed: the front request the client sent
// to the proxy and the request the proxy sent to the backend.
type relay struct {
	front *exchange
}

// proxies finds the requests a proxy relayed: a request that carries
// X-Forwarded-For naming a client, with the method and target of a request
// that client sent to another connection's server shortly before (and
// not answered yet), is that request relayed. The server of the front
// request is drawn as the proxy, which is also the backend request's
// caller.
func (b *builder) proxies() {
	b.relayed = map[*exchange]*relay{}
	paired := map[*exchange]bool{}
	var fronts []*exchange
	for _, y := range b.xs {
		if y.proto != protoHTTP || y.req == nil || y.conn == nil {
			continue
		}
		req := y.req.Data.(*httpdec.Request)
		if client, ok := forwardedFor(req); ok {
			for _, f := range fronts {
				fr := f.req.Data.(*httpdec.Request)
				if paired[f] || f.conn == y.conn || f.conn.Client.Addr() != client || fr.Method != req.Method || fr.Target != req.Target ||
					f.start.After(y.start) || (!f.end.IsZero() && f.end.Before(y.start)) {
					continue
				}
				paired[f] = true
				b.relayed[y] = &relay{front: f}
				p := b.parties.proxy(f.conn.Server)
				f.callee = p
				b.parties.servers[f.conn.Server] = p
				break
			}
		}
		fronts = append(fronts, y)
	}
	// A reset or refused connection to the proxy is the proxy's too.
	for _, x := range b.xs {
		if x.proto == protoTCP && x.conn != nil {
			if p := b.parties.servers[x.conn.Server]; p != nil && p.role == RoleProxy {
				x.callee = p
			}
		}
	}
}

// forwardedFor is the client X-Forwarded-For names first.
func forwardedFor(req *httpdec.Request) (netip.Addr, bool) {
	v := req.Header.Get("X-Forwarded-For")
	if v == "" {
		return netip.Addr{}, false
	}
	first, _, _ := strings.Cut(v, ",")
	a, err := netip.ParseAddr(strings.TrimSpace(first))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// proxy returns the party of the proxy listening at ap: one per address.
func (ps *parties) proxy(ap netip.AddrPort) *party {
	name := "proxy"
	if haproxyPorts[ap.Port()] {
		name = "HAProxy"
	}
	return ps.get("proxy:"+ap.Addr().String(), name, RoleProxy, "")
}

// proxyNote says which backend the proxy chose and the time it added:
// the front request's time less the backend request's.
func (b *builder) proxyNote(x *exchange, m *Message) {
	r := b.relayed[x]
	if r == nil {
		return
	}
	f := r.front
	text := b.t(noteProxyBackend, x.caller.name, x.conn.Server.String())
	if !f.end.IsZero() && !x.end.IsZero() && f.resp != nil && x.resp != nil {
		added := f.end.Sub(f.start) - x.end.Sub(x.start)
		text = b.t(noteProxyAdded, x.caller.name, x.conn.Server.String(), fmtMillis(added))
	}
	m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: text})
}

// fmtMillis writes a duration in milliseconds, e.g. "0.6 ms".
func fmtMillis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
