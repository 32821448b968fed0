package sequence

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
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
	// servers are the parties HTTP servers were found to be, by endpoint.
	servers map[netip.AddrPort]*party
	clients int // number of client parties made
}

func newParties(opts *Options) *parties {
	return &parties{byKey: map[string]*party{}, opts: opts, hosts: map[netip.Addr]bool{}, servers: map[netip.AddrPort]*party{}}
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

// peer returns the party of a program that talks to a cache or a
// database and is no known service, named by its address and port.
func (ps *parties) peer(ap netip.AddrPort) *party {
	return ps.get("peer:"+ap.String(), ap.String(), RolePeer, "")
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
	// HTTP servers first: a refused connection to a port an HTTP service
	// answers on elsewhere in the capture is that service's.
	for _, http := range []bool{true, false} {
		for _, x := range b.xs {
			if (x.proto == protoHTTP) != http {
				continue
			}
			if http {
				x.callee = ps.httpServer(x.conn.Server, apiByConn[x.conn.ID])
				ps.servers[x.conn.Server] = x.callee
			} else {
				x.callee = b.otherCallee(x)
			}
			if x.callee != nil && x.callee.role != RoleClient && x.callee.role != RolePeer && x.conn != nil {
				ps.hosts[x.conn.Server.Addr()] = true
			}
		}
	}
}

// aliases are the names the user gave hosts and endpoints.
type aliases struct {
	hosts     map[netip.Addr]string
	endpoints map[netip.AddrPort]string
}

// parseAliases reads Options.Aliases ("ADDR" or "ADDR:PORT" → name);
// keys that are no address are ignored.
func parseAliases(m map[string]string) aliases {
	a := aliases{hosts: map[netip.Addr]string{}, endpoints: map[netip.AddrPort]string{}}
	for k, name := range m {
		if ap, err := netip.ParseAddrPort(k); err == nil {
			a.endpoints[ap] = name
		} else if addr, err := netip.ParseAddr(strings.Trim(k, "[]")); err == nil {
			a.hosts[addr.Unmap()] = name
		}
	}
	return a
}

// displayName is the name a participant is drawn with: the name of what
// it is, or the alias of an endpoint it serves, labelled with the aliases
// of the hosts it was seen on ("keystone (controller)"). Aliases only
// name: they never change who a participant is.
func (a aliases) displayName(p *party) string {
	name := p.name
	var named, hosts []string
	for _, e := range p.p.Endpoints {
		var addr netip.Addr
		if ap, err := netip.ParseAddrPort(e); err == nil {
			if n, ok := a.endpoints[ap]; ok && !slices.Contains(named, n) {
				named = append(named, n)
			}
			addr = ap.Addr()
		} else if addr, err = netip.ParseAddr(e); err != nil {
			continue
		}
		addr = addr.Unmap()
		if n, ok := a.hosts[addr]; ok && !slices.Contains(hosts, n) {
			hosts = append(hosts, n)
			// "OpenStackClient 10.0.0.5" is named by its host's alias.
			name = strings.TrimSuffix(name, " "+addr.String())
		}
	}
	if len(named) > 0 {
		name = strings.Join(named, ", ")
	}
	hosts = slices.DeleteFunc(hosts, func(h string) bool { return strings.EqualFold(h, name) })
	if len(hosts) > 0 {
		name += " (" + strings.Join(hosts, ", ") + ")"
	}
	return name
}
