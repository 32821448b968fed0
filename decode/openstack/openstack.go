// Package openstack gives HTTP exchanges their Keystone and Glance meaning:
// token issue, validation and revocation (identity v3 and v2.0), and the
// image API (v2): list, show, create, upload, download, delete.
package openstack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/authflow/authflow/decode/httpdec"
)

// Kinds of calls and results; the values are the JSON contract's message
// kinds.
const (
	TokenIssue    = "keystone.token.issue"
	TokenIssued   = "keystone.token.issued"
	TokenDenied   = "keystone.token.denied"
	TokenValidate = "keystone.token.validate"
	TokenValid    = "keystone.token.valid"
	TokenInvalid  = "keystone.token.invalid"
	TokenRevoke   = "keystone.token.revoke"

	ImageList     = "glance.image.list"
	ImageShow     = "glance.image.show"
	ImageCreate   = "glance.image.create"
	ImageUpload   = "glance.image.upload"
	ImageDownload = "glance.image.download"
	ImageDelete   = "glance.image.delete"
	ImageUpdate   = "glance.image.update"
)

// WellKnownPorts names the services OpenStack deployments run on their
// usual ports.
var WellKnownPorts = map[uint16]string{
	5000:  "keystone",
	35357: "keystone",
	9292:  "glance",
	8774:  "nova",
	8775:  "nova",
	9696:  "neutron",
	8778:  "placement",
	8776:  "cinder",
	8080:  "swift",
	8004:  "heat",
	9876:  "octavia",
	11211: "memcached",
	3306:  "mysql",
}

// AuthRequest is what a token request asks for. It never holds the
// password or secret.
type AuthRequest struct {
	Methods []string `json:"methods,omitempty"`
	// User is the user's name (or id when no name was given).
	User       string `json:"user,omitempty"`
	UserDomain string `json:"user_domain,omitempty"`
	// AppCredential names the application credential used.
	AppCredential string `json:"application_credential,omitempty"`
	// Scope is "project NAME@DOMAIN", "domain NAME", "system", "trust ID"
	// or "unscoped"; "" for an application credential, whose token is
	// scoped to the credential's project (the request names none).
	Scope string `json:"scope,omitempty"`
	// Token is the token a "token" method authenticates with.
	Token string `json:"-"`
}

// Call is the OpenStack meaning of one HTTP request.
type Call struct {
	// Kind is one of the call kinds above, or "" for a request without a
	// particular meaning.
	Kind string
	// API is the service whose API the path belongs to ("keystone",
	// "glance"), or "".
	API string
	// Token is the X-Auth-Token the request carries.
	Token string
	// Subject is the token a validation or revocation is about.
	Subject string
	// Auth is set for token requests.
	Auth *AuthRequest
	// ImageID is the image the request is about.
	ImageID string
	// Query is the request's query string, decoded.
	Query url.Values
}

// Interpret gives a request its meaning: the one found when it was
// decoded (req.Meaning), else read from it now.
func Interpret(req *httpdec.Request) *Call {
	if c, ok := req.Meaning.(*Call); ok {
		return c
	}
	c := &Call{Token: req.Header.Get("X-Auth-Token"), Subject: req.Header.Get("X-Subject-Token")}
	path, rawQuery, _ := strings.Cut(req.Target, "?")
	if u, err := url.Parse(req.Target); err == nil && u.IsAbs() {
		path, rawQuery = u.Path, u.RawQuery
	}
	c.Query, _ = url.ParseQuery(rawQuery)
	path = strings.TrimSuffix(path, "/")
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case path == "/v3/auth/tokens" || strings.HasSuffix(path, "/v3/auth/tokens"):
		c.API = "keystone"
		switch req.Method {
		case http.MethodPost:
			c.Kind = TokenIssue
			c.Auth = parseAuthV3(req.Body)
		case http.MethodGet, http.MethodHead:
			c.Kind = TokenValidate
		case http.MethodDelete:
			c.Kind = TokenRevoke
		}
	case path == "/v2.0/tokens" || strings.HasSuffix(path, "/v2.0/tokens"):
		c.API = "keystone"
		if req.Method == http.MethodPost {
			c.Kind = TokenIssue
			c.Auth = parseAuthV2(req.Body)
		}
	case len(segs) >= 3 && segs[len(segs)-3] == "v2.0" && segs[len(segs)-2] == "tokens":
		c.API = "keystone"
		c.Subject = segs[len(segs)-1]
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			c.Kind = TokenValidate
		case http.MethodDelete:
			c.Kind = TokenRevoke
		}
	case strings.HasPrefix(path, "/v3") || strings.HasPrefix(path, "/v2.0"):
		c.API = "keystone"
	case len(segs) >= 2 && segs[0] == "v2" && segs[1] == "images":
		c.API = "glance"
		c.interpretImages(req.Method, segs[2:])
	case len(segs) >= 2 && segs[0] == "v2" && (segs[1] == "schemas" || segs[1] == "info" || segs[1] == "stores" || segs[1] == "tasks"):
		c.API = "glance"
	}
	return c
}

