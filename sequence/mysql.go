package sequence

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/mysql"
)

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
			m.Error = fmt.Sprintf("%d: %s", r.ErrorCode, mysql.RedactError(r.ErrorMessage))
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
		return fmt.Sprintf("error %d: %s", r.ErrorCode, mysql.RedactError(r.ErrorMessage))
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

// isMySQLConn tells whether MySQL was decoded on a connection.
func (b *builder) isMySQLConn(c *event.Conn) bool {
	s := b.conns[c]
	return s != nil && (s.login != nil || s.server != nil || s.db != "" || s.lastMySQL != nil)
}

// databases names the database of each MySQL connection: the login's, or
// the one its tables belong to.
func (b *builder) databases() {
	b.memcachedConns = map[*event.Conn]bool{}
	for _, x := range b.xs {
		switch x.proto {
		case protoMemcached:
			b.memcachedConns[x.conn] = true
		case protoMySQL, protoMySQLLogin:
			s := b.conn(x.conn)
			if s.db != "" {
				continue
			}
			switch {
			case s.login != nil && s.login.Database != "":
				s.db = s.login.Database
			case s.login != nil && s.login.User != "":
				s.db = s.login.User
			case x.req != nil:
				if c, ok := x.req.Data.(*mysql.Command); ok && c.DB != "" {
					s.db = c.DB
				}
			}
		}
	}
}
