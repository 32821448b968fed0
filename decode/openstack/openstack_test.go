package openstack

import (
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/authflow/authflow/decode/httpdec"
)

func req(method, target string, body string, hdr ...string) *httpdec.Request {
	r := &httpdec.Request{Method: method, Target: target}
	r.Header = http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	r.Body = []byte(body)
	return r
}

func TestInterpret(t *testing.T) {
	tests := []struct {
		name  string
		req   *httpdec.Request
		kind  string
		api   string
		auth  *AuthRequest
		image string
	}{
		{"v3 password, project scope (the CLI's body)", req("POST", "/v3/auth/tokens",
			`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x", "name": "admin", "domain": {"name": "Default"}}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}`),
			TokenIssue, "keystone", &AuthRequest{Methods: []string{"password"}, User: "admin", UserDomain: "Default", Scope: "project admin@Default"}, ""},
		{"v3 domain scope (curl)", req("POST", "/v3/auth/tokens",
			`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"adm1","domain":{"name":"dom1"},"password":"password"}}},"scope":{"domain":{"name":"dom1"}}}}`),
			TokenIssue, "keystone", &AuthRequest{Methods: []string{"password"}, User: "adm1", UserDomain: "dom1", Scope: "domain dom1"}, ""},
		{"v3 token method, system scope", req("POST", "/identity/v3/auth/tokens",
			`{"auth":{"identity":{"methods":["token"],"token":{"id":"gAAAAABx"}},"scope":{"system":{"all":true}}}}`),
			TokenIssue, "keystone", &AuthRequest{Methods: []string{"token"}, Scope: "system", Token: "gAAAAABx"}, ""},
		{"v3 application credential: the credential's project, not unscoped", req("POST", "/v3/auth/tokens",
			`{"auth":{"identity":{"methods":["application_credential"],"application_credential":{"id":"abc","secret":"s"}}}}`),
			TokenIssue, "keystone", &AuthRequest{Methods: []string{"application_credential"}, AppCredential: "abc"}, ""},
		{"v3 validation", req("GET", "/v3/auth/tokens", "", "X-Subject-Token", "s", "X-Auth-Token", "a"), TokenValidate, "keystone", nil, ""},
		{"v3 validation by HEAD", req("HEAD", "/v3/auth/tokens", "", "X-Subject-Token", "s"), TokenValidate, "keystone", nil, ""},
		{"v3 revocation", req("DELETE", "/v3/auth/tokens", "", "X-Subject-Token", "s"), TokenRevoke, "keystone", nil, ""},
		{"v2.0 password", req("POST", "/v2.0/tokens", `{"auth":{"passwordCredentials":{"username":"admin","password":"x"},"tenantName":"admin"}}`),
			TokenIssue, "keystone", &AuthRequest{Methods: []string{"password"}, User: "admin", Scope: "project admin"}, ""},
		{"v2.0 validation", req("GET", "/v2.0/tokens/abcdef", ""), TokenValidate, "keystone", nil, ""},
		{"v2.0 revocation", req("DELETE", "/v2.0/tokens/abcdef", ""), TokenRevoke, "keystone", nil, ""},
		{"discovery", req("GET", "/v3", ""), "", "keystone", nil, ""},
		{"image list with query", req("GET", "/v2/images?name=cirros", ""), ImageList, "glance", nil, ""},
		{"image show", req("GET", "/v2/images/cirros", ""), ImageShow, "glance", nil, "cirros"},
		{"image create", req("POST", "/v2/images", `{"name":"cirros"}`), ImageCreate, "glance", nil, ""},
		{"image upload", req("PUT", "/v2/images/c6bca20f-183a-466f-9948-935b243c8190/file", ""), ImageUpload, "glance", nil, "c6bca20f-183a-466f-9948-935b243c8190"},
		{"image download", req("GET", "/v2/images/c6bca20f-183a-466f-9948-935b243c8190/file", ""), ImageDownload, "glance", nil, "c6bca20f-183a-466f-9948-935b243c8190"},
		{"image delete", req("DELETE", "/v2/images/x", ""), ImageDelete, "glance", nil, "x"},
		{"image update", req("PATCH", "/v2/images/x", ""), ImageUpdate, "glance", nil, "x"},
		{"glance versions", req("GET", "/", ""), "", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Interpret(tt.req)
			if c.Kind != tt.kind || c.API != tt.api || c.ImageID != tt.image {
				t.Errorf("got kind %q api %q image %q, want %q %q %q", c.Kind, c.API, c.ImageID, tt.kind, tt.api, tt.image)
			}
			if tt.auth != nil {
				if c.Auth == nil || !slices.Equal(c.Auth.Methods, tt.auth.Methods) || c.Auth.User != tt.auth.User ||
					c.Auth.UserDomain != tt.auth.UserDomain || c.Auth.Scope != tt.auth.Scope || c.Auth.AppCredential != tt.auth.AppCredential || c.Auth.Token != tt.auth.Token {
					t.Errorf("auth %+v, want %+v", c.Auth, tt.auth)
				}
			}
		})
	}
}

