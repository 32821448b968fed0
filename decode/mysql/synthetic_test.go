package mysql

import (
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/decode/event"
)

type syntheticCase struct {
	name     string
	conv     conversation
	warnings []string // substrings of the warnings expected, in order
	check    func(t *testing.T, col *collector)
}

// wantCommands checks the commands' names and statements ("" to skip).
func wantCommands(t *testing.T, col *collector, want ...string) {
	t.Helper()
	var got []string
	for _, c := range col.commands() {
		s := c.Command
		if c.Statement != "" {
			s += " " + c.Statement
		}
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantResults checks the results as "COMMAND kind columns/rows" or
// "COMMAND error CODE".
func wantResults(t *testing.T, col *collector, want ...string) {
	t.Helper()
	var got []string
	for _, r := range col.results() {
		got = append(got, describe(r))
	}
	if !slices.Equal(got, want) {
		t.Errorf("results:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func describe(r *Result) string {
	var b strings.Builder
	b.WriteString(r.Command + " " + r.Kind)
	switch r.Kind {
	case KindError:
		b.WriteString(" " + itoa(int(r.ErrorCode)) + " " + r.SQLState)
	case KindResultSet:
		b.WriteString(" " + itoa(r.Columns) + "/" + itoa(r.Rows))
	case KindOK:
		if r.AffectedRows > 0 {
			b.WriteString(" affected=" + itoa(int(r.AffectedRows)))
		}
	case KindPrepareOK:
		b.WriteString(" id=" + itoa(int(r.StatementID)) + " " + itoa(r.Params) + "/" + itoa(r.Columns))
	}
	return b.String()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	neg := i < 0
	if neg {
		i = -i
	}
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

// lie changes a compressed frame's uncompressed length.
func lie(frame []byte, ulen int) []byte {
	frame[4], frame[5], frame[6] = byte(ulen), byte(ulen>>8), byte(ulen>>16)
	return frame
}

func syntheticCases() []syntheticCase {
	binaryRow := cat([]byte{0x00, 0x00}, lstr("admin"))
	prepareOK := func(id uint32, cols, params uint16) []byte {
		return cat([]byte{0}, u32(id), u16(cols), u16(params), []byte{0}, u16(0))
	}
	stmt := func(cmd byte, id uint32, rest ...[]byte) []byte {
		return pkt(0, cat([]byte{cmd}, u32(id)), cat(rest...))
	}
	execute := func(id uint32) []byte {
		return stmt(comStmtExecute, id, []byte{0}, u32(1), []byte{0, 1}, u16(0xfd), lstr("x"))
	}
	deprecate := pymysqlCaps | CapDeprecateEOF
	// A compressed conversation: frames carry one or more packets; the
	// second result set is split over two frames, in the middle of a
	// packet.
	rsA := resultSet(2, 3, false, 2)
	rsB := resultSet(3, 40, false, 2)
	compressed := newConv(false).
		server(greeting(mariaServerCaps)).
		client(loginPacket(pymysqlCaps|CapCompress, "glance", "glance", []byte("0123456789abcdefghij"))).
		server(pkt(2, okPayload(0, 0, 2, 0))).
		client(frame(0, query("SELECT id FROM images"), false)).
		server(frame(1, rsA, true)).
		client(frame(0, query("SELECT name, value, id FROM image_properties WHERE image_id = 'c6bca20f-4a4e-4ab5-9b8c-935b243c8190'"), true)).
		server(frame(1, rsB[:100], true), frame(2, rsB[100:], false)).
		client(frame(0, cat(query("ROLLBACK")), false)).
		server(frame(1, pkt(1, okPayload(0, 0, 2, 0)), false))
	compressedMid := newConv(true)
	for _, s := range compressed.conv.segments[3:] {
		compressedMid.add(s.fromServer, 0, s.data)
	}
	q := query("SELECT * FROM project WHERE name = 'admin' AND domain_id = 'default'")

	return []syntheticCase{
		{
			name: "error",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT * FROM nosuch")).
				server(pkt(1, errPayload(1146, "42S02", "Table 'keystone.nosuch' doesn't exist"))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY error 1146 42S02", "COM_QUERY resultset 1/1")
				if r := col.results()[1]; r.ErrorMessage != "Table 'keystone.nosuch' doesn't exist" {
					t.Errorf("error message %q", r.ErrorMessage)
				}
				if e := col.of(event.MySQLResult)[1]; !e.FromServer || e.Start.Frame.Number != 5 {
					t.Errorf("error event %+v", e)
				}
			},
		},
		{
			name: "unsolicited-error",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).
				server(pkt(0, errPayload(4031, "HY000", "The client was disconnected by the server because of inactivity."))).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1", " error 4031 HY000")
			},
		},
		{
			name: "login-denied",
			conv: newConv(false).server(greeting(mariaServerCaps)).
				client(loginPacket(pymysqlCaps, "keystone", "keystone", []byte("0123456789abcdefghij"))).
				server(pkt(2, errPayload(1045, "28000", "Access denied for user 'keystone'@'localhost' (using password: YES)"))).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login error 1045 28000")
				if len(col.of(event.MySQLLogin)) != 1 {
					t.Errorf("no login")
				}
			},
		},
		{
			name: "refused",
			conv: newConv(false).server(pkt(0, []byte{0xff}, u16(1040), []byte("Too many connections"))).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "connect error 1040 ")
			},
		},
		{
			name: "prepared",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(pkt(0, []byte{comStmtPrepare}, []byte("SELECT name FROM project WHERE id = ?"))).
				server(pkt(1, prepareOK(7, 1, 1)), pkt(2, columnDef("", "?")), pkt(3, eofPayload(0, 2)),
					pkt(4, columnDef("project", "name")), pkt(5, eofPayload(0, 2))).
				client(execute(7)).
				server(pkt(1, lenenc(1)), pkt(2, columnDef("project", "name")), pkt(3, eofPayload(0, 2)),
					pkt(4, binaryRow), pkt(5, binaryRow), pkt(6, eofPayload(0, 2))).
				client(stmt(comStmtSendLongData, 7, u16(0), []byte("long data"))).
				client(stmt(comStmtReset, 7)).server(pkt(1, okPayload(0, 0, 2, 0))).
				client(stmt(comStmtClose, 7)).
				client(execute(7)).server(pkt(1, errPayload(1243, "HY000", "Unknown prepared statement handler (7) given to mysqld_stmt_execute"))).
				client(pkt(0, []byte{comStmtPrepare}, []byte("INSERT INTO project (id) VALUES (?)"))).
				server(pkt(1, prepareOK(8, 0, 1)), pkt(2, columnDef("", "?")), pkt(3, eofPayload(0, 2))).
				client(execute(8)).server(pkt(1, okPayload(1, 0, 2, 0))).conv,
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col,
					"COM_STMT_PREPARE SELECT name FROM project WHERE id = ?",
					"COM_STMT_EXECUTE SELECT name FROM project WHERE id = ?",
					"COM_STMT_SEND_LONG_DATA SELECT name FROM project WHERE id = ?",
					"COM_STMT_RESET SELECT name FROM project WHERE id = ?",
					"COM_STMT_CLOSE SELECT name FROM project WHERE id = ?",
					"COM_STMT_EXECUTE",
					"COM_STMT_PREPARE INSERT INTO project (id) VALUES (?)",
					"COM_STMT_EXECUTE INSERT INTO project (id) VALUES (?)")
				wantResults(t, col, "login ok", "COM_STMT_PREPARE prepare-ok id=7 1/1", "COM_STMT_EXECUTE resultset 1/2",
					"COM_STMT_RESET ok", "COM_STMT_EXECUTE error 1243 HY000", "COM_STMT_PREPARE prepare-ok id=8 1/0",
					"COM_STMT_EXECUTE ok affected=1")
				if c := col.commands()[1]; c.StatementID != 7 || !slices.Equal(c.Tables, []string{"project"}) {
					t.Errorf("execute: %+v", c)
				}
			},
		},
		{
			name: "prepared-midstream-deprecate-eof",
			conv: newConv(true).
				client(execute(3)).
				server(pkt(1, lenenc(1)), pkt(2, columnDef("project", "name")), pkt(3, binaryRow),
					pkt(4, []byte{0xfe}, okPayload(0, 0, 2, 0)[1:])).
				client(pkt(0, []byte{comStmtPrepare}, []byte("SELECT a, b FROM t WHERE c = ? AND d = ?"))).
				server(pkt(1, prepareOK(4, 2, 2)), pkt(2, columnDef("", "?")), pkt(3, columnDef("", "?")),
					pkt(4, columnDef("t", "a")), pkt(5, columnDef("t", "b"))).
				client(stmt(comStmtClose, 4)).
				client(query("SELECT 1")).server(resultSet(1, 1, true, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col, "COM_STMT_EXECUTE", "COM_STMT_PREPARE SELECT a, b FROM t WHERE c = ? AND d = ?",
					"COM_STMT_CLOSE SELECT a, b FROM t WHERE c = ? AND d = ?", "COM_QUERY SELECT 1")
				wantResults(t, col, "COM_STMT_EXECUTE resultset 1/1", "COM_STMT_PREPARE prepare-ok id=4 2/2", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "ping-initdb-use-quit",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(pkt(0, []byte{comPing})).server(pkt(1, okPayload(0, 0, 2, 0))).
				client(pkt(0, []byte{comInitDB}, []byte("glance"))).server(pkt(1, okPayload(0, 0, 2, 0))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).
				client(query("use `keystone`")).server(pkt(1, okPayload(0, 0, 2, 0))).
				client(query("SELECT 2")).server(resultSet(1, 1, false, 2)).
				client(pkt(0, []byte{comStatistics})).server(pkt(1, []byte("Uptime: 5  Threads: 1"))).
				client(pkt(0, []byte{comQuit})).conv,
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col, "COM_PING", "COM_INIT_DB", "COM_QUERY SELECT 1", "COM_QUERY use `keystone`",
					"COM_QUERY SELECT 2", "COM_STATISTICS", "COM_QUIT")
				wantResults(t, col, "login ok", "COM_PING ok", "COM_INIT_DB ok", "COM_QUERY resultset 1/1",
					"COM_QUERY ok", "COM_QUERY resultset 1/1", "COM_STATISTICS ok")
				cmds := col.commands()
				if cmds[1].Database != "glance" || cmds[0].DB != "keystone" || cmds[2].DB != "glance" || cmds[4].DB != "keystone" || cmds[2].DBGuessed {
					t.Errorf("databases: %+v %+v %+v %+v", cmds[0], cmds[1], cmds[2], cmds[4])
				}
			},
		},
		{
			name: "ssl",
			conv: newConv(false).server(greeting(mariaServerCaps | CapSSL)).
				client(pkt(1, u32(uint32(pymysqlCaps|CapSSL)), u32(1<<24), []byte{33}, make([]byte, 23))).
				client([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 client hello")).
				server([]byte("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03 server hello")).
				client([]byte("\x17\x03\x03\x00\x20 application data \x00\x00\x00\x03SELECT")).conv,
			check: func(t *testing.T, col *collector) {
				logins := col.of(event.MySQLLogin)
				if len(logins) != 1 || !logins[0].Data.(*Login).SSL || logins[0].Data.(*Login).User != "" {
					t.Errorf("events:\n%s", col.dump())
				}
				if len(col.events) != 2 {
					t.Errorf("events after the SSL request:\n%s", col.dump())
				}
			},
		},
		{
			name: "deprecate-eof",
			conv: newConv(false).handshake(mariaServerCaps, deprecate).
				client(query("SELECT a, b FROM t")).server(resultSet(2, 2, true, 2)).
				client(query("SELECT a FROM t WHERE 0")).server(resultSet(1, 0, true, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 2/2", "COM_QUERY resultset 1/0")
			},
		},
		{
			name: "deprecate-eof-midstream",
			conv: newConv(true).
				client(query("SELECT a FROM t WHERE 0")).server(resultSet(1, 0, true, 2)).
				client(query("SELECT a, b FROM t")).server(resultSet(2, 2, true, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "COM_QUERY resultset 1/0", "COM_QUERY resultset 2/2")
			},
		},
		{
			name: "multi-results",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps|CapMultiStatements).
				client(query("CALL p(); SELECT 1")).
				server(resultSet(2, 3, false, 2|StatusMoreResultsExist),
					// The next sets continue the sequence ids.
					pkt(9, lenenc(1)), pkt(10, columnDef("t", "c")), pkt(11, eofPayload(0, 2)), pkt(12, textRow("1")),
					pkt(13, eofPayload(0, 2|StatusMoreResultsExist)),
					pkt(14, okPayload(0, 0, 2, 0))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 2/3", "COM_QUERY resultset 1/1", "COM_QUERY ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "pipelined-midstream",
			conv: newConv(true).
				client(query("SELECT a FROM t"), query("SELECT b, c FROM t")).
				server(resultSet(1, 2, false, 2), resultSet(2, 3, false, 2)).
				client(pkt(0, []byte{comPing}), query("ROLLBACK")).
				server(pkt(1, okPayload(0, 0, 2, 0))).server(pkt(1, okPayload(0, 0, 2, 0))).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "COM_QUERY resultset 1/2", "COM_QUERY resultset 2/3", "COM_PING ok", "COM_QUERY ok")
			},
		},
		{
			name: "compressed",
			conv: compressed.conv,
			check: func(t *testing.T, col *collector) {
				if lg := col.of(event.MySQLLogin)[0].Data.(*Login); !lg.Compress {
					t.Errorf("login %+v", lg)
				}
				wantCommands(t, col, "COM_QUERY SELECT id FROM images",
					"COM_QUERY SELECT name, value, id FROM image_properties WHERE image_id = 'c6bca20f-4a4e-4ab5-9b8c-935b243c8190'",
					"COM_QUERY ROLLBACK")
				wantResults(t, col, "login ok", "COM_QUERY resultset 2/3", "COM_QUERY resultset 3/40", "COM_QUERY ok")
			},
		},
		{
			name: "compressed-corrupt",
			conv: newConv(false).
				server(greeting(mariaServerCaps)).
				client(loginPacket(pymysqlCaps|CapCompress, "glance", "glance", []byte("0123456789abcdefghij"))).
				server(pkt(2, okPayload(0, 0, 2, 0))).
				client(frame(0, query("SELECT id FROM images"), true)).
				server(lie(frame(1, rsA, true), len(rsA)+100)).
				client(frame(0, query("SELECT 1"), false)).
				server(frame(1, resultSet(1, 1, false, 2), true)).conv,
			warnings: []string{"server: compressed frame shorter than announced"},
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "compressed-midstream",
			conv: compressedMid.conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "COM_QUERY resultset 2/3", "COM_QUERY resultset 3/40", "COM_QUERY ok")
			},
		},
		{
			name: "infile",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps|CapLocalFiles).
				client(query("LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE images")).
				server(pkt(1, []byte{0xfb}, []byte("/tmp/x.csv"))).
				client(pkt(2, []byte("1,2,3\n4,5,6\n")), pkt(3)).
				server(pkt(4, okPayload(2, 0, 2, 0))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY infile", "COM_QUERY ok affected=2", "COM_QUERY resultset 1/1")
				if c := col.commands()[0]; !slices.Equal(c.Tables, []string{"images"}) || c.DB != "keystone" {
					t.Errorf("command %+v", c)
				}
			},
		},
		{
			name: "field-list",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(pkt(0, []byte{comFieldList}, nul("project"), []byte("%"))).
				server(pkt(1, columnDef("project", "id")), pkt(2, columnDef("project", "name")), pkt(3, eofPayload(0, 2))).
				client(pkt(0, []byte{comPing})).server(pkt(1, okPayload(0, 0, 2, 0))).conv,
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_FIELD_LIST resultset 2/0", "COM_PING ok")
			},
		},
		{
			name: "hostile-column-count",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT 1")).
				server(pkt(1, lenenc(1<<40)), pkt(2, columnDef("t", "c"))).
				client(query("SELECT 2")).server(resultSet(1, 1, false, 2)).conv,
			warnings: []string{"result set claims 1099511627776 columns"},
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "hostile-auth-length",
			conv: newConv(false).server(greeting(mariaServerCaps)).
				client(pkt(1, u32(uint32(pymysqlCaps)), u32(1<<24), []byte{33}, make([]byte, 23), nul("keystone"),
					lenenc(1<<62), []byte("short"))).
				server(pkt(2, okPayload(0, 0, 2, 0))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			warnings: []string{"login request: a field runs past the end of the 55-byte packet"},
			check: func(t *testing.T, col *collector) {
				if lg := col.of(event.MySQLLogin)[0].Data.(*Login); lg.User != "keystone" || lg.AuthLength != 0 || lg.Database != "" {
					t.Errorf("login %+v", lg)
				}
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "hostile-attrs",
			conv: newConv(false).server(greeting(mariaServerCaps)).
				client(pkt(1, u32(uint32(pymysqlCaps)), u32(1<<24), []byte{33}, make([]byte, 23), nul("x"),
					lenenc(0), nul("db"), nul("plugin"), lenenc(3<<30), lstr("_pid"), lenenc(1<<33))).
				server(pkt(2, okPayload(0, 0, 2, 0))).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			warnings: []string{"login request: connection attributes claim 3221225472 bytes, 14 are left",
				"login request: a connection attribute runs past"},
			check: func(t *testing.T, col *collector) {
				if lg := col.of(event.MySQLLogin)[0].Data.(*Login); lg.User != "x" || lg.Database != "db" || len(lg.ClientAttrs) != 0 {
					t.Errorf("login %+v", lg)
				}
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "hostile-ok",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("DELETE FROM t")).
				server(pkt(1, []byte{0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})).
				client(query("SELECT 2")).server(resultSet(1, 1, false, 2)).conv,
			warnings: []string{"bad OK packet"},
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "unknown-command",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(pkt(0, []byte{0x42, 1, 2, 3})).
				server(pkt(1, okPayload(0, 0, 2, 0))).
				client(query("SELECT 2")).server(resultSet(1, 1, false, 2)).conv,
			warnings: []string{"unknown command 0x42"},
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col, "COM_QUERY SELECT 2")
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "gap-in-query",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(q[:30]).add(false, 10, q[40:]).
				server(resultSet(3, 1, false, 2)).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).conv,
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col, "COM_QUERY "+string(q[5:30]), "COM_QUERY SELECT 1")
				if c := col.commands()[0]; !c.Truncated || c.Length != len(q)-4 {
					t.Errorf("command %+v", c)
				}
				wantResults(t, col, "login ok", "COM_QUERY resultset 3/1", "COM_QUERY resultset 1/1")
			},
		},
		{
			name: "gap-lost-command",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT 1")).server(resultSet(1, 1, false, 2)).
				server(resultSet(3, 2, false, 2)). // the answer to a command lost below
				add(false, len(q), query("SELECT 3")).server(resultSet(1, 3, false, 2)).
				client(query("SELECT 4")).server(resultSet(1, 4, false, 2)).conv,
			warnings: []string{"server: server data without a command", "client: " + itoa(len(q)) + " bytes missing"},
			check: func(t *testing.T, col *collector) {
				wantCommands(t, col, "COM_QUERY SELECT 1", "COM_QUERY SELECT 3", "COM_QUERY SELECT 4")
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/1", "COM_QUERY resultset 1/3", "COM_QUERY resultset 1/4")
			},
		},
		{
			name: "gap-in-resultset",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT 1")).
				server(resultSet(2, 5, false, 2)[:60]).add(true, 9, resultSet(2, 5, false, 2)[69:]).
				client(query("SELECT 2")).server(resultSet(1, 2, false, 2)).conv,
			check: func(t *testing.T, col *collector) {
				// The gap is inside a row: the rows are still counted.
				wantResults(t, col, "login ok", "COM_QUERY resultset 2/5", "COM_QUERY resultset 1/2")
			},
		},
		{
			name: "gap-across-packets",
			conv: newConv(false).handshake(mariaServerCaps, pymysqlCaps).
				client(query("SELECT 1")).
				server(resultSet(2, 5, false, 2)[:60]).add(true, 30, resultSet(2, 5, false, 2)[90:]).
				client(query("SELECT 2")).server(resultSet(1, 2, false, 2)).
				client(query("SELECT 3")).add(true, -1, resultSet(1, 2, false, 2)).
				client(query("SELECT 4")).server(resultSet(1, 4, false, 2)).conv,
			warnings: []string{"server: 30 bytes missing", "server: bytes missing from the capture"},
			check: func(t *testing.T, col *collector) {
				wantResults(t, col, "login ok", "COM_QUERY resultset 1/2", "COM_QUERY resultset 1/4")
			},
		},
	}
}

func TestSynthetic(t *testing.T) {
	for _, c := range syntheticCases() {
		t.Run(c.name, func(t *testing.T) {
			col := run(&c.conv, whole)
			w := col.warnings()
			ok := len(w) == len(c.warnings)
			for i := 0; ok && i < len(w); i++ {
				ok = strings.Contains(w[i], c.warnings[i])
			}
			if !ok {
				t.Errorf("warnings %q, want %q", w, c.warnings)
			}
			c.check(t, col)
			if t.Failed() {
				t.Logf("events:\n%s", col.dump())
			}
		})
	}
}
