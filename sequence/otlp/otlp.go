// Package otlp turns a flow's requests into OpenTelemetry traces: one trace
// per request that starts a causal tree (a client's request to a service, a
// token issue, a call nobody asked for), with the server span at the
// service and, under it, a client span for every downstream step the flow
// ties to the request (cache lookups, validations with the validating
// service's own server span and database bursts under them, database
// bursts, image-file reads). It writes them as OTLP/JSON (the
// ExportTraceServiceRequest that collectors accept as a file); package
// otlpexport sends them.
//
// Times are the capture's; trace and span ids are derived from where each
// message starts in the capture (file and frame), so exporting the same
// capture twice gives the same ids. The strings come from the flow, which
// is already scrubbed: tokens are fingerprints unless the flow was built
// with whole tokens.
package otlp

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/authflow/authflow/sequence"
)

// ScopeName is the instrumentation scope of every span.
const ScopeName = "github.com/authflow/authflow"

// Options say what goes with the spans.
type Options struct {
	// Findings become span events on the spans of the messages they
	// cite.
	Findings []sequence.Finding
	// Version is authflow's version, the instrumentation scope's.
	Version string
	// IDs, if set, are the ids given so far, kept across calls (a live
	// capture's trees come one at a time); without it each call starts
	// afresh.
	IDs *IDs
}

// IDs remembers the trace and span ids given, so that two messages that
// start in the same frame (pipelined requests) still get ids of their own.
type IDs struct {
	used map[[16]byte]bool
	// trees remember, by root seq, each tree's trace id and the span
	// each of its requests' downstream calls go under, for the pieces of
	// a tree that come late (sequence.Request.Late).
	trees map[int]treeIDs
}

// treeIDs are a tree's trace id and, by request seq, the span its
// downstream calls go under.
type treeIDs struct {
	trace pcommon.TraceID
	under map[int]pcommon.SpanID
}

// remember keeps a tree's ids for its late pieces.
func (ids *IDs) remember(root int, t treeIDs) {
	if ids.trees == nil || len(ids.trees) > maxRemembered/16 {
		ids.trees = map[int]treeIDs{}
	}
	ids.trees[root] = t
}

// maxRemembered bounds the ids an IDs keeps; past it, it forgets them all
// (a collision needs two messages in one frame, which come together).
const maxRemembered = 1 << 20

// take returns the first of the ids key, key #1, key #2, … not given yet.
func (ids *IDs) take(key string) [16]byte {
	if ids.used == nil || len(ids.used) > maxRemembered {
		ids.used = map[[16]byte]bool{}
	}
	for i := 0; ; i++ {
		k := key
		if i > 0 {
			k += fmt.Sprintf(" #%d", i)
		}
		sum := sha256.Sum256([]byte(k))
		var id [16]byte
		copy(id[:], sum[:])
		if !ids.used[id] && id != [16]byte{} && [8]byte(id[:8]) != [8]byte{} {
			ids.used[id] = true
			return id
		}
	}
}

// Traces turns each request tree into a trace. Participants are the
// resources (service.name is the participant's name as in the diagram).
func Traces(reqs []*sequence.Request, opts Options) ptrace.Traces {
	b := newBuilder(opts)
	if opts.IDs != nil {
		b.ids = opts.IDs
		b.remember = true
	}
	for _, r := range reqs {
		b.request(r)
	}
	b.findings(opts.Findings)
	return b.td
}

// FlowTraces is Traces of every request tree of a whole flow, with its
// findings.
func FlowTraces(flow *sequence.Flow, version string) ptrace.Traces {
	return Traces(sequence.Requests(flow), Options{Findings: flow.Findings, Version: version})
}

