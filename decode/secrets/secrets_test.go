package secrets

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/mysql"
	"github.com/authflow/authflow/decode/openstack"
)

const fernetTok = "gAAAAABpIaukd7RfsSzNpFyHtXeuEy8PQ2uzIjv7Yn1eI6xHMKE3ReCeWzpc6y7l1RBNkXdMtwM3vWcWtL4UUVXyHNXxyBAmIvHAZmVmY2Y93K7ujLAFO9LUjp9wgyi2IgCqqXX13fehwMXBF5Uiv-eWhkyfzBfgSJvBz7APaz-oXbzEnHvlQN8"

func request(method, target, body string, hdr map[string]string) *event.Event {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return &event.Event{Kind: event.HTTPRequest, Data: &httpdec.Request{Method: method, Target: target, Message: httpdec.Message{Header: h, Body: []byte(body)}}}
}

func TestScrub(t *testing.T) {
	s := New(false)
	s.Observe(request("POST", "/v3/auth/tokens", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"ADMIN_PASS"}}}}}`, nil))
	s.Observe(request("POST", "/v3/auth/tokens", `{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"423f19a4ac1e4f48bbb4180756e6eb6c","secret":"APP_CRED_SECRET"}}}}`, nil))
	s.Observe(request("GET", "http://admin:URL%21PASS@198.18.0.11:5000/v3", "", nil))
	s.Observe(request("GET", "/v2/images?password=QUERY_PASS&limit=20&os_token=abc", "", nil))
	s.Observe(request("GET", "/v2/images", "", map[string]string{"Authorization": "Basic YWRtaW46QkFTSUNfUEFTUw=="})) // admin:BASIC_PASS
	s.Observe(&event.Event{Kind: event.MySQLCommand, Data: &mysql.Command{Statement: "CREATE USER 'glance'@'%' IDENTIFIED BY 'GLANCE_DBPASS'"}})
	s.AddSecret("lab-secret-key")
	s.AddSecret("password") // a word of the labels: kept
	s.AddSecret("ab")       // too short to scrub
	uuidTok := "0123456789abcdef0123456789abcdef"
	tests := []struct{ in, want string }{
		{"near ?GLANCE_DBPASS? at line ?", "near ?***? at line ?"},
		{"POST /v3/auth/tokens: password admin@Default", "POST /v3/auth/tokens: password admin@Default"},
		{"GET http://admin:URL!PASS@198.18.0.11:5000/v3", "GET http://admin:***@198.18.0.11:5000/v3"},
		{"GET http://admin:URL%21PASS@198.18.0.11:5000/v3", "GET http://admin:***@198.18.0.11:5000/v3"},
		{"GET /v2/images?password=QUERY_PASS&limit=20", "GET /v2/images?password=***&limit=20"},
		{"secret APP_CRED_SECRET, basic BASIC_PASS, key lab-secret-key", "secret ***, basic ***, key ***"},
		{"Could not find token: " + fernetTok, "Could not find token: token:" + openstack.Fingerprint(fernetTok)},
		{"GET /v2.0/tokens/" + uuidTok, "GET /v2.0/tokens/token:" + openstack.Fingerprint(uuidTok)},
		{"The request you have made requires authentication. token " + uuidTok, "The request you have made requires authentication. token token:" + openstack.Fingerprint(uuidTok)},
		// A project id is not in a token position.
		{"GET /v3/projects/" + uuidTok, "GET /v3/projects/" + uuidTok},
		// A cache key is the token's hash, not the token.
		{"tokens/" + strings.Repeat("ab", 32), "tokens/" + strings.Repeat("ab", 32)},
		{"get " + fernetTok[:60], "get token:" + openstack.Fingerprint(fernetTok[:60])},
		{"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2ln", "token:" + openstack.Fingerprint("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2ln")},
		{"ab cd", "ab cd"},
	}
	for _, tt := range tests {
		if got := s.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) =\n %q, want\n %q", tt.in, got, tt.want)
		}
	}
}

func TestScrubShowTokens(t *testing.T) {
	s := New(true)
	s.Observe(request("POST", "/v3/auth/tokens", `{"auth":{"identity":{"password":{"user":{"name":"admin","password":"ADMIN_PASS"}}}}}`, map[string]string{"X-Auth-Token": "x" + fernetTok}))
	in := "token " + fernetTok + " ADMIN_PASS"
	if got, want := s.Scrub(in), "token "+fernetTok+" ***"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}

func TestScrubKnownUnshapedToken(t *testing.T) {
	s := New(false)
	tok := "PKIZ_eJyNVMtu2zAQvPcreM-oLJk"
	s.Observe(request("GET", "/v2/images", "", map[string]string{"X-Auth-Token": tok}))
	if got := s.Scrub("memcached key " + tok); strings.Contains(got, tok) {
		t.Errorf("Scrub = %q", got)
	}
}

// TestScrubByPlace: secrets never observed (a request that was not
// decoded, quoted by a warning) are found by their place.
func TestScrubByPlace(t *testing.T) {
	s := New(false)
	uuidTok := "5f4dcc3b5aa765d61d8327deb882cf99"
	tests := []struct{ in, want string }{
		{`not an HTTP request: "GET /v2/images?password=QUERY_PASS&limit=2&os_token=` + uuidTok + `"`,
			`not an HTTP request: "GET /v2/images?password=***&limit=2&os_token=token:` + openstack.Fingerprint(uuidTok) + `"`},
		{"GET http://admin:PASS@host:5000/v3?x=1", "GET http://admin:***@host:5000/v3?x=1"},
		{"GET http://host:5000/v3?a=b", "GET http://host:5000/v3?a=b"},
	}
	for _, tt := range tests {
		if got := s.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q) =\n %q, want\n %q", tt.in, got, tt.want)
		}
	}
	if !TokenShaped(fernetTok) || TokenShaped("x"+fernetTok) {
		t.Error("TokenShaped")
	}
}
