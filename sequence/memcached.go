package sequence

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/decode/secrets"
)

// memcachedKind is the kind of the message of a memcached command.
func memcachedKind(op string) Kind {
	switch op {
	case "get", "gets", "gat", "gats", "mg":
		return KindMemcachedGet
	case "set", "add", "replace", "append", "prepend", "cas", "ms":
		return KindMemcachedSet
	case "delete", "md":
		return KindMemcachedDelete
	}
	return KindMemcachedCommand
}

// keyLabel names a cache key: by the token it caches when known.
func (b *builder) keyLabel(key string) string {
	if tok, ok := b.cacheKeys[key]; ok {
		return "token " + b.fp(tok)
	}
	if secrets.TokenShaped(key) {
		// A raw token used as the key itself.
		return "token " + b.fp(key)
	}
	if openstack.ProtectedCacheKey(key) {
		return "protected token entry " + shorten(key, 20)
	}
	if h := openstack.HashedCacheKey(key); h != "" {
		return "token " + h[:openstack.FingerprintLen] + " (not seen issued)"
	}
	return shorten(key, 48)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (b *builder) memcachedMessages(x *exchange) []*pending {
	var out []*pending
	key := x.cacheKey()
	tok := ""
	if t, ok := b.cacheKeys[key]; ok {
		tok = b.fp(t)
	} else if h := openstack.HashedCacheKey(key); h != "" && !b.opts.ShowSecrets {
		tok = h[:openstack.FingerprintLen]
	}
	var cmd *memcached.Command
	if x.req != nil {
		cmd = x.req.Data.(*memcached.Command)
		m := b.message(x.caller, x.callee, x.req.Start, memcachedKind(cmd.Op))
		m.End = x.req.End
		m.Key, m.Token = key, tok
		m.Protected = tok == "" && openstack.ProtectedCacheKey(key)
		what := b.keyLabel(key)
		if len(cmd.Keys) > 1 {
			what += fmt.Sprintf(" and %d more keys", len(cmd.Keys)-1)
		}
		m.Label = cmd.Op + " " + what
		if memcachedKind(cmd.Op) == KindMemcachedSet {
			m.TTL = cmd.Exptime
		}
		if cmd.ValueLen > 0 || memcachedKind(cmd.Op) == KindMemcachedSet {
			m.Label += fmt.Sprintf(" (%s", size(int64(cmd.ValueLen)))
			if cmd.Exptime > 0 {
				m.Label += fmt.Sprintf(", ttl %d s", cmd.Exptime)
			}
			m.Label += ")"
		}
		if cmd.NoReply {
			m.Label += " noreply"
		}
		if x.repeats > 0 {
			m.Label += fmt.Sprintf(" (×%d)", x.repeats+1)
			m.Count = x.repeats + 1
		}
		out = append(out, &pending{msg: m, at: x.req.Start, x: x, isReq: true, cause: x.cause})
	}
	if x.resp != nil {
		r := x.resp.Data.(*memcached.Reply)
		m := b.message(x.callee, x.caller, x.resp.Start, KindMemcachedResult)
		m.End = x.resp.End
		m.Response = true
		if x.req != nil {
			setDuration(m, x.req.Start.Time, x.resp.End)
		}
		m.Key, m.Token = key, tok
		switch {
		case memcachedKind(r.Op) == KindMemcachedGet && len(r.Results) > 0:
			hit := r.Hits > 0
			m.Hit = &hit
			if hit {
				n := 0
				for _, it := range r.Items {
					n += it.Len
				}
				m.Label = fmt.Sprintf("hit (%s)", size(int64(n)))
				if len(r.Results) > 1 {
					m.Label = fmt.Sprintf("%d hits, %d misses", r.Hits, r.Misses)
				}
				if tok != "" {
					m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCacheHit, tok)})
				}
			} else {
				m.Label = "miss"
				if tok != "" || openstack.ProtectedCacheKey(key) {
					m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCacheMiss)})
				}
			}
		case r.Stored != nil:
			m.Stored = r.Stored
			m.Label = strings.ToLower(strings.ReplaceAll(r.Status, "_", " "))
			if *r.Stored && tok != "" {
				m.Notes = append(m.Notes, Note{Over: []string{m.From}, Text: b.t(noteCached, tok)})
			}
		default:
			m.Label = strings.ToLower(strings.ReplaceAll(r.Status, "_", " "))
		}
		if r.Error != "" {
			m.Label += ": " + r.Error
			m.Error = r.Error
		}
		if r.Implied {
			m.Label += " (implied)"
		}
		out = append(out, &pending{msg: m, at: x.resp.Start, x: x, cause: x.cause})
	}
	return out
}

// cacheKey is the memcached key of a cache exchange.
func (x *exchange) cacheKey() string {
	if x.req != nil {
		if c, ok := x.req.Data.(*memcached.Command); ok && len(c.Keys) > 0 {
			return c.Keys[0]
		}
	}
	if x.resp != nil {
		if r, ok := x.resp.Data.(*memcached.Reply); ok && len(r.Keys) > 0 {
			return r.Keys[0]
		}
	}
	return ""
}
