package sequence

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/openstack"
)

// party is a participant while the flow is built.
type party struct {
	p     *Participant
	role  string
	name  string
	hosts map[netip.Addr]bool // addresses it serves or calls from
	// service is the OpenStack service this party is, for stitching
	// ("keystone", "glance", …), "" for clients, caches and databases.
	service string
	used    bool
}

// parties holds every party by identity.
type parties struct {
	// catalog names service endpoints (host:port) from the service
	// catalogs of token responses.
	catalog map[string]string
	byKey   map[string]*party
	order   []*party
	opts    *Options
	hosts   map[netip.Addr]bool // addresses that serve an OpenStack service
	clients int                 // number of client parties made
}

func newParties(opts *Options) *parties {
	return &parties{byKey: map[string]*party{}, opts: opts, hosts: map[netip.Addr]bool{}}
}

func (ps *parties) get(key, name, role, service string) *party {
	if p := ps.byKey[key]; p != nil {
		return p
	}
	p := &party{name: name, role: role, service: service, hosts: map[netip.Addr]bool{}}
	p.p = &Participant{Name: name, Role: role, Endpoints: []string{}}
	ps.byKey[key] = p
	ps.order = append(ps.order, p)
	return p
}

// alias returns the user's name for an endpoint, if any.
func (ps *parties) alias(ap netip.AddrPort, withPort bool) (string, bool) {
	if withPort {
		if n, ok := ps.opts.Aliases[ap.String()]; ok {
			return n, true
		}
	}
	n, ok := ps.opts.Aliases[ap.Addr().String()]
	return n, ok
}

// aliasParty returns the party an alias names.
func (ps *parties) aliasParty(name string) *party {
	role := RoleService
	switch strings.ToLower(name) {
	case "keystone":
		role = RoleKeystone
	case "glance":
		role = RoleGlance
	case "memcached":
		role = RoleMemcached
	case "openstackclient", "client":
		role = RoleClient
	}
	svc := ""
	if role == RoleKeystone || role == RoleGlance {
		svc = strings.ToLower(name)
	}
	return ps.get("alias:"+name, name, role, svc)
}

// service returns the party of an OpenStack service by name.
func (ps *parties) service(name string) *party {
	role := RoleService
	switch name {
	case "keystone":
		role = RoleKeystone
	case "glance":
		role = RoleGlance
	case "memcached":
		return ps.get("memcached", "memcached", RoleMemcached, "")
	}
	return ps.get("service:"+name, name, role, name)
}

// server names the listening side of an HTTP connection.
func (ps *parties) httpServer(ap netip.AddrPort, api string) *party {
	if n, ok := ps.alias(ap, true); ok {
		return ps.aliasParty(n)
	}
	if name := ps.catalogName(ap); name != "" {
		return ps.service(name)
	}
	if name, ok := openstack.WellKnownPorts[ap.Port()]; ok && name != "mysql" && name != "memcached" {
		return ps.service(name)
	}
	if api != "" {
		return ps.service(api)
	}
	return ps.get("service:"+ap.String(), "service "+ap.String(), RoleService, "service "+ap.String())
}

// client returns the party for a caller that is no known service.
func (ps *parties) client(addr netip.Addr) *party {
	if n, ok := ps.alias(netip.AddrPortFrom(addr, 0), false); ok {
		return ps.aliasParty(n)
	}
	key := "client:" + addr.String()
	if p := ps.byKey[key]; p != nil {
		return p
	}
	name := "OpenStackClient"
	if ps.clients > 0 {
		name = fmt.Sprintf("OpenStackClient %s", addr)
	}
	ps.clients++
	return ps.get(key, name, RoleClient, "")
}

// isServiceHost reports whether addr runs an OpenStack service (or is a
// loopback address, which on the capturing host is the same machine).
func (ps *parties) isServiceHost(addr netip.Addr) bool {
	return ps.hosts[addr] || addr.IsLoopback()
}

// callerByUserAgent recognises an OpenStack service from its User-Agent,
// e.g. "glance/25.1.0 keystonemiddleware.auth_token/10.1.0 …".
func callerByUserAgent(req *httpdec.Request) string {
	ua := req.Header.Get("User-Agent")
	first, _, _ := strings.Cut(ua, " ")
	name, _, ok := strings.Cut(first, "/")
	if !ok {
		return ""
	}
	switch name {
	case "keystone", "glance", "nova", "neutron", "cinder", "placement", "swift", "heat", "octavia", "barbican", "manila", "designate", "ironic":
		return name
	}
	return ""
}

// catalogTypes names services by their catalog type when the catalog
// entry has no name.
var catalogTypes = map[string]string{
	"identity":           "keystone",
	"image":              "glance",
	"compute":            "nova",
	"network":            "neutron",
	"placement":          "placement",
	"volumev3":           "cinder",
	"volumev2":           "cinder",
	"volume":             "cinder",
	"block-storage":      "cinder",
	"object-store":       "swift",
	"orchestration":      "heat",
	"key-manager":        "barbican",
	"load-balancer":      "octavia",
	"dns":                "designate",
	"baremetal":          "ironic",
	"shared-file-system": "manila",
}

// learnCatalog records the endpoints of a token response's catalog.
func (ps *parties) learnCatalog(entries []openstack.CatalogEntry) {
	if ps.catalog == nil {
		ps.catalog = map[string]string{}
	}
	for _, e := range entries {
		name := e.Name
		if name == "" {
			name = catalogTypes[e.Type]
		}
		if name == "" {
			name = e.Type
		}
		for _, ep := range e.Endpoints {
			u, err := url.Parse(ep.URL)
			if err != nil || u.Host == "" {
				continue
			}
			host, port := u.Hostname(), u.Port()
			if port == "" {
				port = map[string]string{"https": "443"}[u.Scheme]
				if port == "" {
					port = "80"
				}
			}
			ps.catalog[net.JoinHostPort(host, port)] = name
			// Host names cannot be matched to addresses without DNS: keep
			// the port, used when only one service listens on it.
			if prev, ok := ps.catalog[":"+port]; !ok || prev == name {
				ps.catalog[":"+port] = name
			} else {
				ps.catalog[":"+port] = ""
			}
		}
	}
}

// catalogName names a server endpoint from the catalogs seen: by address
// and port, else by a port only one catalog service uses.
func (ps *parties) catalogName(ap netip.AddrPort) string {
	if n := ps.catalog[ap.String()]; n != "" {
		return n
	}
	return ps.catalog[":"+strconv.Itoa(int(ap.Port()))]
}

// participants names the servers of every exchange; callers are named
// while stitching, because a caller on a service host is known by what it
// serves.
func (b *builder) participants() {
	ps := newParties(&b.opts)
	b.parties = ps
	for _, x := range b.xs {
		if x.result != nil && x.result.Info != nil {
			ps.learnCatalog(x.result.Info.Catalog)
		}
	}
	apiByConn := map[uint64]string{}
	for _, x := range b.xs {
		if x.proto == protoHTTP && x.call != nil && x.call.API != "" && apiByConn[x.conn.ID] == "" {
			apiByConn[x.conn.ID] = x.call.API
		}
	}
	for _, x := range b.xs {
		switch x.proto {
		case protoHTTP:
			x.callee = ps.httpServer(x.conn.Server, apiByConn[x.conn.ID])
		default:
			x.callee = b.otherCallee(x)
		}
		if x.callee != nil && x.callee.role != RoleClient && x.conn != nil {
			ps.hosts[x.conn.Server.Addr()] = true
		}
	}
}