func TestInterpretResponse(t *testing.T) {
	issued := &httpdec.Response{Status: 201, Message: httpdec.Message{Header: http.Header{"X-Subject-Token": {"gAAAAABtok"}},
		Body: []byte(`{"token": {"methods": ["password"], "user": {"domain": {"id": "default", "name": "Default"}, "id": "u", "name": "admin"}, "expires_at": "2026-11-22T13:16:14.000000Z", "project": {"domain": {"id": "default", "name": "Default"}, "id": "p", "name": "admin"}, "roles": [{"id": "r", "name": "admin"}], "catalog": [{"endpoints": [{"id": "e", "interface": "public", "region_id": "RegionOne", "url": "http://198.18.0.11:9292", "region": "RegionOne"}], "id": "s", "type": "image", "name": "glance"}]}}`)}}
	r := InterpretResponse(&Call{Kind: TokenIssue}, issued)
	if r.Kind != TokenIssued || r.Token != "gAAAAABtok" || r.Info == nil || r.Info.Scope() != "project admin@Default" || r.Info.ExpiresAt == "" ||
		len(r.Info.Catalog) != 1 || r.Info.Catalog[0].Endpoints[0].URL != "http://198.18.0.11:9292" {
		t.Errorf("issued: %+v %+v", r, r.Info)
	}
	denied := &httpdec.Response{Status: 401, Message: httpdec.Message{Body: []byte(`{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`)}}
	if r := InterpretResponse(&Call{Kind: TokenIssue}, denied); r.Kind != TokenDenied || r.Error != "The request you have made requires authentication." {
		t.Errorf("denied: %+v", r)
	}
	invalid := &httpdec.Response{Status: 404, Message: httpdec.Message{Body: []byte(`{"error":{"code":404,"message":"Failed to validate token","title":"Not Found"}}`)}}
	if r := InterpretResponse(&Call{Kind: TokenValidate}, invalid); r.Kind != TokenInvalid || r.Error != "Failed to validate token" {
		t.Errorf("invalid: %+v", r)
	}
	v2 := &httpdec.Response{Status: 200, Message: httpdec.Message{Body: []byte(`{"access":{"token":{"id":"v2tok","expires":"2026-11-22T13:00:00Z","tenant":{"name":"admin"}},"user":{"name":"admin","roles":[{"name":"admin"}]},"serviceCatalog":[{"type":"compute","name":"nova","endpoints":[{"region":"R","publicURL":"http://10.0.0.1:8774/v2.1"}]}]}}`)}}
	if r := InterpretResponse(&Call{Kind: TokenIssue}, v2); r.Kind != TokenIssued || r.Token != "v2tok" || r.Info.Project != "admin" || r.Info.Catalog[0].Endpoints[0].Interface != "public" {
		t.Errorf("v2.0: %+v %+v", r, r.Info)
	}
}

// TestCacheKeysOfRealCaptures derives keystonemiddleware's cache keys from
// the tokens in real captures: the SHA-256 form (image-save) and the
// ENCRYPT form keyed by memcache_secret_key (memcache-encrypt).
func TestCacheKeysOfRealCaptures(t *testing.T) {
	for _, tc := range []struct{ scenario, secret string }{
		{"image-save", ""},
		{"memcache-encrypt", "lab-secret-key"},
	} {
		f, err := os.Open("../../testdata/captures/" + tc.scenario + "/lo.pcap.gz")
		if err != nil {
			t.Fatal(err)
		}
		zr, _ := gzip.NewReader(f)
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		tokens := regexp.MustCompile(`X-Subject-Token: (gAAAAAB[A-Za-z0-9_=-]+)`).FindAllSubmatch(data, -1)
		sets := regexp.MustCompile(`set (tokens/\S+) `).FindAllSubmatch(data, -1)
		if len(tokens) == 0 || len(sets) == 0 {
			t.Fatalf("%s: no tokens or no cache stores in the capture", tc.scenario)
		}
		for _, set := range sets {
			key := string(set[1])
			found := false
			for _, tok := range tokens {
				found = found || slices.Contains(CacheKeys(string(tok[1]), tc.secret), key)
			}
			if !found {
				t.Errorf("%s: cache key %s is not derived from any token in the capture", tc.scenario, key)
			}
			if tc.secret != "" && !ProtectedCacheKey(key) {
				t.Errorf("%s is not recognised as a protected key", key)
			}
		}
	}
}

func TestFingerprint(t *testing.T) {
	// The fingerprint is the start of keystonemiddleware's cache key.
	tok := "gAAAAABexample"
	if fp := Fingerprint(tok); len(fp) != FingerprintLen || HashedCacheKey(CacheKeys(tok, "")[0])[:FingerprintLen] != fp {
		t.Errorf("fingerprint %q does not start the cache key %q", fp, CacheKeys(tok, "")[0])
	}
	if Fingerprint("") != "" {
		t.Error("empty token has a fingerprint")
	}
}

func TestGlanceErrorPage(t *testing.T) {
	body := "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID cirros<br /><br />\n\n\n\n </body>\n</html>"
	r := InterpretResponse(&Call{Kind: ImageShow}, &httpdec.Response{Status: 404, Message: httpdec.Message{Body: []byte(body)}})
	if r.Error != "No image found with ID cirros" {
		t.Errorf("error %q", r.Error)
	}
	// A policy refusal comes as webob's plain-text page (the lab's
	// policy-403, ens.pcap frame 87).
	plain := "403 Forbidden\n\nYou are not authorized to complete publicize_image action.\n\n   "
	r = InterpretResponse(&Call{Kind: ImageUpdate}, &httpdec.Response{Status: 403, Message: httpdec.Message{Body: []byte(plain)}})
	if r.Error != "You are not authorized to complete publicize_image action." {
		t.Errorf("plain-text error %q", r.Error)
	}
	for _, notAnError := range []string{"", "ok", "403 Forbidden", "hello\n\nworld"} {
		r = InterpretResponse(&Call{}, &httpdec.Response{Status: 403, Message: httpdec.Message{Body: []byte(notAnError)}})
		if r.Error != "" {
			t.Errorf("%q: error %q", notAnError, r.Error)
		}
	}
}
