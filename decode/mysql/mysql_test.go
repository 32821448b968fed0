package mysql

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/decode/event"
)

var realConvs = []string{"keystone-login", "glance-login", "keystone-midstream", "glance-midstream"}

// TestRealConversations decodes MySQL connections of the lab captures
// (PyMySQL 1.0.2 ↔ MariaDB 10.11).
func TestRealConversations(t *testing.T) {
	type resultWant struct {
		index         int // among the Results
		kind          string
		columns, rows int
	}
	tests := []struct {
		name          string
		handshake     bool
		user, db, pid string
		commands      int
		first         []string // the first statements
		results       []resultWant
		tablesAt      int // a command whose tables are checked
		tables        []string
		dbAt          int // a command whose DB is checked
		dbWant        string
		dbGuessed     bool
	}{
		{
			name: "keystone-login", handshake: true, user: "keystone", db: "keystone", pid: "28518",
			commands: 50,
			first:    []string{"SET AUTOCOMMIT = 0", "SET SESSION sql_mode = 'TRADITIONAL'", "SHOW VARIABLES LIKE 'sql_mode'", "SET NAMES utf8", "SELECT VERSION()", "SELECT DATABASE()"},
			results: []resultWant{
				{0, KindOK, 0, 0}, // login
				{1, KindOK, 0, 0}, // SET AUTOCOMMIT
				{3, KindResultSet, 2, 1},
				{5, KindResultSet, 1, 1},
			},
			tablesAt: 15, tables: []string{"project", "project_tag"},
			dbAt: 0, dbWant: "keystone",
		},
		{
			name: "glance-login", handshake: true, user: "glance", db: "glance", pid: "28685",
			commands: 25,
			first:    []string{"SET AUTOCOMMIT = 0", "SET SESSION sql_mode = 'TRADITIONAL'"},
			results:  []resultWant{{0, KindOK, 0, 0}, {3, KindResultSet, 2, 1}},
			tablesAt: 14, tables: []string{"images", "image_properties", "image_locations"},
			dbAt: 0, dbWant: "glance",
		},
		{
			name:     "keystone-midstream",
			commands: 40,
			first:    []string{"SELECT 1"},
			results:  []resultWant{{0, KindResultSet, 1, 1}},
			tablesAt: 1, tables: []string{"project"},
			dbAt: 1, dbWant: "keystone", dbGuessed: true,
		},
		{
			name:     "glance-midstream",
			commands: 3,
			first:    []string{"SELECT 1"},
			results:  []resultWant{{0, KindResultSet, 1, 1}, {1, KindResultSet, 44, 6}, {2, KindOK, 0, 0}},
			tablesAt: 1, tables: []string{"images", "image_properties", "image_tags", "image_locations"},
			dbAt: 1, dbWant: "glance", dbGuessed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := run(loadConv(t, tt.name), whole)
			if w := col.warnings(); len(w) > 0 {
				t.Errorf("warnings: %q", w)
			}
			hs, logins := col.of(event.MySQLHandshake), col.of(event.MySQLLogin)
			if tt.handshake {
				if len(hs) != 1 || len(logins) != 1 {
					t.Fatalf("%d handshakes, %d logins; want 1 and 1", len(hs), len(logins))
				}
				h := hs[0].Data.(*Handshake)
				if h.ServerVersion != "5.5.5-10.11.19-MariaDB-0+deb12u1" || !h.MariaDB || h.AuthPlugin != "mysql_native_password" || !hs[0].FromServer {
					t.Errorf("handshake = %+v", h)
				}
				if h.Capabilities&CapCompress == 0 || h.Capabilities&CapSSL != 0 {
					t.Errorf("server capabilities %#x: want compression offered, no SSL", h.Capabilities)
				}
				lg := logins[0].Data.(*Login)
				if lg.User != tt.user || lg.Database != tt.db || lg.ClientAttrs["_pid"] != tt.pid ||
					fmt.Sprint(lg.PID) != tt.pid || lg.ClientAttrs["_client_name"] != "pymysql" ||
					lg.AuthPlugin != "mysql_native_password" || lg.AuthLength != 20 || lg.SSL || lg.Compress {
					t.Errorf("login = %+v", lg)
				}
				if lg.Capabilities != 0x003aa20f {
					t.Errorf("client capabilities %#x, want 0x3aa20f", lg.Capabilities)
				}
			} else if len(hs)+len(logins) > 0 {
				t.Errorf("midstream connection has %d handshakes, %d logins", len(hs), len(logins))
			}
			cmds := col.commands()
			if len(cmds) != tt.commands {
				t.Errorf("%d commands, want %d", len(cmds), tt.commands)
			}
			for i, want := range tt.first {
				if i >= len(cmds) || cmds[i].Statement != want || cmds[i].Command != "COM_QUERY" {
					t.Errorf("command %d = %+v, want %q", i, cmds[min(i, len(cmds)-1)], want)
				}
			}
			results := col.results()
			// Every command gets exactly one answer here.
			wantResults := tt.commands
			if tt.handshake {
				wantResults++
			}
			if len(results) != wantResults {
				t.Errorf("%d results, want %d", len(results), wantResults)
			}
			for _, w := range tt.results {
				r := results[w.index]
				if r.Kind != w.kind || r.Columns != w.columns || r.Rows != w.rows {
					t.Errorf("result %d = %+v, want %s with %d columns, %d rows", w.index, r, w.kind, w.columns, w.rows)
				}
			}
			if c := cmds[tt.tablesAt]; !slices.Equal(c.Tables, tt.tables) {
				t.Errorf("command %d (%.60q…) tables %q, want %q", tt.tablesAt, c.Statement, c.Tables, tt.tables)
			}
			if c := cmds[tt.dbAt]; c.DB != tt.dbWant || c.DBGuessed != tt.dbGuessed {
				t.Errorf("command %d DB %q guessed=%v, want %q guessed=%v", tt.dbAt, c.DB, c.DBGuessed, tt.dbWant, tt.dbGuessed)
			}
			// Commands and their results alternate, in capture order.
			var prev *event.Event
			for _, e := range col.events {
				if prev != nil && e.Start.Frame.Number < prev.Start.Frame.Number {
					t.Errorf("event at frame %d after frame %d", e.Start.Frame.Number, prev.Start.Frame.Number)
				}
				if e.End.Before(e.Start.Time) {
					t.Errorf("event ends before it starts: %+v", e)
				}
				if e.Conn == nil || e.Conn.ID != 1 {
					t.Errorf("event without its connection: %+v", e)
				}
				prev = e
			}
		})
	}
}

