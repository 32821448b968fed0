package openstack

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/authflow/authflow/decode/httpdec"
)

// Endpoint is one endpoint of a service in a token's catalog.
type Endpoint struct {
	Interface string `json:"interface,omitempty"`
	Region    string `json:"region,omitempty"`
	URL       string `json:"url"`
}

// CatalogEntry is one service of a token's catalog.
type CatalogEntry struct {
	Type      string     `json:"type"`
	Name      string     `json:"name,omitempty"`
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// TokenInfo is what a token response says about the token. It never holds
// the token itself.
type TokenInfo struct {
	Methods       []string       `json:"methods,omitempty"`
	User          string         `json:"user,omitempty"`
	UserDomain    string         `json:"user_domain,omitempty"`
	Project       string         `json:"project,omitempty"`
	ProjectDomain string         `json:"project_domain,omitempty"`
	Domain        string         `json:"domain,omitempty"`
	System        bool           `json:"system,omitempty"`
	Roles         []string       `json:"roles,omitempty"`
	ExpiresAt     string         `json:"expires_at,omitempty"`
	IssuedAt      string         `json:"issued_at,omitempty"`
	Catalog       []CatalogEntry `json:"-"`
}

// Scope describes what the token is scoped to, like AuthRequest.Scope.
func (t *TokenInfo) Scope() string {
	switch {
	case t.Project != "" && t.ProjectDomain != "":
		return "project " + t.Project + "@" + t.ProjectDomain
	case t.Project != "":
		return "project " + t.Project
	case t.Domain != "":
		return "domain " + t.Domain
	case t.System:
		return "system"
	}
	return "unscoped"
}

// Result is the OpenStack meaning of a response to a Call.
type Result struct {
	// Kind is TokenIssued, TokenDenied, TokenValid or TokenInvalid for
	// Keystone token calls, "" otherwise.
	Kind string
	// Token is the token a 201 issued (X-Subject-Token, or the v2.0
	// body's access.token.id).
	Token string
	// Info is what the token response body says.
	Info *TokenInfo
	// Error is the error message of an error response body.
	Error string
	// ImageID is the id of an image a response describes (create, show).
	ImageID string
	// ImageName and ImageStatus describe that image.
	ImageName, ImageStatus string
	// Images is the number of images a list returned, -1 if unknown.
	Images int
}

// InterpretResponse gives a response to call its meaning: the one found
// when it was decoded (resp.Meaning, made with the same call), else read
// from it now.
func InterpretResponse(call *Call, resp *httpdec.Response) *Result {
	if r, ok := resp.Meaning.(*Result); ok {
		return r
	}
	r := &Result{Images: -1}
	ok := resp.Status >= 200 && resp.Status < 300
	switch call.Kind {
	case TokenIssue:
		switch {
		case ok:
			r.Kind = TokenIssued
			r.Token = resp.Header.Get("X-Subject-Token")
			r.Info, r.Token = parseTokenBody(resp.Body, r.Token)
		case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden || resp.Status == http.StatusNotFound || resp.Status == http.StatusBadRequest:
			r.Kind = TokenDenied
		}
	case TokenValidate:
		switch {
		case ok:
			r.Kind = TokenValid
			r.Info, _ = parseTokenBody(resp.Body, "")
		case resp.Status == http.StatusNotFound || resp.Status == http.StatusUnauthorized:
			r.Kind = TokenInvalid
		}
	case ImageCreate, ImageShow, ImageUpdate:
		var img struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"status"`
		}
		if ok && json.Unmarshal(resp.Body, &img) == nil {
			r.ImageID, r.ImageName, r.ImageStatus = img.ID, img.Name, img.Status
		}
	case ImageList:
		var list struct {
			Images []json.RawMessage `json:"images"`
		}
		if ok && resp.Complete && json.Unmarshal(resp.Body, &list) == nil {
			r.Images = len(list.Images)
		}
	}
	if !ok {
		r.Error = errorMessage(resp.Body)
	}
	return r
}

type v3Token struct {
	Token *struct {
		Methods   []string `json:"methods"`
		User      *v3Name  `json:"user"`
		Project   *v3Name  `json:"project"`
		Domain    *v3Name  `json:"domain"`
		System    any      `json:"system"`
		Roles     []v3Name `json:"roles"`
		ExpiresAt string   `json:"expires_at"`
		IssuedAt  string   `json:"issued_at"`
		Catalog   []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Endpoints []struct {
				Interface string `json:"interface"`
				Region    string `json:"region"`
				RegionID  string `json:"region_id"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	} `json:"token"`
	Access *struct {
		Token struct {
			ID      string  `json:"id"`
			Expires string  `json:"expires"`
			Tenant  *v3Name `json:"tenant"`
		} `json:"token"`
		User *struct {
			Name  string   `json:"name"`
			Roles []v3Name `json:"roles"`
		} `json:"user"`
		Catalog []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Endpoints []struct {
				Region   string `json:"region"`
				Public   string `json:"publicURL"`
				Internal string `json:"internalURL"`
				Admin    string `json:"adminURL"`
			} `json:"endpoints"`
		} `json:"serviceCatalog"`
	} `json:"access"`
}

