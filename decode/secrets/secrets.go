// Package secrets keeps what a capture revealed that no output may show —
// passwords, application credential secrets, SQL credential literals,
// URL userinfo, credential query parameters, the memcache secret key —
// and the raw tokens it carried, and scrubs them from any text: known
// secrets become "***", tokens (known ones, and any string shaped like a
// Fernet token, a JWS or a hex token in a token position) become their
// fingerprint "token:0123456789ab" unless tokens may be shown.
//
// A [Set] learns from decoded events ([Set.Observe]) and from values it is
// told ([Set.AddSecret], [Set.AddToken]); every writer passes the strings it
// writes through [Set.Scrub].
package secrets

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
)

// Mask replaces a known secret.
const Mask = "***"

// MinSecretLen is the length below which a revealed value is not scrubbed
// from other text: a "password" of one to three characters would erase every
// occurrence of its letters. (It is still never shown where it was
// revealed: request bodies and SQL literals are not drawn.)
const MinSecretLen = 4

// maxTokens bounds the raw tokens remembered (the shaped ones are found
// by their shape anyway); beyond it, tokens without a known shape are
// still caught in token positions.
const maxTokens = 100_000

// Set is what must not be shown. Its methods are safe for concurrent use.
type Set struct {
	mu         sync.Mutex
	showTokens bool
	secrets    map[string]bool
	tokens     map[string]bool
	// replacer scrubs the known secrets and unshaped tokens; rebuilt
	// when one is added.
	replacer *strings.Replacer
}

// New returns an empty set. With showTokens, tokens are left whole
// (--show-secrets); passwords and other secrets never are.
func New(showTokens bool) *Set {
	return &Set{showTokens: showTokens, secrets: map[string]bool{}, tokens: map[string]bool{}}
}

// vocabulary are words authflow writes itself (keystone's auth method
// names): a password equal to one of them is not masked, which would
// garble every token request's label ("POST /v3/auth/tokens: password
// admin@Default"), and the word shows nothing the label does not say.
var vocabulary = map[string]bool{
	"password": true, "token": true, "totp": true, "application_credential": true, "mapped": true,
	"openid": true, "saml2": true, "kerberos": true, "external": true, "oauth1": true, "oauth2": true,
}

// AddSecret adds a value never to be shown.
func (s *Set) AddSecret(v string) {
	v = strings.TrimSpace(v)
	if len(v) < MinSecretLen || vocabulary[strings.ToLower(v)] {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.secrets[v] {
		s.secrets[v] = true
		s.replacer = nil
	}
}

// AddToken adds a raw token, shown only as its fingerprint.
func (s *Set) AddToken(tok string) {
	tok = strings.TrimSpace(tok)
	if len(tok) < 16 || s.showTokens || tokenShape.MatchString(tok) {
		return // short ones are not tokens; shaped ones are found anyway
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tokens[tok] && len(s.tokens) < maxTokens {
		s.tokens[tok] = true
		s.replacer = nil
	}
}

// Observe learns the secrets and tokens an event reveals.
func (s *Set) Observe(e *event.Event) {
	switch d := e.Data.(type) {
	case *httpdec.Request:
		s.observeRequest(d)
	case *httpdec.Response:
		s.AddToken(d.Header.Get("X-Subject-Token"))
		s.observeBody(d.Body)
	case *mysql.Command:
		for _, v := range mysql.SecretLiterals(d.Statement) {
			s.AddSecret(v)
		}
	}
}

func (s *Set) observeRequest(r *httpdec.Request) {
	s.AddToken(r.Header.Get("X-Auth-Token"))
	s.AddToken(r.Header.Get("X-Subject-Token"))
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		switch strings.ToLower(scheme) {
		case "basic":
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				_, pass, _ := strings.Cut(string(b), ":")
				s.AddSecret(pass)
			}
			s.AddSecret(strings.TrimSpace(cred))
		case "bearer":
			s.AddToken(strings.TrimSpace(cred))
		}
	}
	s.observeTarget(r.Target)
	s.observeBody(r.Body)
}

// observeTarget learns URL userinfo and credential query parameters.
func (s *Set) observeTarget(target string) {
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			user, pass, ok := strings.Cut(rest[:at], ":")
			if ok {
				s.AddSecret(pass)
				if p, err := url.PathUnescape(pass); err == nil {
					s.AddSecret(p)
				}
			} else {
				s.AddSecret(user) // a lone userinfo is usually a token
			}
		}
	}
	_, query, ok := strings.Cut(target, "?")
	if !ok {
		return
	}
	for _, kv := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if ku, err := url.QueryUnescape(k); err == nil {
			k = ku
		}
		if !SensitiveName(k) {
			continue
		}
		s.AddSecret(v)
		if vu, err := url.QueryUnescape(v); err == nil {
			s.AddSecret(vu)
		}
	}
}

