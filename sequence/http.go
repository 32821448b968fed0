package sequence

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/openstack"
)

// tokenOrUnknown shows a token, or says it was not captured (a snap length
// that cut the header, say).
func (b *builder) tokenOrUnknown(token string) string {
	if token == "" {
		return "(not in capture)"
	}
	return b.fp(token)
}

// fp shows a token: its fingerprint, or all of it with ShowSecrets.
func (b *builder) fp(token string) string {
	if token == "" {
		return ""
	}
	if b.opts.ShowSecrets {
		return token
	}
	fp, ok := b.fps[token]
	if !ok {
		if b.fps == nil {
			b.fps = map[string]string{}
		}
		fp = openstack.Fingerprint(token)
		b.fps[token] = fp
	}
	return fp
}

// messages draws one exchange.
func (b *builder) messages(x *exchange) []*pending {
	switch x.proto {
	case protoHTTP:
		return b.httpMessages(x)
	}
	return b.otherMessages(x)
}

func (b *builder) httpMessages(x *exchange) []*pending {
	if x.caller == nil || x.callee == nil {
		return nil
	}
	x.caller.p.Endpoints = append(x.caller.p.Endpoints, x.conn.Client.Addr().String())
	x.callee.p.Endpoints = append(x.callee.p.Endpoints, x.conn.Server.String())
	var out []*pending
	call := x.call
	if x.req != nil {
		req := x.req.Data.(*httpdec.Request)
		kind := Kind(call.Kind)
		if kind == "" {
			kind = KindHTTPRequest
		}
		m := b.message(x.caller, x.callee, x.req.Start, kind)
		m.End = x.req.End
		m.Method, m.Target = req.Method, req.Target
		m.Token = b.fp(x.token)
		if call.Kind == openstack.TokenValidate || call.Kind == openstack.TokenRevoke {
			m.Token = b.fp(x.subject)
			if x.token != x.subject {
				m.AuthToken = b.fp(x.token)
			}
		}
		if call.Kind == openstack.TokenIssue && call.Auth != nil {
			if call.Auth.Token != "" {
				m.Token = b.fp(call.Auth.Token)
			}
			m.User, m.Scope = call.Auth.User, call.Auth.Scope
			if m.Scope == "" && x.result != nil && x.result.Kind == openstack.TokenIssued && x.result.Info != nil {
				m.Scope = x.result.Info.Scope()
			}
			if m.User != "" && call.Auth.UserDomain != "" {
				m.User += "@" + call.Auth.UserDomain
			}
		}
		m.Image = call.ImageID
		m.Label = b.requestLabel(x, req)
		b.requestNotes(x, m)
		b.proxyNote(x, m)
		out = append(out, &pending{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause})
	}
	if x.resp != nil {
		resp := x.resp.Data.(*httpdec.Response)
		kind := KindHTTPResponse
		if x.result != nil && x.result.Kind != "" {
			kind = Kind(x.result.Kind)
		}
		m := b.message(x.callee, x.caller, x.resp.Start, kind)
		m.End = x.resp.End
		m.Response = true
		m.Status = resp.Status
		switch kind {
		case openstack.TokenIssued:
			m.Token = b.fp(x.issued)
		case openstack.TokenValid, openstack.TokenInvalid:
			m.Token = b.fp(x.subject)
		}
		if x.result != nil && x.result.Info != nil {
			info := x.result.Info
			m.Expires, m.Scope, m.User = info.ExpiresAt, info.Scope(), info.User
			if info.UserDomain != "" {
				m.User += "@" + info.UserDomain
			}
		}
		m.Image = call.ImageID
		if x.result != nil && x.result.ImageID != "" {
			m.Image = x.result.ImageID
		}
		if x.req != nil {
			setDuration(m, x.req.Start.Time, x.resp.End)
		}
		m.Label = b.responseLabel(x, resp)
		b.responseNotes(x, m)
		out = append(out, &pending{msg: m, at: x.resp.Start, x: x, cause: x.cause})
	}
	return out
}