// TestMidstreamFirstCommand: the capture starts inside a connection; the
// first segment holds an unfinished command's tail and the server's
// answer to a command not in the capture. Decoding starts at the first
// whole command.
func TestMidstreamFirstCommand(t *testing.T) {
	q := query("SELECT project.id FROM project WHERE project.name = 'admin'")
	col := run(&newConv(true).
		client(q[20:]).                              // tail of a command
		server(resultSet(1, 3, false, 2)[9:]).       // tail of its answer
		server(pkt(1, okPayload(0, 0, 2, 0))).       // answer to nothing known
		client(query("SELECT 1")).                   // first whole command
		server(resultSet(1, 1, false, 2)).           //
		client(q).server(resultSet(1, 1, false, 2)). //
		conv, whole)
	if w := col.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	cmds, results := col.commands(), col.results()
	if len(cmds) != 2 || cmds[0].Statement != "SELECT 1" || len(results) != 2 || results[0].Rows != 1 {
		t.Fatalf("events:\n%s", col.dump())
	}
	if cmds[1].DB != "keystone" || !cmds[1].DBGuessed || cmds[0].DB != "" {
		t.Errorf("DB: %+v, %+v", cmds[0], cmds[1])
	}
}

// TestSegmentation: the events do not depend on how the bytes are cut
// into segments.
func TestSegmentation(t *testing.T) {
	convs := map[string]*conversation{}
	for _, name := range realConvs {
		convs[name] = loadConv(t, name)
	}
	for _, c := range syntheticCases() {
		convs[c.name] = &c.conv
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(data []byte) [][]byte {
		var out [][]byte
		for len(data) > 0 {
			n := min(len(data), 1+rng.IntN(40))
			out = append(out, data[:n])
			data = data[n:]
		}
		return out
	}
	for name, conv := range convs {
		if strings.HasPrefix(name, "big") {
			continue // TestBigPackets
		}
		t.Run(name, func(t *testing.T) {
			want := run(conv, whole).dump()
			for sname, split := range map[string]splitter{"bytewise": bytewise, "chunks7": chunks(7), "random": random} {
				if got := run(conv, split).dump(); got != want {
					t.Errorf("%s: events differ\n got:\n%s\nwant:\n%s", sname, got, want)
				}
			}
		})
	}
}

// TestNoSecrets: auth responses, clear-text passwords and literals never
// reach an event, except a statement's raw text, which is only shown
// through Redact.
func TestNoSecrets(t *testing.T) {
	const secret = "S3cretPassw0rd"
	b := newConv(false).
		server(greeting(mariaServerCaps)).
		client(loginPacket(pymysqlCaps, "keystone", "keystone", []byte(secret), "_pid", "1")).
		server(pkt(2, []byte{0xfe}, nul("mysql_clear_password"), []byte("salt"))). // auth switch
		client(pkt(3, nul(secret))).                                               // clear-text password
		server(pkt(4, okPayload(0, 0, 2, 0))).
		client(pkt(0, []byte{comChangeUser}, nul("admin"), []byte{byte(len(secret))}, []byte(secret), nul("keystone"))).
		server(pkt(1, []byte{0xfe}, nul("mysql_clear_password"))).
		client(pkt(2, nul(secret))).
		server(pkt(3, okPayload(0, 0, 2, 0))).
		client(query("UPDATE password SET password_hash = '$6$rounds=5000$" + secret + "' WHERE id = 42")).
		server(pkt(1, okPayload(1, 0, 2, 0)))
	col := run(&b.conv, whole)
	if w := col.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
	for _, e := range col.events {
		s := fmt.Sprintf("%+v", e.Data)
		if c, ok := e.Data.(*Command); ok && c.Command == "COM_QUERY" {
			s = Redact(c.Statement) + fmt.Sprint(c.Tables)
		}
		if strings.Contains(s, secret) {
			t.Errorf("%s event shows the secret: %s", e.Kind, s)
		}
	}
	cmds := col.commands()
	if len(cmds) != 2 || cmds[0].Command != "COM_CHANGE_USER" || cmds[0].User != "admin" || cmds[1].DB != "keystone" {
		t.Errorf("events:\n%s", col.dump())
	}
	if len(col.results()) != 3 {
		t.Errorf("events:\n%s", col.dump())
	}
}