// parseTokenBody reads a v3 or v2.0 token body; for v2.0 the token id is
// in the body, and returned when token is empty.
func parseTokenBody(body []byte, token string) (*TokenInfo, string) {
	var b v3Token
	if json.Unmarshal(body, &b) != nil {
		return nil, token
	}
	info := &TokenInfo{}
	switch {
	case b.Token != nil:
		t := b.Token
		info.Methods = t.Methods
		if t.User != nil {
			info.User = t.User.label()
			info.UserDomain = t.User.Dom.label()
		}
		if t.Project != nil {
			info.Project = t.Project.label()
			info.ProjectDomain = t.Project.Dom.label()
		}
		if t.Domain != nil {
			info.Domain = t.Domain.label()
		}
		info.System = t.System != nil
		for _, role := range t.Roles {
			info.Roles = append(info.Roles, role.label())
		}
		info.ExpiresAt, info.IssuedAt = t.ExpiresAt, t.IssuedAt
		for _, s := range t.Catalog {
			e := CatalogEntry{Type: s.Type, Name: s.Name}
			for _, ep := range s.Endpoints {
				region := ep.Region
				if region == "" {
					region = ep.RegionID
				}
				e.Endpoints = append(e.Endpoints, Endpoint{Interface: ep.Interface, Region: region, URL: ep.URL})
			}
			info.Catalog = append(info.Catalog, e)
		}
	case b.Access != nil:
		a := b.Access
		if token == "" {
			token = a.Token.ID
		}
		info.ExpiresAt = a.Token.Expires
		if a.Token.Tenant != nil {
			info.Project = a.Token.Tenant.label()
		}
		if a.User != nil {
			info.User = a.User.Name
			for _, role := range a.User.Roles {
				info.Roles = append(info.Roles, role.label())
			}
		}
		for _, s := range a.Catalog {
			e := CatalogEntry{Type: s.Type, Name: s.Name}
			for _, ep := range s.Endpoints {
				for _, iu := range [][2]string{{"public", ep.Public}, {"internal", ep.Internal}, {"admin", ep.Admin}} {
					if iu[1] != "" {
						e.Endpoints = append(e.Endpoints, Endpoint{Interface: iu[0], Region: ep.Region, URL: iu[1]})
					}
				}
			}
			info.Catalog = append(info.Catalog, e)
		}
	default:
		return nil, token
	}
	return info, token
}

// errorMessage finds the message of an OpenStack error body:
// {"error": {"message": …}} (keystone) or a glance/webob text body.
func errorMessage(body []byte) string {
	var e struct {
		Error *struct {
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != nil {
		if e.Error.Message != "" {
			return e.Error.Message
		}
		return e.Error.Title
	}
	if msg := htmlMessage(body); msg != "" {
		return msg
	}
	return plainMessage(body)
}

var statusLine = regexp.MustCompile(`^[1-5][0-9][0-9] [^\n]*$`)

// plainMessage finds the message of a webob plain-text error page
// (glance's policy refusals): "403 Forbidden", a blank line, the message.
func plainMessage(body []byte) string {
	first, rest, ok := strings.Cut(string(body), "\n")
	if !ok || !statusLine.MatchString(strings.TrimSuffix(first, "\r")) {
		return ""
	}
	msg := strings.Join(strings.Fields(rest), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// htmlMessage finds the message of a webob error page (glance): the text
// of the body that is not its title, e.g. "No image found with ID cirros".
func htmlMessage(body []byte) string {
	s := string(body)
	if !strings.Contains(s, "<html") && !strings.Contains(s, "<body") {
		return ""
	}
	title := ""
	if i, j := strings.Index(s, "<title>"), strings.Index(s, "</title>"); i >= 0 && j > i {
		title = strings.TrimSpace(s[i+len("<title>") : j])
	}
	if i := strings.Index(s, "<body"); i >= 0 {
		s = s[i:]
	}
	var parts []string
	for _, line := range strings.Split(htmlTag.ReplaceAllString(s, "\n"), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line != "" && line != title {
			parts = append(parts, line)
		}
	}
	msg := strings.Join(parts, " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}