// WriteJSON writes traces as OTLP/JSON (an ExportTraceServiceRequest),
// indented, with a final newline.
func WriteJSON(w io.Writer, td ptrace.Traces) error {
	raw, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// Attributes authflow adds under its own prefix.
const (
	attrKind          = "openstack.kind"
	attrSeq           = "openstack.seq"
	attrLabel         = "openstack.label"
	attrFrame         = "openstack.frame"
	attrToken         = "openstack.token"
	attrAuthToken     = "openstack.auth_token"
	attrTokenIssued   = "openstack.token.issued"
	attrTokenExpires  = "openstack.token.expires"
	attrUser          = "openstack.user"
	attrScope         = "openstack.scope"
	attrImage         = "openstack.image.id"
	attrCacheHit      = "openstack.cache.hit"
	attrCacheStored   = "openstack.cache.stored"
	attrCacheTTL      = "openstack.cache.ttl_s"
	attrCacheProtect  = "openstack.cache.protected"
	attrDBTables      = "openstack.db.tables"
	attrDBBusyMS      = "openstack.db.busy_ms"
	attrFileBytes     = "openstack.file.bytes"
	attrFileCalls     = "openstack.file.calls"
	attrNotes         = "openstack.notes"
	attrAnswered      = "openstack.answered"
	attrInferred      = "openstack.parent.inferred"
	attrEvidence      = "openstack.parent.evidence"
	attrRole          = "openstack.participant.role"
	attrParticipant   = "openstack.participant.id"
	attrEndpoints     = "openstack.endpoints"
	attrComplete      = "openstack.request.complete"
	attrFindingSev    = "openstack.finding.severity"
	attrFindingSum    = "openstack.finding.summary"
	attrFindingDetail = "openstack.finding.detail"
	attrFindingCount  = "openstack.finding.count"
)

// builder collects the spans of all traces, one resource per participant.
type builder struct {
	td       ptrace.Traces
	version  string
	services map[string]ptrace.SpanSlice // by service name
	// spanOf is the span a message's findings go on: its request's client
	// span, else its server span.
	spanOf map[int]ptrace.Span
	// ids are the trace and span ids given, to keep them unique.
	ids *IDs
	// remember keeps each tree's ids in ids, for its late pieces.
	remember bool
}

func newBuilder(opts Options) *builder {
	return &builder{
		td:       ptrace.NewTraces(),
		version:  opts.Version,
		services: map[string]ptrace.SpanSlice{},
		spanOf:   map[int]ptrace.Span{},
		ids:      &IDs{},
	}
}

// tree is one request tree being turned into spans.
type tree struct {
	traceID  pcommon.TraceID
	parts    map[string]*sequence.Participant
	bySeq    map[int]*sequence.Message
	answer   map[int]*sequence.Message
	children map[int][]*sequence.Message
	complete bool
	// under is, by request seq, the span its downstream calls go under.
	under map[int]pcommon.SpanID
}

func (b *builder) request(r *sequence.Request) {
	if r.Root == nil {
		return
	}
	t := &tree{
		parts:    map[string]*sequence.Participant{},
		bySeq:    map[int]*sequence.Message{},
		answer:   map[int]*sequence.Message{},
		children: map[int][]*sequence.Message{},
		complete: r.Complete,
		under:    map[int]pcommon.SpanID{},
	}
	earlier, late := b.ids.trees[r.Root.Seq]
	late = late && r.Late
	if late {
		// The rest of a tree already sent: its trace, under its spans.
		t.traceID = earlier.trace
		t.under = earlier.under
	} else {
		t.traceID = b.traceID(r.Root)
	}
	for _, p := range r.Participants {
		t.parts[p.ID] = p
	}
	for _, m := range r.Messages {
		t.bySeq[m.Seq] = m
	}
	var steps []*sequence.Message
	for _, m := range r.Messages {
		switch {
		case m.ReplyTo != 0 && t.bySeq[m.ReplyTo] != nil:
			t.answer[m.ReplyTo] = m
		case m == r.Root && !late:
		case m == r.Root:
			// Already sent.
			continue
		case m.Cause != 0 && t.bySeq[m.Cause] != nil:
			t.children[m.Cause] = append(t.children[m.Cause], m)
		default:
			// Tied to nothing in this tree: under the root.
			steps = append(steps, m)
		}
	}
	if late {
		for _, m := range steps {
			parent := t.under[m.Cause]
			if parent.IsEmpty() {
				parent = t.under[r.Root.Seq]
			}
			if m.Response || m.ReplyTo != 0 {
				// An answer to a request already sent (whose span has
				// ended): a span of its own under the request's.
				s := b.span(t, m, m.From, ptrace.SpanKindServer, parent, "server")
				s.Attributes().PutBool(attrComplete, false)
				b.spanOf[m.Seq] = s
				continue
			}
			b.step(t, m, parent, nil).Attributes().PutBool(attrInferred, true)
		}
		return
	}
	root := b.root(t, r.Root)
	for _, m := range steps {
		b.step(t, m, root.SpanID(), nil)
	}
	if b.remember {
		b.ids.remember(r.Root.Seq, treeIDs{trace: t.traceID, under: t.under})
	}
}

// root makes the spans of a tree's root: the server span at the service a
// client called, or, for a call a service or cache user made on its own,
// its client span (with the callee's server span under it).
func (b *builder) root(t *tree, m *sequence.Message) ptrace.Span {
	if m.Response {
		// An answer whose request the capture missed: at the side that
		// answered.
		s := b.span(t, m, m.From, ptrace.SpanKindServer, pcommon.SpanID{}, "server")
		s.Attributes().PutBool(attrComplete, false)
		b.spanOf[m.Seq] = s
		t.under[m.Seq] = s.SpanID()
		return s
	}
	if role(t, m.From) == sequence.RoleClient && serves(role(t, m.To)) {
		s := b.span(t, m, m.To, ptrace.SpanKindServer, pcommon.SpanID{}, "server")
		s.Attributes().PutBool(attrComplete, t.complete)
		b.spanOf[m.Seq] = s
		if a := t.answer[m.Seq]; a != nil {
			b.spanOf[a.Seq] = s
		}
		t.under[m.Seq] = s.SpanID()
		b.children(t, m, s.SpanID())
		return s
	}
	return b.step(t, m, pcommon.SpanID{}, nil)
}

// step makes the client span of a downstream message at its caller and,
// when the callee is a server, the callee's server span under it; the
// calls the callee made for it go under that.
func (b *builder) step(t *tree, m *sequence.Message, parent pcommon.SpanID, cause *sequence.Message) ptrace.Span {
	c := b.span(t, m, m.From, ptrace.SpanKindClient, parent, "client")
	if cause != nil {
		c.Attributes().PutBool(attrInferred, true)
		c.Attributes().PutStr(attrEvidence, evidence(cause, m))
	}
	b.spanOf[m.Seq] = c
	if a := t.answer[m.Seq]; a != nil {
		b.spanOf[a.Seq] = c
	}
	under := c.SpanID()
	if serves(role(t, m.To)) && !m.Response {
		s := b.span(t, m, m.To, ptrace.SpanKindServer, c.SpanID(), "server")
		under = s.SpanID()
	}
	t.under[m.Seq] = under
	b.children(t, m, under)
	return c
}

func (b *builder) children(t *tree, m *sequence.Message, parent pcommon.SpanID) {
	for _, k := range t.children[m.Seq] {
		b.step(t, k, parent, m)
	}
}

// evidence says how the flow tied a call to the request it serves: by the
// token both carry, by the image both concern, or by time alone (the
// request its caller was serving when it was made).
func evidence(cause, m *sequence.Message) string {
	switch {
	case cause.Token != "" && (m.Token == cause.Token || m.AuthToken == cause.Token):
		return "token"
	case cause.Image != "" && m.Image == cause.Image:
		return "image"
	}
	return "time"
}

// serves says whether a participant of the role answers calls as a server
// of its own (and so gets a server span): services and backends, not the
// file system.
func serves(role string) bool {
	switch role {
	case sequence.RoleKeystone, sequence.RoleGlance, sequence.RoleService, sequence.RoleMemcached, sequence.RoleMySQL:
		return true
	}
	return false
}

func role(t *tree, id string) string {
	if p := t.parts[id]; p != nil {
		return p.Role
	}
	return ""
}

// span adds the span of message m (and its answer) at participant at.
func (b *builder) span(t *tree, m *sequence.Message, at string, kind ptrace.SpanKind, parent pcommon.SpanID, side string) ptrace.Span {
	s := b.spans(t, at).AppendEmpty()
	s.SetTraceID(t.traceID)
	s.SetSpanID(b.spanID(m, side))
	s.SetParentSpanID(parent)
	s.SetKind(kind)
	a := t.answer[m.Seq]
	start, end := times(m, a)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	s.SetName(spanName(m, a))
	attrs := s.Attributes()
	describe(attrs, m, a, kind)
	if a == nil && !m.Response && answerable(m) {
		attrs.PutBool(attrAnswered, false)
	}
	if failed(m, a, kind) {
		s.Status().SetCode(ptrace.StatusCodeError)
		if a != nil {
			s.Status().SetMessage(firstNonEmpty(a.Error, a.Label))
		}
	}
	return s
}

// spans is the span list of participant id's resource, made on first use.
func (b *builder) spans(t *tree, id string) ptrace.SpanSlice {
	p := t.parts[id]
	name := id
	if p != nil {
		name = p.Name
	}
	if ss, ok := b.services[name]; ok {
		return ss
	}
	rs := b.td.ResourceSpans().AppendEmpty()
	res := rs.Resource().Attributes()
	res.PutStr("service.name", name)
	if p != nil {
		res.PutStr(attrParticipant, p.ID)
		res.PutStr(attrRole, p.Role)
		if len(p.Endpoints) > 0 {
			putStrings(res, attrEndpoints, p.Endpoints)
			putStrings(res, "host.ip", hosts(p.Endpoints))
		}
	}
	sc := rs.ScopeSpans().AppendEmpty()
	sc.Scope().SetName(ScopeName)
	sc.Scope().SetVersion(b.version)
	ss := sc.Spans()
	b.services[name] = ss
	return ss
}

// times are a span's start (the request's first byte) and end (its
// answer's last byte; the request's own last byte when it has no answer).
func times(m, a *sequence.Message) (time.Time, time.Time) {
	start, end := m.Time, m.End
	if a != nil {
		switch d := duration(a); {
		case d > 0:
			end = start.Add(d)
		case !a.End.IsZero():
			end = a.End
		default:
			end = a.Time
		}
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

func duration(m *sequence.Message) time.Duration {
	if m.Duration == 0 && m.DurationMS != nil {
		return time.Duration(*m.DurationMS * float64(time.Millisecond))
	}
	return m.Duration
}

// answerable says whether a message expects an answer the capture should
// have: an HTTP request, a cache lookup or store, a database command.
func answerable(m *sequence.Message) bool {
	switch m.Kind.Protocol() {
	case "memcached", "mysql":
		return m.Kind != sequence.KindMySQLLogin
	case "file", "tcp":
		return false
	}
	return m.Method != ""
}

// failed says whether a span ends in error: an answer the kind says is a
// failure, a database error, an HTTP 5xx (4xx too on the caller's side,
// as the semantic conventions have it).
func failed(m, a *sequence.Message, kind ptrace.SpanKind) bool {
	if m.Kind.Failed() {
		return true
	}
	if a == nil {
		return m.Response && m.Status >= 500
	}
	if a.Kind.Failed() || a.Error != "" {
		return true
	}
	if a.Status >= 500 || (a.Status >= 400 && kind == ptrace.SpanKindClient) {
		return true
	}
	return false
}

// idSegment is a path segment that names one object: a UUID, a long hex
// id, or a number.
var idSegment = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}|[0-9]+)$`)

// route is a request path with the segments that name objects replaced by
// {id}: /v2/images/{id}/file.
func route(path, image string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && (idSegment.MatchString(s) || s == image) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// splitTarget splits a request target into its path and query.
func splitTarget(target string) (string, string) {
	if u, err := url.ParseRequestURI(target); err == nil && u.Path != "" {
		return u.Path, u.RawQuery
	}
	p, q, _ := strings.Cut(target, "?")
	return p, q
}

// spanName names a span: "GET /v2/images/{id}/file", "memcached get",
// "mysql BATCH", "file open/read".
func spanName(m, a *sequence.Message) string {
	switch m.Kind.Protocol() {
	case "memcached":
		return "memcached " + cacheOp(m)
	case "mysql":
		return "mysql " + dbOp(m)
	case "file":
		name := "file " + fileOp(m)
		if a != nil && fileOp(a) != fileOp(m) {
			name += "/" + fileOp(a)
		}
		return name
	case "tcp":
		return string(m.Kind)
	}
	if m.Method != "" {
		p, _ := splitTarget(m.Target)
		return m.Method + " " + route(p, m.Image)
	}
	if m.Response && m.Status != 0 {
		return strconv.Itoa(m.Status) + " (request not captured)"
	}
	return string(m.Kind)
}

func cacheOp(m *sequence.Message) string {
	return strings.TrimPrefix(string(m.Kind), "memcached.")
}

func fileOp(m *sequence.Message) string {
	return strings.TrimPrefix(string(m.Kind), "file.")
}

// dbOp is db.operation.name: login, BATCH for a summarised burst, else the
// statement's first keyword.
func dbOp(m *sequence.Message) string {
	if m.Kind == sequence.KindMySQLLogin {
		return "login"
	}
	if m.Count > 1 {
		return "BATCH"
	}
	if f := strings.Fields(m.Statement); len(f) > 0 {
		return strings.ToUpper(f[0])
	}
	return "query"
}

// describe puts the semantic-convention attributes and authflow's own on a
// span.
func describe(attrs pcommon.Map, m, a *sequence.Message, kind ptrace.SpanKind) {
	attrs.PutStr(attrKind, string(m.Kind))
	attrs.PutInt(attrSeq, int64(m.Seq))
	attrs.PutStr(attrLabel, m.Label)
	if len(m.Frames) > 0 {
		attrs.PutStr(attrFrame, fmt.Sprintf("%s:%d", m.Frames[0].File, m.Frames[0].Number))
	}
	if host, port, ok := splitAddr(m.Server); ok {
		attrs.PutStr("server.address", host)
		attrs.PutInt("server.port", port)
	}
	if kind == ptrace.SpanKindServer {
		if host, port, ok := splitAddr(m.Client); ok {
			attrs.PutStr("client.address", host)
			attrs.PutInt("client.port", port)
		}
	}
	switch m.Kind.Protocol() {
	case "memcached":
		attrs.PutStr("db.system.name", "memcached")
		attrs.PutStr("db.operation.name", cacheOp(m))
		if m.TTL != 0 {
			attrs.PutInt(attrCacheTTL, m.TTL)
		}
		if m.Protected {
			attrs.PutBool(attrCacheProtect, true)
		}
		if a != nil && a.Hit != nil {
			attrs.PutBool(attrCacheHit, *a.Hit)
		}
		if a != nil && a.Stored != nil {
			attrs.PutBool(attrCacheStored, *a.Stored)
		}
	case "mysql":
		attrs.PutStr("db.system.name", "mysql")
		attrs.PutStr("db.operation.name", dbOp(m))
		if m.Database != "" {
			attrs.PutStr("db.namespace", m.Database)
		}
		if m.Count > 1 {
			attrs.PutInt("db.operation.batch.size", int64(m.Count))
		}
		if m.Statement != "" {
			attrs.PutStr("db.query.text", m.Statement)
		}
		if len(m.Tables) == 1 {
			attrs.PutStr("db.collection.name", m.Tables[0])
		}
		if len(m.Tables) > 0 {
			putStrings(attrs, attrDBTables, m.Tables)
		}
		if m.Kind == sequence.KindMySQLLogin && m.User != "" {
			attrs.PutStr("db.user", m.User)
		}
		if a != nil && a.Rows != nil {
			attrs.PutInt("db.response.returned_rows", int64(*a.Rows))
		}
		if a != nil && a.BusyMS != nil {
			attrs.PutDouble(attrDBBusyMS, *a.BusyMS)
		}
		if a != nil && a.Error != "" {
			attrs.PutStr("error.type", "mysql")
		}
	case "file":
		if m.Path != "" {
			attrs.PutStr("file.path", m.Path)
		}
		if m.PID != 0 {
			attrs.PutInt("process.pid", int64(m.PID))
		}
		if m.Comm != "" {
			attrs.PutStr("process.executable.name", m.Comm)
		}
		calls, bytes := m.Calls, m.Bytes
		if a != nil {
			calls, bytes = a.Calls, a.Bytes
		}
		if calls != 0 {
			attrs.PutInt(attrFileCalls, int64(calls))
		}
		if bytes != nil {
			attrs.PutInt(attrFileBytes, *bytes)
		}
	default:
		if m.Method != "" {
			p, q := splitTarget(m.Target)
			attrs.PutStr("http.request.method", m.Method)
			attrs.PutStr("url.path", p)
			if q != "" {
				attrs.PutStr("url.query", q)
			}
			attrs.PutStr("http.route", route(p, m.Image))
		}
		if a != nil && a.Status != 0 {
			attrs.PutInt("http.response.status_code", int64(a.Status))
		} else if m.Response && m.Status != 0 {
			attrs.PutInt("http.response.status_code", int64(m.Status))
		}
	}
	putStr(attrs, attrToken, m.Token)
	putStr(attrs, attrAuthToken, m.AuthToken)
	putStr(attrs, attrImage, firstNonEmpty(m.Image, answerField(a, func(a *sequence.Message) string { return a.Image })))
	if m.Kind == sequence.KindMySQLLogin {
		// The login user is the database's, not OpenStack's.
	} else {
		putStr(attrs, attrUser, firstNonEmpty(m.User, answerField(a, func(a *sequence.Message) string { return a.User })))
	}
	putStr(attrs, attrScope, firstNonEmpty(m.Scope, answerField(a, func(a *sequence.Message) string { return a.Scope })))
	putStr(attrs, attrTokenExpires, firstNonEmpty(m.Expires, answerField(a, func(a *sequence.Message) string { return a.Expires })))
	if a != nil && a.Kind == sequence.KindTokenIssued {
		putStr(attrs, attrTokenIssued, a.Token)
	}
	var notes []string
	for _, n := range m.Notes {
		notes = append(notes, n.Text)
	}
	if a != nil {
		for _, n := range a.Notes {
			notes = append(notes, n.Text)
		}
	}
	if len(notes) > 0 {
		putStrings(attrs, attrNotes, notes)
	}
}

func answerField(a *sequence.Message, f func(*sequence.Message) string) string {
	if a == nil {
		return ""
	}
	return f(a)
}

func putStr(attrs pcommon.Map, k, v string) {
	if v != "" {
		attrs.PutStr(k, v)
	}
}

func putStrings(attrs pcommon.Map, k string, vs []string) {
	s := attrs.PutEmptySlice(k)
	s.EnsureCapacity(len(vs))
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// splitAddr splits host:port.
func splitAddr(addr string) (string, int64, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		return "", 0, false
	}
	return host, n, true
}

// hosts are the distinct hosts of a participant's endpoints.
func hosts(endpoints []string) []string {
	var out []string
	for _, e := range endpoints {
		h := e
		if host, _, err := net.SplitHostPort(e); err == nil {
			h = host
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// findings adds each finding as an event on the spans of the messages it
// cites (once per span).
func (b *builder) findings(fs []sequence.Finding) {
	for _, f := range fs {
		seen := map[pcommon.SpanID]bool{}
		for _, seq := range f.Messages {
			s, ok := b.spanOf[seq]
			if !ok || seen[s.SpanID()] {
				continue
			}
			seen[s.SpanID()] = true
			ev := s.Events().AppendEmpty()
			ev.SetName(f.Kind)
			at := f.Time
			if at.IsZero() {
				at = s.StartTimestamp().AsTime()
			}
			ev.SetTimestamp(pcommon.NewTimestampFromTime(at))
			ev.Attributes().PutStr(attrFindingSev, f.Severity)
			ev.Attributes().PutStr(attrFindingSum, f.Summary)
			putStr(ev.Attributes(), attrFindingDetail, f.Detail)
			if f.Count != 0 {
				ev.Attributes().PutInt(attrFindingCount, int64(f.Count))
			}
		}
	}
}

// where names the place in the capture a message starts: its file and
// frame, else (a file event) its time, process and path.
func where(m *sequence.Message) string {
	if len(m.Frames) > 0 {
		return fmt.Sprintf("frame %s:%d %s", m.Frames[0].File, m.Frames[0].Number, m.Kind)
	}
	return fmt.Sprintf("event %d %d %s %s", m.Time.UnixNano(), m.PID, m.Path, m.Kind)
}

// traceID derives a tree's trace id from where its root starts.
func (b *builder) traceID(root *sequence.Message) pcommon.TraceID {
	return pcommon.TraceID(b.ids.take("authflow trace " + where(root)))
}

// spanID derives a span id from where its message starts and which side
// of the exchange it is.
func (b *builder) spanID(m *sequence.Message, side string) pcommon.SpanID {
	id := b.ids.take("authflow span " + where(m) + " " + side)
	return pcommon.SpanID(id[:8])
}