// shortTarget keeps a request target readable.
func shortTarget(t string) string {
	const max = 72
	if len(t) <= max {
		return t
	}
	return t[:max-1] + "…"
}

func (b *builder) requestLabel(x *exchange, req *httpdec.Request) string {
	call := x.call
	line := req.Method + " " + shortTarget(req.Target)
	var what string
	switch call.Kind {
	case openstack.TokenIssue:
		what = authLabel(call.Auth, authScope(x), b)
	case openstack.TokenValidate:
		what = "validate token " + b.fp(x.subject)
	case openstack.TokenRevoke:
		what = "revoke token " + b.fp(x.subject)
	case openstack.ImageList:
		what = "list images"
	case openstack.ImageShow:
		what = "show image " + call.ImageID
	case openstack.ImageCreate:
		what = "create image"
		if name := imageName(req.Body); name != "" {
			what += " " + name
		}
	case openstack.ImageUpload:
		what = fmt.Sprintf("upload image data (%s)", size(req.BodyLen))
	case openstack.ImageDownload:
		what = "download image data"
	case openstack.ImageDelete:
		what = "delete image " + call.ImageID
	case openstack.ImageUpdate:
		what = "update image " + call.ImageID
	}
	label := line
	if what != "" {
		label += ": " + what
	}
	if x.token != "" && call.Kind != openstack.TokenRevoke {
		label += " [token " + b.fp(x.token) + "]"
	}
	return label
}

// authLabel describes a token request: how it authenticates and what
// the token is scoped to (scope, from the request or, when the request
// names none, from keystone's answer).
func authLabel(a *openstack.AuthRequest, scope string, b *builder) string {
	if a == nil || len(a.Methods) == 0 {
		return "issue token"
	}
	var who string
	user := a.User
	if user != "" && a.UserDomain != "" {
		user += "@" + a.UserDomain
	}
	switch {
	case a.AppCredential != "":
		who = "application credential " + a.AppCredential
		if user != "" {
			who += " of " + user
		}
	case user != "":
		who = user
	case a.Token != "":
		who = "token " + b.fp(a.Token)
	}
	s := strings.Join(a.Methods, "+")
	switch {
	case who == "":
	case len(a.Methods) == 1 && (a.Methods[0] == "token" || a.Methods[0] == "application_credential"):
		s = who // the method is in who's name
	default:
		s += " " + who
	}
	if scope != "" {
		s += " → " + scope
	}
	return s
}

// authScope is what a token request's token is scoped to: what the
// request asks for or, when it names nothing (an application credential),
// what keystone answered.
func authScope(x *exchange) string {
	a := x.call.Auth
	if a == nil {
		return ""
	}
	if a.Scope != "" {
		return a.Scope
	}
	if x.result != nil && x.result.Kind == openstack.TokenIssued && x.result.Info != nil {
		return x.result.Info.Scope()
	}
	if a.AppCredential != "" {
		return "the credential's project"
	}
	return ""
}

func (b *builder) responseLabel(x *exchange, resp *httpdec.Response) string {
	label := fmt.Sprintf("%d %s", resp.Status, statusText(resp.Status, resp.Reason))
	r := x.result
	var what string
	if r != nil {
		switch r.Kind {
		case openstack.TokenIssued:
			what = "token " + b.tokenOrUnknown(x.issued)
			if r.Info != nil {
				what += " (" + tokenWho(r.Info) + ")"
			}
		case openstack.TokenDenied:
			what = "authentication failed"
		case openstack.TokenValid:
			what = "token " + b.tokenOrUnknown(x.subject) + " valid"
			if r.Info != nil {
				what += " (" + tokenWho(r.Info) + ")"
			}
		case openstack.TokenInvalid:
			what = "token " + b.tokenOrUnknown(x.subject) + " invalid"
		}
		switch x.call.Kind {
		case openstack.ImageList:
			if r.Images >= 0 {
				what = plural(r.Images, "image")
			}
		case openstack.ImageCreate:
			if r.ImageID != "" {
				what = "image " + r.ImageID
				if r.ImageStatus != "" {
					what += " (" + r.ImageStatus + ")"
				}
			}
		case openstack.ImageDownload:
			if resp.Status == http.StatusOK {
				what = size(resp.BodyLen)
				if announced := announcedLen(&resp.Message); b.dropped(x.resp.Start) && announced > resp.BodyLen {
					what += " of " + size(announced)
				}
			}
		}
	}
	if what != "" {
		label += ": " + what
	}
	return label + b.lossLabel(x.resp.Start, &resp.Message)
}

