package mysql

import (
	"slices"
	"strings"
	"testing"
)

// TestRedactBothQuotingModes: a literal read differently with and without
// NO_BACKSLASH_ESCAPES is redacted under both readings.
func TestRedactBothQuotingModes(t *testing.T) {
	tests := []struct{ in, want string }{
		// Default: one literal 'a\' , ' then SECRET then an open quote.
		// NO_BACKSLASH_ESCAPES: 'a\' and 'SECRET'.
		{`SELECT 'a\' , 'SECRET'`, "SELECT ?"},
		{`UPDATE user SET x = 'a\', password = 'SECRET' WHERE id = 1`, "UPDATE user SET x = ?"},
		{`SELECT "x\" , "SECRET" FROM t`, "SELECT ?"},
		// Both readings close every literal.
		{`SELECT 'a\' , 'SECRET' , 'b\' , '`, "SELECT ?"},
		// No disagreement: unchanged behaviour.
		{`SELECT 'back\\' , 'x'`, "SELECT ? , ?"},
		// Without backslash escapes the literal runs to the end.
		{`SELECT 'it\'s' FROM t`, "SELECT ?"},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "SECRET") {
			t.Errorf("Redact(%q) = %q shows the literal", tt.in, got)
		}
	}
}

func TestSecretLiterals(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"CREATE USER 'glance'@'localhost' IDENTIFIED BY 'GLANCE_DBPASS'", []string{"GLANCE_DBPASS"}},
		{"GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'%' IDENTIFIED BY 'GLANCE_DBPASS'", []string{"GLANCE_DBPASS"}},
		{"ALTER USER 'k'@'%' IDENTIFIED WITH mysql_native_password BY 'KEYSTONE_DBPASS'", []string{"KEYSTONE_DBPASS"}},
		{"SET PASSWORD FOR 'glance'@'%' = PASSWORD('GLANCE_DBPASS')", []string{"GLANCE_DBPASS"}},
		// A syntax error, as MariaDB answers with near '('GLANCE_DBPASS')'.
		{"SET PASSWORD = PASSWORD(('GLANCE_DBPASS')", []string{"GLANCE_DBPASS"}},
		{"UPDATE password SET password_hash = '$6$rounds=5000$abc$XYZ' WHERE id = 42", []string{"$6$rounds=5000$abc$XYZ"}},
		{"INSERT INTO password (local_user_id, password_hash, created_at) VALUES (1, '$2b$12$hash', '2026-01-01'), (2, 'h2', 'x')",
			[]string{"$2b$12$hash", "h2"}},
		{"INSERT INTO application_credential (name, secret_hash) VALUES ('app', 'SEKRIT')", []string{"SEKRIT"}},
		{"SELECT * FROM project WHERE name = 'admin'", nil},
		// Under NO_BACKSLASH_ESCAPES the second literal is the password.
		{`UPDATE user SET x = 'a\', password = 'SECRET'`, []string{"SECRET"}},
	}
	for _, tt := range tests {
		got := SecretLiterals(tt.in)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("SecretLiterals(%q) = %q, want %q among them", tt.in, got, w)
			}
		}
		if tt.want == nil && len(got) > 0 {
			t.Errorf("SecretLiterals(%q) = %q, want none", tt.in, got)
		}
	}
}

func TestRedactError(t *testing.T) {
	msg := "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '('GLANCE_DBPASS')' at line 1"
	got := RedactError(msg)
	if strings.Contains(got, "GLANCE_DBPASS") {
		t.Errorf("RedactError = %q", got)
	}
	if !strings.HasSuffix(got, "near ? at line 1") {
		t.Errorf("RedactError = %q, want it to end in near ? at line 1", got)
	}
	if got := RedactError("Duplicate entry 'admin' for key 'name'"); strings.Contains(got, "admin") {
		t.Errorf("RedactError = %q", got)
	}
}