func (c *Call) interpretImages(method string, rest []string) {
	switch {
	case len(rest) == 0:
		switch method {
		case http.MethodGet:
			c.Kind = ImageList
		case http.MethodPost:
			c.Kind = ImageCreate
		}
	case len(rest) == 1:
		c.ImageID = rest[0]
		switch method {
		case http.MethodGet, http.MethodHead:
			c.Kind = ImageShow
		case http.MethodDelete:
			c.Kind = ImageDelete
		case http.MethodPatch:
			c.Kind = ImageUpdate
		}
	case len(rest) == 2 && rest[1] == "file":
		c.ImageID = rest[0]
		switch method {
		case http.MethodGet:
			c.Kind = ImageDownload
		case http.MethodPut:
			c.Kind = ImageUpload
		}
	default:
		c.ImageID = rest[0]
	}
}

type v3Auth struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User v3User `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			AppCred *struct {
				ID   string  `json:"id"`
				Name string  `json:"name"`
				User *v3User `json:"user"`
			} `json:"application_credential"`
			TOTP *struct {
				User v3User `json:"user"`
			} `json:"totp"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type v3User struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Domain *v3Name `json:"domain"`
}

type v3Name struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Dom  *v3Name `json:"domain"`
	All  bool    `json:"all"`
}

func (n *v3Name) label() string {
	if n == nil {
		return ""
	}
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

func parseAuthV3(body []byte) *AuthRequest {
	a := &AuthRequest{}
	var req v3Auth
	if err := json.Unmarshal(body, &req); err != nil {
		return a
	}
	id := req.Auth.Identity
	a.Methods = id.Methods
	user := func(u v3User) {
		a.User = u.Name
		if a.User == "" {
			a.User = u.ID
		}
		a.UserDomain = u.Domain.label()
	}
	switch {
	case id.Password != nil:
		user(id.Password.User)
	case id.TOTP != nil:
		user(id.TOTP.User)
	case id.AppCred != nil:
		a.AppCredential = id.AppCred.Name
		if a.AppCredential == "" {
			a.AppCredential = id.AppCred.ID
		}
		if id.AppCred.User != nil {
			user(*id.AppCred.User)
		}
	}
	if id.Token != nil {
		a.Token = id.Token.ID
	}
	a.Scope = scopeV3(req.Auth.Scope)
	if id.AppCred != nil && a.Scope == "unscoped" {
		a.Scope = ""
	}
	return a
}

func scopeV3(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "unscoped"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s // "unscoped"
	}
	var scope struct {
		Project *v3Name `json:"project"`
		Domain  *v3Name `json:"domain"`
		System  *v3Name `json:"system"`
		Trust   *v3Name `json:"OS-TRUST:trust"`
	}
	if json.Unmarshal(raw, &scope) != nil {
		return ""
	}
	switch {
	case scope.Project != nil:
		p := "project " + scope.Project.label()
		if d := scope.Project.Dom.label(); d != "" {
			p += "@" + d
		}
		return p
	case scope.Domain != nil:
		return "domain " + scope.Domain.label()
	case scope.System != nil:
		return "system"
	case scope.Trust != nil:
		return "trust " + scope.Trust.label()
	}
	return "unscoped"
}

func parseAuthV2(body []byte) *AuthRequest {
	a := &AuthRequest{}
	var req struct {
		Auth struct {
			Password *struct {
				Username string `json:"username"`
				UserID   string `json:"userId"`
			} `json:"passwordCredentials"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			TenantName string `json:"tenantName"`
			TenantID   string `json:"tenantId"`
		} `json:"auth"`
	}
	if json.Unmarshal(body, &req) != nil {
		return a
	}
	if p := req.Auth.Password; p != nil {
		a.Methods = []string{"password"}
		a.User = p.Username
		if a.User == "" {
			a.User = p.UserID
		}
	}
	if t := req.Auth.Token; t != nil {
		a.Methods = append(a.Methods, "token")
		a.Token = t.ID
	}
	switch {
	case req.Auth.TenantName != "":
		a.Scope = "project " + req.Auth.TenantName
	case req.Auth.TenantID != "":
		a.Scope = "project " + req.Auth.TenantID
	default:
		a.Scope = "unscoped"
	}
	return a
}
