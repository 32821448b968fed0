package mysql

import (
	"cmp"
	"slices"
	"strings"
)

// MaxTables is the most table names Tables returns.
const MaxTables = 32

// Redact returns statement with every literal replaced by "?": quoted
// strings (with backslash escapes and doubled quotes, and their N, X, B
// and _charset prefixes), numbers (integers, decimals, exponents, 0x and
// 0b literals). Identifiers stay, also when they contain digits (t1,
// anon_1, `col 2`), and so do placeholders, @variables, keywords and
// operators. Comments are dropped, except MySQL's executable /*!…*/ and
// optimizer /*+…*/ comments, whose literals are redacted too. It is how a
// statement may be shown: `WHERE password = '$6$…'` becomes
// `WHERE password = ?`.
func Redact(statement string) string {
	s := statement
	spans := literalSpans(s)
	var out strings.Builder
	out.Grow(len(s))
	identEnd := -1   // out length right after the last identifier copied
	identStart := -1 // out length where that identifier began
	k := 0           // the first span that does not end before i
	for i := 0; i < len(s); {
		for k < len(spans) && spans[k].end <= i {
			k++
		}
		c := s[i]
		if k < len(spans) && spans[k].start <= i {
			// Inside a string literal under some reading: none of it is
			// copied. A prefix glued to the quote is part of the literal:
			// N'…', X'…', B'…', _utf8mb4'…'.
			if identEnd == out.Len() && identStart >= 0 {
				p := out.String()[identStart:]
				if isLiteralPrefix(p) {
					trimBuilder(&out, identStart)
				}
			}
			i = spans[k].end
			out.WriteByte('?')
			identEnd = -1
			continue
		}
		switch {
		case c == '\'' || c == '"':
			// Not a literal under either reading (a scanner mismatch):
			// redact it anyway.
			i = skipQuoted(s, i, true)
			out.WriteByte('?')
			identEnd = -1
		case c == '`':
			j := skipQuoted(s, i, true)
			out.WriteString(s[i:j])
			identEnd = -1
			i = j
		case c == '#' || (c == '-' && strings.HasPrefix(s[i:], "--") && (i+2 == len(s) || s[i+2] <= ' ')):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j
			}
			trimDashes(&out)
			identEnd = -1
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			if i+2 < len(s) && (s[i+2] == '!' || s[i+2] == '+') {
				// Executable comment: keep the marker, redact its SQL.
				out.WriteString(s[i : i+3])
				i += 3
				for i < len(s) && isDigit(s[i]) {
					out.WriteByte(s[i]) // the version number
					i++
				}
				identEnd = -1
				continue
			}
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				i = len(s)
			} else {
				i += 2 + j + 2
			}
			trimDashes(&out)
			if out.Len() > 0 && i < len(s) && !isSpace(lastByte(&out)) && !isSpace(s[i]) {
				out.WriteByte(' ')
			}
			identEnd = -1
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1]) && !afterWord(s, i) && (i == 0 || s[i-1] != '.')):
			if isDigit(c) && afterWord(s, i) {
				// Part of an identifier.
				j := wordEnd(s, i)
				out.WriteString(s[i:j])
				i = j
				identEnd = out.Len()
				continue
			}
			if j, ok := numberEnd(s, i); ok {
				out.WriteByte('?')
				i = j
				identEnd = -1
				continue
			}
			if c == '.' {
				out.WriteByte(c) // ".5x": a dot, then an identifier
				identEnd = -1
				i++
				continue
			}
			j := wordEnd(s, i)
			if strings.TrimLeft(s[i:j], "0123456789") == "" {
				// Digits glued to something that is not a number
				// ("1.5x"): still a literal.
				out.WriteByte('?')
				identEnd = -1
				i = j
				continue
			}
			// An identifier that starts with a digit (1abc).
			identStart = out.Len()
			out.WriteString(s[i:j])
			identEnd = out.Len()
			i = j
		case isWord(c):
			j := wordEnd(s, i)
			identStart = out.Len()
			out.WriteString(s[i:j])
			identEnd = out.Len()
			i = j
		default:
			out.WriteByte(c)
			identEnd = -1
			i++
		}
	}
	return out.String()
}

// trimDashes drops the dashes a removed comment leaves at the end of the
// output ("--#…", "--/*…*/"): once the comment is gone they would start
// a comment of their own, and redacting again would remove them.
func trimDashes(b *strings.Builder) {
	if o := b.String(); strings.HasSuffix(o, "--") {
		trimBuilder(b, len(strings.TrimRight(o, "-")))
	}
}

