package sequence

import (
	"fmt"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
)

// otherEvent turns non-HTTP events into exchanges.
func (b *builder) otherEvent(e *event.Event) {
	switch d := e.Data.(type) {
	case *fsevent.Event:
		b.fileEvent(e, d)
	case *memcached.Command:
		x := &exchange{proto: protoMemcached, req: e, conn: e.Conn, start: e.Start.Time, end: e.End}
		b.conn(e.Conn).memcache[d.Seq] = x
		b.xs = append(b.xs, x)
	case *memcached.Reply:
		s := b.conn(e.Conn)
		x := s.memcache[d.Seq]
		if d.Seq == 0 || x == nil {
			x = &exchange{proto: protoMemcached, conn: e.Conn, start: e.Start.Time}
			b.xs = append(b.xs, x)
		}
		delete(s.memcache, d.Seq)
		x.resp, x.end = e, e.End
	case *mysql.Handshake:
		b.conn(e.Conn).server = d
	case *mysql.Login:
		s := b.conn(e.Conn)
		s.login = d
		x := &exchange{proto: protoMySQLLogin, req: e, conn: e.Conn, start: e.Start.Time, end: e.End}
		s.lastMySQL = x
		b.xs = append(b.xs, x)
	case *mysql.Command:
		s := b.conn(e.Conn)
		x := &exchange{proto: protoMySQL, req: e, conn: e.Conn, start: e.Start.Time, end: e.End}
		s.lastMySQL = x
		b.xs = append(b.xs, x)
	case *mysql.Result:
		s := b.conn(e.Conn)
		x := s.lastMySQL
		if x == nil || (d.Command == "login") != (x.proto == protoMySQLLogin) {
			x = &exchange{proto: protoMySQL, conn: e.Conn, start: e.Start.Time}
			s.lastMySQL = x
			b.xs = append(b.xs, x)
		}
		x.resps = append(x.resps, e)
		x.end = e.End
	}
	switch e.Kind {
	case event.TLSDecrypted:
		if b.tls == nil {
			b.tls = map[*event.Conn]string{}
		}
		b.tls[e.Conn] = fmt.Sprint(e.Data)
	case event.TCPRefused, event.TCPReset, event.TLSNoKey:
		b.xs = append(b.xs, &exchange{proto: protoTCP, req: e, conn: e.Conn, start: e.Start.Time, end: e.End})
	}
}

// otherCallee names the server of a non-HTTP exchange.
func (b *builder) otherCallee(x *exchange) *party {
	ps := b.parties
	if x.proto == protoFile {
		return b.filesParty()
	}
	if x.conn == nil {
		return nil
	}
	switch {
	case x.proto == protoMemcached || (x.proto == protoTCP && b.memcachedConns[x.conn]) || (x.proto == protoTCP && x.conn.Server.Port() == 11211):
		return ps.get("memcached", "memcached", RoleMemcached, "")
	case (x.proto == protoMySQL || x.proto == protoMySQLLogin) || (x.proto == protoTCP && (b.isMySQLConn(x.conn) || x.conn.Server.Port() == 3306)):
		db := ""
		if s := b.conns[x.conn]; s != nil {
			db = s.db
		}
		if db == "" {
			return ps.get("mysql", "MySQL", RoleMySQL, "")
		}
		return ps.get("db:"+db, db+" DB", RoleMySQL, "")
	case x.proto == protoTCP:
		// A refused or reset connection says nothing of what listens:
		// a service if one is known there, else a peer.
		ap := x.conn.Server
		if p := ps.servers[ap]; p != nil {
			return p
		}
		if _, ok := openstack.WellKnownPorts[ap.Port()]; ok || ps.catalogName(ap) != "" {
			return ps.httpServer(ap, "")
		}
		return ps.peer(ap)
	}
	return nil
}

// otherCaller names the caller of a non-HTTP connection when its protocol
// tells: a database connection belongs to the service its database is for.
func (b *builder) otherCaller(x *exchange) *party {
	if s := b.conns[x.conn]; s != nil && s.db != "" && b.isMySQLConn(x.conn) {
		return b.parties.service(s.db)
	}
	return nil
}

// otherMessages draws a non-HTTP exchange.
func (b *builder) otherMessages(x *exchange) []*pending {
	if x.caller == nil || x.callee == nil || x.skip {
		return nil
	}
	if x.conn != nil {
		x.caller.p.Endpoints = append(x.caller.p.Endpoints, x.conn.Client.Addr().String())
		x.callee.p.Endpoints = append(x.callee.p.Endpoints, x.conn.Server.String())
	}
	switch x.proto {
	case protoMemcached:
		return b.memcachedMessages(x)
	case protoMySQL, protoMySQLLogin:
		if x.run != nil {
			return b.runMessages(x.run)
		}
		return b.mysqlMessages(x)
	case protoTCP:
		return b.tcpMessages(x)
	case protoFile:
		return b.fileMessages(x)
	}
	return nil
}

func (b *builder) tcpMessages(x *exchange) []*pending {
	m := &Message{}
	switch x.req.Kind {
	case event.TCPRefused:
		m = b.message(x.caller, x.callee, x.req.Start, KindTCPRefused)
		m.Label = "connect: refused (RST)"
		text := b.t(noteNotListening, x.callee.name, x.conn.Server.String())
		if x.callee.role == RolePeer {
			text = b.t(noteNothingListens, x.conn.Server.String())
		}
		m.Notes = append(m.Notes, Note{Over: []string{m.To}, Text: text})
	case event.TLSNoKey:
		m = b.message(x.caller, x.callee, x.req.Start, KindTLSNoKey)
		m.Label = "TLS (no key)"
	default:
		from, to := x.caller, x.callee
		if x.req.FromServer {
			from, to = to, from
		}
		m = b.message(from, to, x.req.Start, KindTCPReset)
		m.Label = "connection reset (RST)"
		m.Response = x.req.FromServer
	}
	return []*pending{{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause}}
}

// connState is what the flow knows about one non-HTTP connection.
type connState struct {
	login     *mysql.Login
	server    *mysql.Handshake
	lastMySQL *exchange
	memcache  map[uint64]*exchange // commands by Seq
	db        string               // database name of a MySQL connection
}

func (b *builder) conn(c *event.Conn) *connState {
	if b.conns == nil {
		b.conns = map[*event.Conn]*connState{}
	}
	s := b.conns[c]
	if s == nil {
		s = &connState{memcache: map[uint64]*exchange{}}
		b.conns[c] = s
	}
	return s
}
