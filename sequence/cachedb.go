package sequence

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
)

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

func memcachedKind(op string) Kind {
	switch op {
	case "get", "gets", "gat", "gats", "mg":
		return KindMemcachedGet
	case "set", "add", "replace", "append", "prepend", "cas", "ms":
		return KindMemcachedSet
	case "delete", "md":
		return KindMemcachedDelete
	}
	return KindMemcachedCommand
}

// keyLabel names a cache key: by the token it caches when known.
func (b *builder) keyLabel(key string) string {
	if tok, ok := b.cacheKeys[key]; ok {
		return "token " + b.fp(tok)
	}
	if openstack.ProtectedCacheKey(key) {
		return "protected token entry " + shorten(key, 20)
	}
	if h := openstack.HashedCacheKey(key); h != "" {
		return "token " + h[:openstack.FingerprintLen] + " (not seen issued)"
	}
	return shorten(key, 48)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (b *builder) memcachedMessages(x *exchange) []*pending {
	var out []*pending
	key := x.cacheKey()
	tok := ""
	if t, ok := b.cacheKeys[key]; ok {
		tok = b.fp(t)
	} else if h := openstack.HashedCacheKey(key); h != "" && !b.opts.ShowSecrets {
		tok = h[:openstack.FingerprintLen]
	}
	var cmd *memcached.Command
	if x.req != nil {
		cmd = x.req.Data.(*memcached.Command)
		m := b.message(x.caller, x.callee, x.req.Start, memcachedKind(cmd.Op))
		m.End = x.req.End
		m.Key, m.Token = key, tok
		m.Protected = tok == "" && openstack.ProtectedCacheKey(key)
		what := b.keyLabel(key)
		if len(cmd.Keys) > 1 {
			what += fmt.Sprintf(" and %d more keys", len(cmd.Keys)-1)
		}
		m.Label = cmd.Op + " " + what
		if memcachedKind(cmd.Op) == KindMemcachedSet {
			m.TTL = cmd.Exptime
		}
		if cmd.ValueLen > 0 || memcachedKind(cmd.Op) == KindMemcachedSet {
			m.Label += fmt.Sprintf(" (%s", size(int64(cmd.ValueLen)))
			if cmd.Exptime > 0 {
				m.Label += fmt.Sprintf(", ttl %d s", cmd.Exptime)
			}
			m.Label += ")"
		}
		if cmd.NoReply {
			m.Label += " noreply"
		}
		if x.repeats > 0 {
			m.Label += fmt.Sprintf(" (×%d)", x.repeats+1)
			m.Count = x.repeats + 1
		}
		out = append(out, &pending{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause})
	}
	if x.resp != nil {
		r := x.resp.Data.(*memcached.Reply)
		m := b.message(x.callee, x.caller, x.resp.Start, KindMemcachedResult)
		m.End = x.resp.End
		m.Response = true
		if x.req != nil {
			setDuration(m, x.req.Start.Time, x.resp.End)
		}
		m.Key, m.Token = key, tok
		switch {
		case memcachedKind(r.Op) == KindMemcachedGet && len(r.Results) > 0:
			hit := r.Hits > 0
			m.Hit = &hit
			if hit {
				n := 0
				for _, it := range r.Items {
					n += it.Len
				}
				m.Label = fmt.Sprintf("hit (%s)", size(int64(n)))
				if len(r.Results) > 1 {
					m.Label = fmt.Sprintf("%d hits, %d misses", r.Hits, r.Misses)
				}
				if tok != "" {
					m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCacheHit, tok)})
				}
			} else {
				m.Label = "miss"
				if tok != "" || openstack.ProtectedCacheKey(key) {
					m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCacheMiss)})
				}
			}
		case r.Stored != nil:
			m.Stored = r.Stored
			m.Label = strings.ToLower(strings.ReplaceAll(r.Status, "_", " "))
			if *r.Stored && tok != "" {
				m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCached, tok)})
			}
		default:
			m.Label = strings.ToLower(strings.ReplaceAll(r.Status, "_", " "))
		}
		if r.Error != "" {
			m.Label += ": " + r.Error
			m.Error = r.Error
		}
		if r.Implied {
			m.Label += " (implied)"
		}
		out = append(out, &pending{msg: m, at: x.resp.Start, x: x, cause: x.cause})
	}
	return out
}

func (b *builder) tcpMessages(x *exchange) []*pending {
	m := &Message{}
	switch x.req.Kind {
	case event.TCPRefused:
		m = b.message(x.caller, x.callee, x.req.Start, KindTCPRefused)
		m.Label = "connect: refused (RST)"
		m.Notes = append(m.Notes, Note{Over: []string{m.To}, Text: b.t(noteNotListening, x.callee.name, x.conn.Server.String())})
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

// mysqlMessages draws one database exchange (with --detail, or a login).
func (b *builder) mysqlMessages(x *exchange) []*pending {
	var out []*pending
	s := b.conns[x.conn]
	if x.req != nil {
		switch d := x.req.Data.(type) {
		case *mysql.Login:
			m := b.message(x.caller, x.callee, x.req.Start, KindMySQLLogin)
			m.User, m.Database = d.User, d.Database
			m.Label = "login as " + d.User
			if d.Database != "" {
				m.Label += " to database " + d.Database
			}
			if d.SSL {
				m.Label += " (TLS: the rest is encrypted)"
			}
			if d.PID > 0 {
				m.PID = d.PID
			}
			out = append(out, &pending{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause})
		case *mysql.Command:
			m := b.message(x.caller, x.callee, x.req.Start, KindMySQLQuery)
			m.Statement = mysql.Redact(d.Statement)
			m.Tables = d.Tables
			m.Count = 1
			m.Label = commandLabel(d)
			if s != nil {
				m.Database = s.db
			}
			out = append(out, &pending{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause})
		}
	}
	for _, re := range x.resps {
		r := re.Data.(*mysql.Result)
		if r.Command == "login" && r.Kind == mysql.KindOK {
			continue // a successful login needs no arrow of its own
		}
		m := b.message(x.callee, x.caller, re.Start, KindMySQLResult)
		m.Response = true
		m.End = re.End
		if x.req != nil {
			setDuration(m, x.req.Start.Time, re.End)
		}
		rows := r.Rows
		m.Rows = &rows
		m.Label = resultLabel(r)
		if r.Kind == mysql.KindError {
			m.Error = fmt.Sprintf("%d: %s", r.ErrorCode, mysql.Redact(r.ErrorMessage))
			m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteDBError, m.Error)})
		}
		out = append(out, &pending{msg: m, at: re.Start, x: x, cause: x.cause})
	}
	return out
}

func commandLabel(c *mysql.Command) string {
	switch c.Command {
	case "COM_QUERY", "COM_STMT_PREPARE", "COM_STMT_EXECUTE":
		if c.Statement != "" {
			return shorten(oneLineSQL(mysql.Redact(c.Statement)), 90)
		}
	case "COM_INIT_DB":
		return "use " + c.Database
	}
	return strings.ToLower(strings.TrimPrefix(c.Command, "COM_"))
}

func oneLineSQL(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func resultLabel(r *mysql.Result) string {
	switch r.Kind {
	case mysql.KindError:
		return fmt.Sprintf("error %d: %s", r.ErrorCode, mysql.Redact(r.ErrorMessage))
	case mysql.KindResultSet:
		return "ok, " + plural(r.Rows, "row")
	case mysql.KindOK:
		if r.AffectedRows > 0 {
			return fmt.Sprintf("ok, %d affected", r.AffectedRows)
		}
		return "ok"
	}
	return r.Kind
}
