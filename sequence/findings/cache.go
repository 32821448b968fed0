package findings

import (
	"strings"
	"time"

	"github.com/authflow/authflow/decode/openstack"
	"github.com/authflow/authflow/sequence"
)

// cacheTraffic is the token cache traffic of a flow.
type cacheTraffic struct {
	refused, resets []*sequence.Message
	gets, sets      []*sequence.Message
	// lookups are answers to gets that say hit or miss.
	lookups []*sequence.Message
	// stored are answers to sets that stored.
	stored    []*sequence.Message
	errs      []*sequence.Message
	protected []*sequence.Message
}

// cacheTraffic splits the token cache traffic of a flow by the service
// on the other side, in the order the services first appear; present is
// set when the flow has a cache at all.
func (a *analysis) cacheTraffic() (users []string, by map[string]*cacheTraffic, present bool) {
	by = map[string]*cacheTraffic{}
	for _, p := range a.parts {
		if p.Role == sequence.RoleMemcached {
			present = true
		}
	}
	for _, m := range a.msgs {
		if a.role(m.From) != sequence.RoleMemcached && a.role(m.To) != sequence.RoleMemcached {
			continue
		}
		present = true
		user, _ := a.cacheUser(m)
		c := by[user]
		if c == nil {
			c = &cacheTraffic{}
			by[user] = c
			users = append(users, user)
		}
		switch m.Kind {
		case sequence.KindTCPRefused:
			c.refused = append(c.refused, m)
		case sequence.KindTCPReset:
			c.resets = append(c.resets, m)
		case sequence.KindMemcachedGet:
			c.gets = append(c.gets, m)
		case sequence.KindMemcachedSet:
			c.sets = append(c.sets, m)
		case sequence.KindMemcachedResult:
			switch {
			case m.Error != "" || m.Stored != nil && !*m.Stored:
				c.errs = append(c.errs, m)
			case m.Hit != nil:
				c.lookups = append(c.lookups, m)
			case m.Stored != nil:
				c.stored = append(c.stored, m)
			}
		}
		if m.Protected {
			c.protected = append(c.protected, m)
		}
	}
	return users, by, present
}

// cacheUser is the participant on the other side of a cache message.
func (a *analysis) cacheUser(m *sequence.Message) (user, cache string) {
	if a.role(m.To) == sequence.RoleMemcached {
		return m.From, m.To
	}
	return m.To, m.From
}