func trimBuilder(b *strings.Builder, n int) {
	s := b.String()[:n]
	b.Reset()
	b.WriteString(s)
}

func lastByte(b *strings.Builder) byte {
	s := b.String()
	return s[len(s)-1]
}

// isLiteralPrefix reports whether an identifier glued to a quote makes the
// quote a special literal: N'…', X'…', B'…' or a charset introducer.
func isLiteralPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "n", "x", "b":
		return true
	}
	return len(p) > 1 && p[0] == '_'
}

// span is a range [start, end) of a statement.
type span struct{ start, end int }

// literalSpans returns where the string literals of s are, for showing
// none of them: under MySQL's default quoting (backslash escapes) and
// under NO_BACKSLASH_ESCAPES, which the capture does not tell apart.
// Where the two readings disagree ('a\' , 'SECRET' is one literal and
// an identifier under the first, two literals under the second), the
// literals overlapping each other are merged into one span, so that
// nothing a literal holds under either reading is shown. The price: a
// statement with an escaped quote ('it\'s') is redacted from that
// literal to its end, where the second reading's literal runs.
func literalSpans(s string) []span {
	a := stringTokens(s, true)
	if strings.IndexByte(s, '\\') < 0 {
		return a
	}
	b := stringTokens(s, false)
	if slices.Equal(a, b) {
		return a
	}
	all := append(a, b...)
	slices.SortFunc(all, func(x, y span) int { return cmp.Compare(x.start, y.start) })
	var out []span
	for _, sp := range all {
		if n := len(out); n > 0 && sp.start < out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// stringTokens returns the spans of the quoted string literals of s
// ('…' and "…"), with backslash escapes or without.
func stringTokens(s string, backslash bool) []span {
	t := &tableScanner[string]{s: s, noBackslash: !backslash}
	var out []span
	for tk := t.next(); tk.kind != 0; tk = t.next() {
		if tk.kind == 's' {
			out = append(out, span{tk.start, tk.end})
		}
	}
	return out
}

// numberEnd returns the end of the number literal at s[i], or false when
// the characters there are an identifier that starts with digits.
func numberEnd(s string, i int) (int, bool) {
	j := i
	if s[j] == '0' && j+1 < len(s) && (s[j+1] == 'x' || s[j+1] == 'X' || s[j+1] == 'b' || s[j+1] == 'B') {
		hex := s[j+1] == 'x' || s[j+1] == 'X'
		k := j + 2
		for k < len(s) && (hex && isHex(s[k]) || !hex && (s[k] == '0' || s[k] == '1')) {
			k++
		}
		if k > j+2 && (k == len(s) || !isWord(s[k])) {
			return k, true
		}
		return 0, false
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(s) && isWord(s[j]) {
		return 0, false
	}
	return j, true
}

// afterWord reports whether s[i] continues a word (the byte before it is
// an identifier character or a closing backquote).
func afterWord(s string, i int) bool {
	return i > 0 && (isWord(s[i-1]) || s[i-1] == '`')
}

func wordEnd(s string, i int) int {
	for i < len(s) && isWord(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isWord reports whether c can be part of an unquoted identifier (bytes of
// multi-byte UTF-8 characters included).
func isWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '_' || c == '$' || c >= 0x80
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// Tables returns the names of the tables a statement refers to: after
// FROM, JOIN, INTO (of INSERT and REPLACE), UPDATE (at the start of the
// statement) and TABLE, with comma-separated lists, aliases and
// subqueries followed. Names lose their schema and quotes; each is listed
// once, in order of appearance, at most MaxTables. It is a light scan, not
// a parser: it is good for telling which tables a statement touches.
func Tables(statement string) []string { return scanTables(statement) }

// tableScanner is the state of scanTables.
type tableScanner[T ~string | ~[]byte] struct {
	s      T
	i      int
	tables []string
	// noBackslash reads quoted strings as under NO_BACKSLASH_ESCAPES.
	noBackslash bool
}

type token struct {
	kind  byte // 'w' word, 'q' backquoted identifier, 's' string, 'n' number, or the punctuation byte; 0 at the end
	start int
	end   int
}

func (t *tableScanner[T]) next() token {
	s := t.s
	for t.i < len(s) {
		c := s[t.i]
		switch {
		case isSpace(c):
			t.i++
		case c == '#' || c == '-' && t.i+2 <= len(s) && s[t.i+1] == '-' && (t.i+2 == len(s) || s[t.i+2] <= ' '):
			for t.i < len(s) && s[t.i] != '\n' {
				t.i++
			}
		case c == '/' && t.i+1 < len(s) && s[t.i+1] == '*':
			if t.i+2 < len(s) && (s[t.i+2] == '!' || s[t.i+2] == '+') {
				t.i += 3
				for t.i < len(s) && isDigit(s[t.i]) {
					t.i++
				}
				continue
			}
			t.i += 2
			for t.i < len(s) && !(s[t.i] == '*' && t.i+1 < len(s) && s[t.i+1] == '/') {
				t.i++
			}
			t.i = min(t.i+2, len(s))
		case c == '*' && t.i+1 < len(s) && s[t.i+1] == '/':
			t.i += 2 // end of an executable comment
		case c == '\'' || c == '"' || c == '`':
			start := t.i
			t.i = skipQuoted(s, t.i, !t.noBackslash)
			kind := byte('s')
			if c == '`' {
				kind = 'q'
			}
			return token{kind, start, t.i}
		case isWord(c):
			start := t.i
			for t.i < len(s) && isWord(s[t.i]) {
				t.i++
			}
			kind := byte('w')
			if isDigit(c) {
				kind = 'n'
			}
			return token{kind, start, t.i}
		default:
			t.i++
			return token{c, t.i - 1, t.i}
		}
	}
	return token{}
}

// skipQuoted returns the index after the quoted literal or identifier
// starting at s[i] (its quote character), honouring doubled quotes and,
// except for backquotes, backslash escapes if backslash is set. An
// unterminated one runs to the end.
func skipQuoted[T ~string | ~[]byte](s T, i int, backslash bool) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash && q != '`' {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// word returns a word token upper-cased if it is one of keywords, "_"
// for other words, "" for other tokens. It does not allocate.
func (t *tableScanner[T]) word(tk token) string {
	if tk.kind != 'w' {
		return ""
	}
	if tk.end-tk.start > 16 {
		return "_"
	}
	var b [16]byte
	n := 0
	for i := tk.start; i < tk.end; i++ {
		c := t.s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[n] = c
		n++
	}
	if k, ok := keywords[string(b[:n])]; ok {
		return k
	}
	return "_"
}

// name returns an identifier token's name without quotes, or "".
func (t *tableScanner[T]) name(tk token) string {
	switch tk.kind {
	case 'w':
		return string(t.s[tk.start:tk.end])
	case 'q':
		if tk.end-tk.start < 2 || t.s[tk.end-1] != '`' {
			return ""
		}
		return strings.ReplaceAll(string(t.s[tk.start+1:tk.end-1]), "``", "`")
	}
	return ""
}

func (t *tableScanner[T]) add(name string) {
	if name == "" || len(t.tables) >= MaxTables {
		return
	}
	for _, n := range t.tables {
		if n == name {
			return
		}
	}
	t.tables = append(t.tables, name)
}

// notAlias are the words that can follow a table name and are not its
// alias.
var notAlias = map[string]bool{
	"WHERE": true, "JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "CROSS": true, "NATURAL": true,
	"STRAIGHT_JOIN": true, "FULL": true, "OUTER": true, "ON": true, "USING": true, "GROUP": true, "ORDER": true,
	"LIMIT": true, "HAVING": true, "UNION": true, "EXCEPT": true, "INTERSECT": true, "FOR": true, "LOCK": true,
	"SET": true, "VALUES": true, "VALUE": true, "SELECT": true, "WINDOW": true, "PARTITION": true, "USE": true,
	"IGNORE": true, "FORCE": true, "INTO": true, "PROCEDURE": true, "RETURNING": true, "AS": true, "WITH": true,
	"READ": true, "WRITE": true, "LOW_PRIORITY": true, "DEFAULT": true, "ROW": true, "OFFSET": true, "FETCH": true,
	"ADD": true, "DROP": true, "MODIFY": true, "CHANGE": true, "RENAME": true, "LIKE": true, "IF": true,
}

// tableRef reads one table reference: a possibly qualified name, and an
// alias. It returns the token after them.
func (t *tableScanner[T]) tableRef(tk token) token {
	if w := t.word(tk); w == "IF" {
		// IF [NOT] EXISTS
		for tk = t.next(); ; tk = t.next() {
			w := t.word(tk)
			if w != "NOT" && w != "EXISTS" {
				break
			}
		}
	}
	name := t.name(tk)
	if name == "" || t.word(tk) == "DUAL" || t.word(tk) == "SELECT" {
		return tk
	}
	tk = t.next()
	for tk.kind == '.' {
		tk = t.next()
		if n := t.name(tk); n != "" {
			name = n
			tk = t.next()
		}
	}
	t.add(name)
	if t.word(tk) == "AS" {
		t.next() // the alias
		return t.next()
	}
	if (tk.kind == 'w' && !notAlias[t.word(tk)]) || tk.kind == 'q' {
		return t.next() // the alias
	}
	return tk
}

// funcsWithFrom are functions whose arguments use FROM without a table.
var funcsWithFrom = map[string]bool{"EXTRACT": true, "TRIM": true, "SUBSTRING": true, "SUBSTR": true, "OVERLAY": true, "POSITION": true}

// keywords are the words the table scan looks at, each mapped to itself.
var keywords = map[string]string{}

func init() {
	for _, k := range []string{"FROM", "JOIN", "STRAIGHT_JOIN", "TABLE", "TABLES", "INTO", "UPDATE", "INSERT",
		"REPLACE", "SHOW", "LOCK", "LOW_PRIORITY", "IGNORE", "AS", "IF", "NOT", "EXISTS", "DUAL", "SELECT"} {
		keywords[k] = k
	}
	for k := range notAlias {
		keywords[k] = k
	}
	for k := range funcsWithFrom {
		keywords[k] = k
	}
}

func scanTables[T ~string | ~[]byte](s T) []string {
	t := &tableScanner[T]{s: s}
	var parens []bool // per open parenthesis: whether it belongs to one of funcsWithFrom
	prev := ""        // the previous word, upper-cased
	first := ""       // the statement's first word
	tk := t.next()
	for tk.kind != 0 {
		w := t.word(tk)
		if first == "" && w != "" {
			first = w
		}
		switch {
		case tk.kind == '(':
			parens = append(parens, funcsWithFrom[prev])
		case tk.kind == ')':
			if len(parens) > 0 {
				parens = parens[:len(parens)-1]
			}
		case tk.kind == ';':
			first = ""
		case w == "FROM" && !(len(parens) > 0 && parens[len(parens)-1]):
			tk = t.next()
			for {
				tk = t.tableRef(tk)
				if tk.kind != ',' {
					break
				}
				tk = t.next()
			}
			prev = ""
			continue
		case w == "JOIN" || w == "STRAIGHT_JOIN" ||
			w == "TABLE" && prev != "SHOW" || w == "TABLES" && prev == "LOCK" ||
			w == "INTO" && (first == "INSERT" || first == "REPLACE") ||
			w == "UPDATE" && first == "UPDATE":
			tk = t.next()
			for t.word(tk) == "LOW_PRIORITY" || t.word(tk) == "IGNORE" {
				tk = t.next()
			}
			for {
				tk = t.tableRef(tk)
				if tk.kind != ',' || w == "INTO" || w == "JOIN" {
					break
				}
				tk = t.next()
			}
			prev = ""
			continue
		}
		if tk.kind == 'w' {
			prev = w
		} else if tk.kind != '(' {
			prev = ""
		}
		tk = t.next()
	}
	return t.tables
}

// knownTables maps tables of the OpenStack services' schemas to the
// database they belong to.
var knownTables = map[string]string{}

func init() {
	for db, tables := range map[string][]string{
		"keystone": {"project", "local_user", "assignment", "revocation_event", "user", "password",
			"role", "implied_role", "federated_user", "nonlocal_user", "user_option", "project_option",
			"project_tag", "project_endpoint", "project_endpoint_group", "endpoint", "endpoint_group",
			"service", "region", "credential", "group", "user_group_membership",
			"expiring_user_group_membership", "policy", "policy_association", "trust", "trust_role",
			"application_credential", "application_credential_role", "application_credential_access_rule",
			"access_rule", "system_assignment", "id_mapping", "mapping", "identity_provider",
			"federation_protocol", "idp_remote_ids", "service_provider", "consumer", "request_token",
			"access_token", "registered_limit", "limit", "sensitive_config", "whitelisted_config",
			"config_register", "role_option", "domain_config", "token"},
		"glance": {"images", "image_properties", "image_locations", "image_members", "image_tags",
			"metadef_namespaces", "metadef_objects", "metadef_properties", "metadef_resource_types",
			"metadef_namespace_resource_types", "metadef_tags", "tasks", "task_info", "node_reference",
			"cached_images"},
	} {
		for _, t := range tables {
			knownTables[t] = db
		}
	}
}

// GuessDatabase returns the database that tables belong to, from the
// known schemas of Keystone ("keystone": project, local_user, assignment,
// revocation_event, …) and Glance ("glance": images, image_properties,
// image_locations, image_members, …), or "" when none is known. It tells
// pooled connections apart when their login is not in the capture.
func GuessDatabase(tables []string) string {
	for _, t := range tables {
		if db := knownTables[strings.ToLower(t)]; db != "" {
			return db
		}
	}
	return ""
}