// observeBody learns the credentials of a JSON body: the values of
// members named like a password or secret, and the ids of tokens.
func (s *Set) observeBody(body []byte) {
	if len(body) == 0 || !json.Valid(body) {
		return
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	s.walk("", v, 0)
}

func (s *Set) walk(key string, v any, depth int) {
	if depth > 64 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "id" && (key == "token" || key == "application_credential") {
				if str, ok := c.(string); ok && key == "token" {
					s.AddToken(str)
				}
			}
			s.walk(k, c, depth+1)
		}
	case []any:
		for _, c := range x {
			s.walk(key, c, depth+1)
		}
	case string:
		if SensitiveName(key) {
			s.AddSecret(x)
		}
		if strings.EqualFold(key, "token") || strings.EqualFold(key, "X-Auth-Token") {
			s.AddToken(x)
		}
	}
}

// SensitiveName reports whether a field, column or parameter name says
// its value is a credential: password, passwd, passphrase, pwd, secret,
// *_pass, a token or a key (but not token_type and the like).
func SensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "passphrase", "pwd", "secret", "credential_blob"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	if strings.HasSuffix(n, "_pass") || strings.HasSuffix(n, "-pass") {
		return true
	}
	switch n {
	case "pass", "token", "auth_token", "x-auth-token", "access_token", "id_token", "refresh_token", "api_key", "apikey", "key", "signature", "sig":
		return true
	}
	return false
}

// tokenShape matches strings shaped like tokens wherever they are:
// Fernet tokens (version byte 0x80, base64url "gAAAAA…"), and JWS
// (three base64url parts, the first a JSON header "eyJ…").
var tokenShape = regexp.MustCompile(`gAAAAA[A-Za-z0-9_=-]{20,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// tokenPosition matches a hex (UUID or PKI-less) token where a token
// is named: "token: <hex>", "tokens/<hex>", "X-Auth-Token: <hex>",
// "token=<hex>". Hex ids elsewhere (projects, users) are left alone.
var tokenPosition = regexp.MustCompile(`(?i)(token[s]?(?:[/:= ]|%3[aA]|%3[dD]|: )\s*['"]?)([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`)

// credentialParam matches a query parameter named like a credential in
// any text (a request line quoted by a warning, say, whose request was
// never decoded): its value is masked, or fingerprinted for tokens.
var credentialParam = regexp.MustCompile(`(?i)([?&;](?:[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token)[a-z0-9_.-]*|pass|key|api_key|apikey|sig|signature)=)([^&;\s"'#]+)`)

// userinfo matches the password of URL userinfo: scheme://user:PASS@.
var userinfo = regexp.MustCompile(`(://[^/\s:@?#]*:)([^@\s/?#]+)(@)`)

// Scrub returns str with every known secret masked and every token
// fingerprinted (unless tokens may be shown). Secrets are also found by
// their place, known or not: URL userinfo passwords and credential query
// parameters.
func (s *Set) Scrub(str string) string {
	if str == "" {
		return str
	}
	if r := s.getReplacer(); r != nil {
		str = r.Replace(str)
	}
	if strings.Contains(str, "://") {
		str = userinfo.ReplaceAllString(str, "${1}"+Mask+"${3}")
	}
	if strings.Contains(str, "=") {
		str = credentialParam.ReplaceAllStringFunc(str, func(m string) string {
			sub := credentialParam.FindStringSubmatch(m)
			if sub[2] == Mask || strings.HasPrefix(sub[2], "token:") {
				return m
			}
			if containsFold(sub[1], "token") {
				if s.showTokens {
					return m
				}
				return sub[1] + fingerprint(sub[2])
			}
			return sub[1] + Mask
		})
	}
	if s.showTokens {
		return str
	}
	if strings.Contains(str, "gAAAAA") || strings.Contains(str, "eyJ") {
		str = tokenShape.ReplaceAllStringFunc(str, fingerprint)
	}
	if containsFold(str, "token") {
		str = tokenPosition.ReplaceAllStringFunc(str, func(m string) string {
			sub := tokenPosition.FindStringSubmatch(m)
			return sub[1] + fingerprint(sub[2])
		})
	}
	return str
}

// TokenShaped reports whether str is, as a whole, shaped like a Fernet
// token or a JWS.
func TokenShaped(str string) bool {
	loc := tokenShape.FindStringIndex(str)
	return loc != nil && loc[0] == 0 && loc[1] == len(str)
}

// fingerprint names a token by its fingerprint.
func fingerprint(tok string) string { return "token:" + openstack.Fingerprint(tok) }

func (s *Set) getReplacer() *strings.Replacer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replacer != nil || (len(s.secrets) == 0 && len(s.tokens) == 0) {
		return s.replacer
	}
	// Longest first, so that a secret containing another is masked whole.
	var keys []string
	for k := range s.secrets {
		keys = append(keys, k)
	}
	if !s.showTokens {
		for k := range s.tokens {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, k := range keys {
		if s.secrets[k] {
			pairs = append(pairs, k, Mask)
		} else {
			pairs = append(pairs, k, fingerprint(k))
		}
	}
	s.replacer = strings.NewReplacer(pairs...)
	return s.replacer
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
