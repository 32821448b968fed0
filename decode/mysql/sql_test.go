package mysql

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT ?"},
		{"SELECT @@tx_isolation", "SELECT @@tx_isolation"},
		{"SHOW VARIABLES LIKE 'sql_mode'", "SHOW VARIABLES LIKE ?"},
		{"UPDATE password SET password_hash = '$6$rounds=5000$abc$XYZ' WHERE id = 42",
			"UPDATE password SET password_hash = ? WHERE id = ?"},
		{"INSERT INTO t (a, b) VALUES ('x', 'hash'), (-1, 2.5)", "INSERT INTO t (a, b) VALUES (?, ?), (-?, ?)"},
		// Escapes and doubled quotes do not end a string.
		{`SELECT 'a''b', "p""q" FROM t`, "SELECT ?, ? FROM t"},
		// An escaped quote: without backslash escapes (NO_BACKSLASH_ESCAPES,
		// which the capture does not show) the literal runs to the end.
		{`SELECT 'it\'s', 'a''b', "x\"y", "p""q" FROM t`, "SELECT ?"},
		{`SELECT 'back\\' , 'x'`, "SELECT ? , ?"},
		// Hex, bit, national and charset-introduced literals.
		{"SELECT 0xDEADbeef, X'0A1b', x'ff', B'101', 0b1010, N'secret', _utf8mb4'secret', _binary 'x'",
			"SELECT ?, ?, ?, ?, ?, ?, ?, _binary ?"},
		// Numbers: decimals, exponents, leading dot.
		{"SELECT 1.5, .5, 3., 1e10, 1.5E-3, 2e+7 FROM t", "SELECT ?, ?, ?, ?, ?, ? FROM t"},
		// Digits inside identifiers stay.
		{"SELECT anon_1.project_id, t1.c2, `col 3`, `x``4`, 1abc, a$1 FROM t1 AS anon_1 LIMIT 10",
			"SELECT anon_1.project_id, t1.c2, `col 3`, `x``4`, 1abc, a$1 FROM t1 AS anon_1 LIMIT ?"},
		{"SELECT t.1col FROM t", "SELECT t.1col FROM t"},
		{"SELECT project.id AS project_id \nFROM project \nWHERE project.name = 'admin' AND project.domain_id = 'default'",
			"SELECT project.id AS project_id \nFROM project \nWHERE project.name = ? AND project.domain_id = ?"},
		// Placeholders and variables.
		{"SELECT * FROM t WHERE a = ? AND b = @v AND c = :name", "SELECT * FROM t WHERE a = ? AND b = @v AND c = :name"},
		// Comments are dropped; executable ones are kept, redacted.
		{"SELECT a -- password 'x'\nFROM t # 'y'\nWHERE b = 1", "SELECT a \nFROM t \nWHERE b = ?"},
		{"SELECT/* 'secret' */a FROM t", "SELECT a FROM t"},
		{"/*!40101 SET NAMES utf8, @x = 'secret' */", "/*!40101 SET NAMES utf8, @x = ? */"},
		{"SELECT /*+ MAX_EXECUTION_TIME(1000) */ a", "SELECT /*+ MAX_EXECUTION_TIME(?) */ a"},
		{"SELECT 5-3--2", "SELECT ?-?--?"},
		// Unterminated literals and comments run to the end.
		{"INSERT INTO t VALUES ('abc", "INSERT INTO t VALUES (?"},
		{"SELECT 1 /* open", "SELECT ? "},
		// Non-ASCII identifiers and strings.
		{"SELECT näme FROM tàble WHERE x = 'é'", "SELECT näme FROM tàble WHERE x = ?"},
		{"SELECT x..5, a.b.5, 1..2", "SELECT x..?, a.b.?, ?.?"},
		{"SELECT .5x, 1.5x, 0x1g, 0.0X00", "SELECT .5x, ?.5x, 0x1g, ?.?"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestTables(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"SELECT 1", nil},
		{"SELECT VERSION()", nil},
		{"SELECT project.id AS project_id \nFROM project \nWHERE project.name = 'admin'", []string{"project"}},
		{"SELECT a FROM (SELECT project.id AS project_id \nFROM project \nWHERE x) AS anon_1 INNER JOIN project_tag ON a = b",
			[]string{"project", "project_tag"}},
		{"SELECT * FROM user LEFT OUTER JOIN local_user AS local_user_1 ON x LEFT OUTER JOIN password AS password_1 ON y",
			[]string{"user", "local_user", "password"}},
		{"SELECT * FROM a, b c, `d e` AS f, keystone.project WHERE 1", []string{"a", "b", "d e", "project"}},
		{"INSERT INTO images (id, name) VALUES ('a', 'FROM nothing')", []string{"images"}},
		{"REPLACE INTO t SELECT * FROM s", []string{"t", "s"}},
		{"UPDATE LOW_PRIORITY image_properties SET deleted = 1 WHERE image_id = 'x'", []string{"image_properties"}},
		{"UPDATE a, b SET a.x = b.y", []string{"a", "b"}},
		{"DELETE FROM revocation_event WHERE revoked_at < '2026-01-01'", []string{"revocation_event"}},
		{"SELECT * FROM t FOR UPDATE", []string{"t"}},
		{"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", []string{"t"}},
		{"SELECT EXTRACT(YEAR FROM created_at), TRIM(LEADING 'x' FROM name) FROM images", []string{"images"}},
		{"SELECT 1 FROM DUAL", nil},
		{"SELECT * INTO @x FROM t", []string{"t"}},
		{"DROP TABLE IF EXISTS old_images; TRUNCATE TABLE tasks", []string{"old_images", "tasks"}},
		{"SHOW TABLE STATUS", nil},
		{"CREATE TABLE IF NOT EXISTS t2 (id INT); LOCK TABLES t3 READ", []string{"t2", "t3"}},
		{"SELECT a FROM t1 JOIN t2 USING (id) JOIN t1 ON x", []string{"t1", "t2"}},
		{"select * from `weird``name` /* FROM nothing */ -- FROM nothing\n", []string{"weird`name"}},
		{"SELECT * FROM", nil},
	}
	for _, tt := range tests {
		if got := Tables(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tables(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGuessDatabase(t *testing.T) {
	tests := []struct {
		tables []string
		want   string
	}{
		{[]string{"project"}, "keystone"},
		{[]string{"anon", "local_user"}, "keystone"},
		{[]string{"revocation_event"}, "keystone"},
		{[]string{"Images", "image_properties"}, "glance"},
		{[]string{"image_members"}, "glance"},
		{[]string{"instances"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := GuessDatabase(tt.tables); got != tt.want {
			t.Errorf("GuessDatabase(%q) = %q, want %q", tt.tables, got, tt.want)
		}
	}
}

func TestUseStatement(t *testing.T) {
	for in, want := range map[string]string{
		"USE glance": "glance", "use `key stone`;": "key stone", " USE\tkeystone ; ": "keystone",
		"USER x": "", "USE a b": "", "SELECT 1": "",
	} {
		if got := useStatement(in); got != want {
			t.Errorf("useStatement(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
		cut   bool
	}{
		{"abc", 10, "abc", false},
		{"abcdef", 3, "abc", true},
		{"aé", 2, "a", true}, // é is 2 bytes: not split
		{"a\xffb", 10, "a\uFFFDb", false},
		{"日本", 5, "日", true},
	}
	for _, tt := range tests {
		got, cut := text([]byte(tt.in), tt.limit)
		if got != tt.want || cut != tt.cut || !utf8.ValidString(got) {
			t.Errorf("text(%q, %d) = %q, %v; want %q, %v", tt.in, tt.limit, got, cut, tt.want, tt.cut)
		}
	}
}