// lossLabel says what a message is missing: bytes lost inside it, or its
// end. In an input whose interfaces dropped packets, the loss is put down
// to the kernel's drops, with the size the headers announced.
func (b *builder) lossLabel(at event.Position, m *httpdec.Message) string {
	if m.Complete {
		return ""
	}
	dropped := b.dropped(at)
	switch {
	case m.Lost > 0 && dropped:
		if announced := announcedLen(m); announced > 0 {
			return fmt.Sprintf(" [%s of %s lost to kernel drops]", size(m.Lost), size(announced))
		}
		return fmt.Sprintf(" [%s lost to kernel drops]", size(m.Lost))
	case m.Lost > 0:
		return fmt.Sprintf(" [%s missing from capture]", size(m.Lost))
	case dropped:
		return " [cut short: the rest lost to kernel drops]"
	}
	return " [cut short]"
}

// dropped tells whether the input a message was captured in had packets
// dropped by the kernel.
func (b *builder) dropped(at event.Position) bool {
	name := b.inputName(at.Frame.Input)
	for _, d := range b.opts.Drops {
		if d.File == name && d.Dropped > 0 {
			return true
		}
	}
	return false
}

// announcedLen is the body length a message's header announced, 0 if
// none did.
func announcedLen(m *httpdec.Message) int64 {
	n, err := strconv.ParseInt(m.Header.Get("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func tokenWho(t *openstack.TokenInfo) string {
	who := t.User
	if t.UserDomain != "" {
		who += "@" + t.UserDomain
	}
	return who + ", " + t.Scope()
}

// statusText gives the standard reason phrase, whatever the server sent
// ("CREATED" from werkzeug, "Created" from webob).
func statusText(code int, sent string) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return sent
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// size formats a byte count for people.
func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
}

func imageName(body []byte) string {
	var img struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(body, &img) == nil {
		return img.Name
	}
	return ""
}

// requestNotes marks what a reader should see on a request.
func (b *builder) requestNotes(x *exchange, m *Message) {
	call := x.call
	switch call.Kind {
	case openstack.TokenIssue:
		if x.caller.role != RoleClient && x.caller.role != RoleProxy && x.cause != nil {
			m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteSelfAuth, x.caller.name)})
		}
	case openstack.TokenValidate:
		if x.caller.role != RoleClient && x.caller.role != RoleProxy {
			text := b.t(noteValidate, x.caller.name, b.fp(x.subject))
			if x.token != "" {
				text = b.t(noteValidateOwn, x.caller.name, b.fp(x.subject), b.fp(x.token))
			}
			m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: text})
		}
	}
}

// responseNotes marks failures and their reasons.
func (b *builder) responseNotes(x *exchange, m *Message) {
	resp := x.resp.Data.(*httpdec.Response)
	if resp.Status < 400 {
		return
	}
	text := b.t(noteFailure, resp.Status, statusText(resp.Status, resp.Reason))
	if x.result != nil && x.result.Error != "" {
		text = b.t(noteFailureMessage, resp.Status, statusText(resp.Status, resp.Reason), x.result.Error)
	}
	m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: text})
}
