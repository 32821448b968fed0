package mysql

import (
	"regexp"
	"strings"
)

// SecretLiterals returns the string literals of a statement that hold
// credentials, unquoted: the password of IDENTIFIED BY / IDENTIFIED WITH
// … BY|AS, the arguments of PASSWORD() and OLD_PASSWORD(), and the
// values compared with or assigned or inserted into a column named like a
// password or secret (password_hash = '…', INSERT INTO password
// (…, password_hash) VALUES (…, '…')). Statements are read under both
// quoting modes (with and without NO_BACKSLASH_ESCAPES); a syntax error
// does not stop the scan. It is how the values a capture reveals are
// known, to be scrubbed from every other text (error messages, say).
func SecretLiterals(statement string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, backslash := range []bool{true, false} {
		for _, v := range secretLiterals(statement, backslash) {
			add(v)
		}
	}
	return out
}

// sensitiveName reports whether a column or variable name says its
// value is a credential.
func sensitiveName(name string) bool {
	n := strings.ToLower(strings.Trim(name, "`"))
	for _, w := range []string{"pass", "secret", "pwd", "credential_blob"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func secretLiterals(s string, backslash bool) []string {
	t := &tableScanner[string]{s: s, noBackslash: !backslash}
	var toks []token
	for tk := t.next(); tk.kind != 0; tk = t.next() {
		toks = append(toks, tk)
	}
	text := func(tk token) string { return s[tk.start:tk.end] }
	upper := func(tk token) string {
		if tk.kind != 'w' {
			return ""
		}
		return strings.ToUpper(text(tk))
	}
	lit := func(tk token) string { return unquote(text(tk), backslash) }
	identified := strings.Contains(strings.ToUpper(s), "IDENTIFIED")
	var out []string
	var columns []string // of INSERT … (columns) VALUES
	inValues := false
	depth, col := 0, 0
	for i, tk := range toks {
		if tk.kind != 's' {
			switch {
			case upper(tk) == "VALUES" || upper(tk) == "VALUE":
				inValues, depth, col = true, 0, 0
			case tk.kind == '(':
				depth++
				if depth == 1 {
					col = 0
				}
				// The column list of INSERT INTO t (a, b, …).
				if !inValues && i > 0 && (toks[i-1].kind == 'w' || toks[i-1].kind == 'q') && columns == nil && insertLike(toks, i, upper) {
					for j := i + 1; j < len(toks) && toks[j].kind != ')'; j++ {
						if toks[j].kind == 'w' || toks[j].kind == 'q' {
							columns = append(columns, text(toks[j]))
						}
					}
				}
			case tk.kind == ')':
				depth--
			case tk.kind == ',' && depth == 1:
				col++
			}
			continue
		}
		prev := func(n int) token {
			if i-n < 0 {
				return token{}
			}
			return toks[i-n]
		}
		switch {
		case identified && (upper(prev(1)) == "BY" || upper(prev(1)) == "AS"):
			out = append(out, lit(tk))
		case inValues && depth == 1 && col < len(columns) && sensitiveName(columns[col]):
			out = append(out, lit(tk))
		case (prev(1).kind == '=' || upper(prev(1)) == "LIKE") && (prev(2).kind == 'w' || prev(2).kind == 'q') && sensitiveName(text(prev(2))):
			out = append(out, lit(tk))
		case prev(1).kind == '=' && prev(2).kind == ':' && sensitiveName(text(prev(3))):
			out = append(out, lit(tk))
		case insidePasswordCall(toks, i, upper):
			out = append(out, lit(tk))
		}
	}
	return out
}

// insertLike reports whether the "(" at toks[i] opens the column list of
// INSERT or REPLACE … INTO table.
func insertLike(toks []token, i int, upper func(token) string) bool {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		switch upper(toks[j]) {
		case "INTO":
			return true
		case "INSERT", "REPLACE":
			return true
		}
	}
	return false
}

// insidePasswordCall reports whether toks[i] is inside the parentheses
// of PASSWORD( or OLD_PASSWORD(.
func insidePasswordCall(toks []token, i int, upper func(token) string) bool {
	depth := 0
	for j := i - 1; j >= 0; j-- {
		switch toks[j].kind {
		case ')':
			depth++
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			if j > 0 {
				if w := upper(toks[j-1]); w == "PASSWORD" || w == "OLD_PASSWORD" {
					return true
				}
			}
		}
	}
	return false
}

// unquote returns the text of a quoted literal without its quotes,
// doubled quotes and (with backslash) backslash escapes undone.
func unquote(lit string, backslash bool) string {
	if len(lit) < 2 {
		return ""
	}
	q := lit[0]
	body := lit[1:]
	if body[len(body)-1] == q {
		body = body[:len(body)-1]
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && backslash && i+1 < len(body):
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(body[i])
			}
		case c == q && i+1 < len(body) && body[i+1] == q:
			b.WriteByte(q)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// nearQuote is the part of MySQL's and MariaDB's syntax error that quotes
// the statement from where parsing failed: it holds whatever literals
// came after, with quotes that no longer pair up.
var nearQuote = regexp.MustCompile(`(?s)near '.*' at line (\d+)`)

// RedactError returns a server's error message with its literals
// redacted, as Redact does for statements, and the statement text a
// syntax error quotes ("near '…' at line 1") replaced whole: its quotes do
// not pair up, so a literal inside it could not be told apart.
func RedactError(msg string) string {
	if loc := nearQuote.FindStringSubmatchIndex(msg); loc != nil {
		return Redact(msg[:loc[0]]) + "near ? at line " + msg[loc[2]:loc[3]] + Redact(msg[loc[1]:])
	}
	return Redact(msg)
}