// validationsBy lists the validation requests a participant sent within
// [from, to) (to zero: until the end).
func (a *analysis) validationsBy(id string, from, to time.Time) []*sequence.Message {
	var out []*sequence.Message
	for _, m := range a.msgs {
		if m.Kind != sequence.KindTokenValidate || m.From != id || m.Time.Before(from) || !to.IsZero() && !m.Time.Before(to) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (a *analysis) cache() {
	users, by, present := a.cacheTraffic()
	for _, u := range users {
		c := by[u]
		if r := a.role(u); r != sequence.RoleKeystone && !isService(r) {
			// Not a service (a peer probing the port): nothing to blame,
			// only what happened to say.
			a.peerCacheFailures(c)
			continue
		}
		a.cacheFailures(c)
		a.cacheErrors(c)
		a.cacheLookups(c)
		a.cacheProtection(c)
	}
	if !present {
		a.cacheNotSeen()
	}
}

// cacheFailures reports connections to the cache that were refused or
// reset.
func (a *analysis) cacheFailures(c *cacheTraffic) {
	failures := append(append([]*sequence.Message(nil), c.refused...), c.resets...)
	if len(failures) == 0 {
		return
	}
	first, last := failures[0], failures[0]
	for _, m := range failures {
		if m.Time.Before(first.Time) {
			first = m
		}
		if m.Time.After(last.Time) {
			last = m
		}
	}
	user, cache := a.cacheUser(first)
	// The cache recovered when a look-up or a store succeeded after the
	// last failure.
	var recovery *sequence.Message
	for _, m := range append(append([]*sequence.Message(nil), c.lookups...), c.stored...) {
		if m.Time.After(last.Time) && (recovery == nil || m.Time.Before(recovery.Time)) {
			recovery = m
		}
	}
	f := cacheFailureFacts{
		Service: a.name(user), Cache: a.name(cache), Endpoint: a.endpoint(cache),
		Refused: len(c.refused), Resets: len(c.resets), Recovered: recovery != nil,
		Config: a.configFile(user),
	}
	if len(c.refused) > 0 || recovery == nil {
		var until time.Time
		if recovery != nil {
			until = recovery.Time
		}
		vals := a.validationsBy(user, first.Time, until)
		f.Validations = len(vals)
		for _, v := range vals {
			f.Queries += a.dbFor(v.Seq).queries
		}
		// Severity follows impact: an outage that sent tokens to keystone
		// for validation, or that lasted to the end, is an error; one the
		// cache came back from before it cost anything a warning.
		sev := SeverityError
		if recovery != nil && f.Validations == 0 {
			sev = SeverityWarning
		}
		s, d := f.unreachable(a.lang)
		a.add(KindCacheUnreachable, sev, len(failures), s, d, append(failures, vals...))
		return
	}
	// Only resets, and the cache worked afterwards: memcached restarted
	// under the service. Evidence: each reset, the command it answered,
	// the validation that replaced the look-up, and the store after.
	ev := append([]*sequence.Message(nil), c.resets...)
	for _, r := range c.resets {
		var cmdMsg *sequence.Message
		for _, m := range c.gets {
			if m.Cause == r.Cause && m.Seq < r.Seq && (cmdMsg == nil || m.Seq > cmdMsg.Seq) {
				cmdMsg = m
			}
		}
		ev = append(ev, cmdMsg)
		for _, m := range a.caused[r.Cause] {
			if m.Kind == sequence.KindTokenValidate && m.Seq > r.Seq {
				ev = append(ev, m)
				f.Validations++
				break
			}
		}
	}
	ev = append(ev, recovery)
	s, d := f.reset(a.lang)
	a.add(KindCacheReset, SeverityWarning, len(c.resets), s, d, ev)
}

// peerCacheFailures reports, as info, connections to the cache that were
// refused or reset for a program that is no known service.
func (a *analysis) peerCacheFailures(c *cacheTraffic) {
	failures := append(append([]*sequence.Message(nil), c.refused...), c.resets...)
	if len(failures) == 0 {
		return
	}
	peer, cache := a.cacheUser(failures[0])
	f := peerCacheFailureFacts{Peer: a.name(peer), Cache: a.name(cache), Endpoint: a.endpoint(cache), Refused: len(c.refused), Resets: len(c.resets)}
	s, d := f.text(a.lang)
	a.add(KindCacheUnreachable, SeverityInfo, len(failures), s, d, failures)
}

func (a *analysis) cacheErrors(c *cacheTraffic) {
	if len(c.errs) == 0 {
		return
	}
	user, cache := a.cacheUser(c.errs[0])
	f := cacheErrorFacts{Service: a.name(user), Cache: a.name(cache), Count: len(c.errs), First: c.errs[0].Error}
	var ev []*sequence.Message
	for _, m := range c.errs {
		ev = append(ev, m, a.bySeq[m.ReplyTo])
	}
	s, d := f.text(a.lang)
	a.add(KindCacheErrors, SeverityWarning, len(c.errs), s, d, ev)
}

// cacheLookups reports hits, look-ups that never hit and misses of
// entries stored shortly before.
func (a *analysis) cacheLookups(c *cacheTraffic) {
	if len(c.lookups) == 0 {
		return
	}
	user, cache := a.cacheUser(c.lookups[0])
	var hits []*sequence.Message
	var tokens []string
	seenTok := map[string]bool{}
	for _, m := range c.lookups {
		if *m.Hit {
			hits = append(hits, m)
			if t := cacheName(m); !seenTok[t] {
				seenTok[t] = true
				tokens = append(tokens, t)
			}
		}
	}
	// A look-up can only hit a key seen before (looked up or stored);
	// a miss is "late" when its key was stored within the cache time.
	type late struct{ set, miss *sequence.Message }
	var repeats []late
	allNew := true
	seen := map[string]bool{}
	newKey := map[int]bool{}
	storedAt := map[string]*sequence.Message{}
	events := append(append(append([]*sequence.Message(nil), c.gets...), c.sets...), c.lookups...)
	events = append(events, c.stored...)
	sortBySeq(events)
	for _, m := range events {
		if m.Key == "" {
			continue
		}
		switch {
		case m.Kind == sequence.KindMemcachedGet:
			newKey[m.Seq] = !seen[m.Key]
		case m.Kind == sequence.KindMemcachedResult && m.Hit != nil && !*m.Hit:
			if st := storedAt[m.Key]; st != nil && m.Time.Sub(st.Time) < a.opts.CacheTime {
				repeats = append(repeats, late{st, m})
			}
			if isNew, ok := newKey[m.ReplyTo]; ok && !isNew {
				allNew = false
			}
		case m.Kind == sequence.KindMemcachedResult && m.Stored != nil && *m.Stored:
			storedAt[m.Key] = m
		}
		seen[m.Key] = true
	}
	if len(hits) > 0 {
		f := cacheHitFacts{Service: a.name(user), Cache: a.name(cache), Hits: len(hits), Lookups: len(c.lookups), Tokens: tokens}
		var ev []*sequence.Message
		for _, h := range hits {
			ev = append(ev, a.bySeq[h.ReplyTo], h)
		}
		s, d := f.text(a.lang)
		a.add(KindCacheHit, SeverityInfo, len(hits), s, d, ev)
	} else if len(c.lookups) > 1 {
		f := cacheNeverHitFacts{
			Service: a.name(user), Cache: a.name(cache), Lookups: len(c.lookups), Stores: len(c.stored),
			AllNew: allNew, ClientReauth: a.clientReauthSeen,
		}
		sev := SeverityInfo
		if !allNew {
			sev = SeverityWarning
		}
		ev := append(append(append([]*sequence.Message(nil), c.gets...), c.lookups...), c.sets...)
		ev = append(ev, c.stored...)
		s, d := f.text(a.lang)
		a.add(KindCacheNeverHit, sev, len(c.lookups), s, d, ev)
	}
	if len(repeats) > 0 {
		r := repeats[0]
		f := missAfterStoreFacts{
			Service: a.name(user), Count: len(repeats), Token: cacheName(r.miss),
			Age: r.miss.Time.Sub(r.set.Time), CacheTime: a.opts.CacheTime,
		}
		var ev []*sequence.Message
		for _, r := range repeats {
			ev = append(ev, a.bySeq[r.set.ReplyTo], r.set, a.bySeq[r.miss.ReplyTo], r.miss)
		}
		s, d := f.text(a.lang)
		a.add(KindCacheMissAfterStore, SeverityWarning, len(repeats), s, d, ev)
	}
}

// cacheProtection reports protected keys authflow could not read, and
// tokens stored in clear.
func (a *analysis) cacheProtection(c *cacheTraffic) {
	if len(c.protected) > 0 {
		user, cache := a.cacheUser(c.protected[0])
		keys := map[string]bool{}
		bytesRepr := false
		for _, m := range c.protected {
			keys[m.Key] = true
			if strings.HasPrefix(m.Key, "tokens/b'") {
				bytesRepr = true
			}
		}
		f := protectedFacts{Service: a.name(user), Cache: a.name(cache), Keys: len(keys), BytesRepr: bytesRepr}
		s, d := f.text(a.lang)
		a.add(KindCacheProtectedNoSecret, SeverityInfo, len(keys), s, d, c.protected)
	}
	var clear []*sequence.Message
	for _, m := range c.sets {
		if !m.Protected && openstack.HashedCacheKey(m.Key) != "" {
			clear = append(clear, m)
		}
	}
	if len(clear) > 0 {
		user, cache := a.cacheUser(clear[0])
		f := unprotectedFacts{Service: a.name(user), Cache: a.name(cache), Endpoint: a.endpoint(cache), Entries: len(clear), Config: a.configFile(user)}
		s, d := f.text(a.lang)
		a.add(KindCacheUnprotected, SeverityWarning, len(clear), s, d, clear)
	}
}

// cacheNotSeen reports services that validated tokens without any cache
// traffic in the capture.
func (a *analysis) cacheNotSeen() {
	byService := map[string][]*sequence.Message{}
	var order []string
	for _, m := range a.msgs {
		if m.Kind != sequence.KindTokenValidate || !isService(a.role(m.From)) {
			continue
		}
		if byService[m.From] == nil {
			order = append(order, m.From)
		}
		byService[m.From] = append(byService[m.From], m)
	}
	for _, id := range order {
		vals := byService[id]
		f := notSeenFacts{Service: a.name(id), Validations: len(vals), Config: a.configFile(id)}
		s, d := f.text(a.lang)
		a.add(KindCacheNotSeen, SeverityInfo, len(vals), s, d, vals)
	}
}

// cacheName names what a cache message is about: "token <fingerprint>",
// or "entry <key>" (shortened) when the token is not known.
func cacheName(m *sequence.Message) string {
	if m.Token != "" {
		return "token " + m.Token
	}
	k := m.Key
	if r := []rune(k); len(r) > 20 {
		k = string(r[:19]) + "…"
	}
	return "entry " + k
}
