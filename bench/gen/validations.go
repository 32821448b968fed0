package main

import (
	"bytes"
	"container/heap"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// The validations are the real validation connection of image-save's
// loopback capture (glance's keystonemiddleware → keystone:
// GET /v3/auth/tokens, 200 OK with the token JSON, the body delimited by
// keystone closing the connection, as uwsgi does), played N times: each on
// its own connection from a new ephemeral port, with new initial sequence
// numbers and TCP timestamp offsets, a new user token (X-Subject-Token,
// echoed in the response), a new request id and audit id, keeping the
// real timing (keystone took 376 ms to answer), one starting every
// -interval, so that about 376 ms / interval connections are open at once.
// With -cache (the default), glance's token cache traffic goes with each:
// a memcached get (a miss) just before the validation and the set of the
// validated token just after, on the pooled connection of one of glance's
// two workers (taken in turn), as in the real capture.

// realValidation is the template connection.
type realValidation struct {
	pkts      []*tpacket
	client    uint16 // the client's port
	cliISN    uint32
	srvISN    uint32
	subject   []byte // the token validated
	requestID []byte // "req-<uuid>"
	auditID   []byte // the token's audit id
}

func findValidation(tpl *template) (*realValidation, error) {
	v := &realValidation{}
	for _, p := range tpl.lo {
		if bytes.HasPrefix(p.payload(), []byte("GET /v3/auth/tokens ")) {
			v.client = uint16(p.tcp.SrcPort)
			break
		}
	}
	if v.client == 0 {
		return nil, errors.New("template: no validation request in lo.pcap")
	}
	for _, p := range tpl.lo {
		if p.tcp != nil && (uint16(p.tcp.SrcPort) == v.client || uint16(p.tcp.DstPort) == v.client) {
			v.pkts = append(v.pkts, p)
		}
	}
	if len(v.pkts) < 4 || !v.pkts[0].tcp.SYN || v.pkts[0].tcp.ACK || !v.pkts[1].tcp.SYN {
		return nil, errors.New("template: the validation connection does not start with its handshake")
	}
	v.cliISN, v.srvISN = v.pkts[0].tcp.Seq, v.pkts[1].tcp.Seq
	for _, p := range v.pkts {
		pl := p.payload()
		if bytes.HasPrefix(pl, []byte("GET ")) {
			v.subject = []byte(headerValue(pl, "X-Subject-Token"))
		}
		if bytes.HasPrefix(pl, []byte("HTTP/1.1 ")) {
			v.requestID = []byte(headerValue(pl, "x-openstack-request-id"))
			if _, after, ok := bytes.Cut(pl, []byte(`"audit_ids": ["`)); ok {
				if id, _, ok := bytes.Cut(after, []byte(`"`)); ok {
					v.auditID = id
				}
			}
		}
	}
	if len(v.subject) == 0 || len(v.requestID) == 0 || len(v.auditID) == 0 {
		return nil, errors.New("template: validation without X-Subject-Token, request id or audit id")
	}
	return v, nil
}

// liveConn is a connection being played: its peers hold the next
// sequence numbers, so packets must be built in the order they are written.
type liveConn struct {
	cli, srv *peer
}

// pending is a packet waiting for its turn in the output; it is built
// when written, so that sequence numbers follow the written order.
type pending struct {
	t       time.Time
	order   int // order of generation, to keep ties stable
	conn    *liveConn
	tmpl    *tpacket
	fromCli bool
	payload []byte
}

type pendingHeap []*pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if c := h[i].t.Compare(h[j].t); c != 0 {
		return c < 0
	}
	return h[i].order < h[j].order
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(*pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// build serialises p, taking its sequence numbers from its connection.
func (p *pending) build(b *builder) ([]byte, error) {
	tcp := p.tmpl.tcp
	from, to := p.conn.srv, p.conn.cli
	if p.fromCli {
		from, to = p.conn.cli, p.conn.srv
	}
	s := &segment{seq: from.seq, payload: p.payload, synOpts: tcp.SYN, zeroID: p.tmpl.ip.Id == 0}
	if tcp.ACK {
		s.ack = to.seq
	}
	for _, f := range []struct {
		on  bool
		bit int
	}{{tcp.FIN, fFIN}, {tcp.SYN, fSYN}, {tcp.RST, fRST}, {tcp.PSH, fPSH}, {tcp.ACK, fACK}} {
		if f.on {
			s.flags |= f.bit
		}
	}
	for _, o := range tcp.Options {
		if o.OptionType == 2 && len(o.OptionData) == 2 {
			s.mss = binary.BigEndian.Uint16(o.OptionData)
		}
	}
	from.seq += uint32(len(p.payload))
	if tcp.SYN || tcp.FIN {
		from.seq++
	}
	from.win = tcp.Window
	return b.build(from, to, p.t, s)
}

const urlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// fernetLike returns a token that looks like keystone's Fernet tokens: the
// URL-safe base64 (unpadded) of version 0x80, a timestamp and random bytes,
// as long as the template's.
func fernetLike(rng *rand.Rand, issued time.Time, length int) []byte {
	raw := make([]byte, length*6/8)
	raw[0] = 0x80
	binary.BigEndian.PutUint64(raw[1:9], uint64(issued.Unix()))
	for i := 9; i < len(raw); i++ {
		raw[i] = byte(rng.Uint32())
	}
	tok := []byte(base64.RawURLEncoding.EncodeToString(raw))
	for len(tok) < length {
		tok = append(tok, urlSafe[rng.IntN(len(urlSafe))])
	}
	return tok[:length]
}

func randomHex(rng *rand.Rand, b []byte) {
	const hexd = "0123456789abcdef"
	for i := range b {
		if b[i] != '-' {
			b[i] = hexd[rng.IntN(16)]
		}
	}
}

// newLiveConn starts a connection like the template's, from port cport,
// with random initial numbers.
func newLiveConn(rng *rand.Rand, cliTmpl, srvTmpl *tpacket, cport uint16) *liveConn {
	cli, srv := peerFrom(cliTmpl), peerFrom(srvTmpl)
	cli.port = cport
	cli.seq, srv.seq = rng.Uint32(), rng.Uint32()
	cli.ipID, srv.ipID = uint16(rng.Uint32()), uint16(rng.Uint32())
	cli.tsOff, srv.tsOff = rng.Uint32(), rng.Uint32()
	return &liveConn{cli: cli, srv: srv}
}

// realCache is glance's token cache traffic around the template's
// validation: the get that missed and the set that followed.
type realCache struct {
	handshake, get, set []*tpacket
	key                 []byte // the hex SHA-256 in the key
}

func findCache(tpl *template, v *realValidation) (*realCache, error) {
	var conn []*tpacket
	var port layers.TCPPort
	for _, p := range tpl.lo {
		if p.tcp != nil && (p.tcp.DstPort == 11211 && p.tcp.SYN && port == 0) {
			port = p.tcp.SrcPort
		}
		if p.tcp != nil && port != 0 && (p.tcp.SrcPort == port || p.tcp.DstPort == port) {
			conn = append(conn, p)
		}
	}
	sum := sha256.Sum256(v.subject)
	c := &realCache{key: []byte(hex.EncodeToString(sum[:]))}
	for i := 0; i < len(conn); i++ {
		pl := conn[i].payload()
		switch {
		case conn[i].tcp.SYN && conn[i].tcp.SrcPort == port:
			c.handshake = conn[i : i+3]
		case bytes.HasPrefix(pl, []byte("get tokens/")) && c.get == nil && i+3 < len(conn):
			c.get = conn[i : i+4] // get, ACK, END, ACK
		case bytes.HasPrefix(pl, []byte("set tokens/")) && c.set == nil && i+2 < len(conn):
			c.set = conn[i : i+3] // set, STORED, ACK
		}
	}
	if c.handshake == nil || c.get == nil || c.set == nil || !bytes.Contains(c.get[0].payload(), c.key) {
		return nil, errors.New("template: no memcached handshake, get and set of the validated token in lo.pcap")
	}
	return c, nil
}

func genValidations(c *config, tpl *template, emit emitFunc) (string, error) {
	v, err := findValidation(tpl)
	if err != nil {
		return "", err
	}
	var cache *realCache
	if c.cache {
		if cache, err = findCache(tpl, v); err != nil {
			return "", err
		}
	}
	rng := rand.New(rand.NewPCG(c.seed, 0x76616c69))
	b := newBuilder(c.full)
	t0 := v.pkts[0].ci.Timestamp
	var h pendingHeap
	order := 0
	push := func(t time.Time, conn *liveConn, p *tpacket, fromCli bool, payload []byte) {
		order++
		heap.Push(&h, &pending{t: t, order: order, conn: conn, tmpl: p, fromCli: fromCli, payload: payload})
	}
	var packets int64
	flushBefore := func(t time.Time) error {
		for len(h) > 0 && h[0].t.Before(t) {
			p := heap.Pop(&h).(*pending)
			data, err := p.build(b)
			if err != nil {
				return err
			}
			packets++
			if err := emit(p.t, data); err != nil {
				return err
			}
		}
		return nil
	}
	var cliTmpl, srvTmpl *tpacket
	for _, p := range v.pkts {
		if uint16(p.tcp.SrcPort) == v.client && cliTmpl == nil {
			cliTmpl = p
		}
		if uint16(p.tcp.DstPort) == v.client && srvTmpl == nil {
			srvTmpl = p
		}
	}
	// Glance's two workers each keep one memcached connection, opened
	// before the first validation.
	var caches []*liveConn
	if cache != nil {
		mcli := cache.handshake[0]
		for w := range 2 {
			lc := newLiveConn(rng, mcli, cache.handshake[1], uint16(53436+6*w))
			caches = append(caches, lc)
			start := t0.Add(-time.Second + time.Duration(w)*time.Millisecond)
			for _, p := range cache.handshake {
				push(start.Add(p.ci.Timestamp.Sub(mcli.ci.Timestamp)), lc, p, p.tcp.SrcPort == mcli.tcp.SrcPort, nil)
			}
		}
	}
	valEnd := v.pkts[len(v.pkts)-1].ci.Timestamp.Sub(t0)
	basePort := 32768 + rng.IntN(1000)*2
	for i := range c.n {
		start := t0.Add(time.Duration(i) * c.interval)
		if err := flushBefore(start.Add(-time.Millisecond)); err != nil {
			return "", err
		}
		token := fernetLike(rng, start, len(v.subject))
		reqID := bytes.Clone(v.requestID)
		randomHex(rng, reqID[4:])
		audit := []byte(base64.RawURLEncoding.EncodeToString(fernetLike(rng, start, 16)))[:len(v.auditID)]
		sum := sha256.Sum256(token)
		key := []byte(hex.EncodeToString(sum[:]))
		patch := func(pl []byte) []byte {
			if len(pl) == 0 {
				return nil
			}
			pl = bytes.ReplaceAll(pl, v.subject, token)
			pl = bytes.ReplaceAll(pl, v.requestID, reqID)
			pl = bytes.ReplaceAll(pl, v.auditID, audit)
			if cache != nil {
				pl = bytes.ReplaceAll(pl, cache.key, key)
			}
			return pl
		}
		if cache != nil {
			// get (a miss) just before the validation, set just after.
			lc := caches[i%2]
			get0 := cache.get[0].ci.Timestamp
			at := start.Add(-400 * time.Microsecond)
			for _, p := range cache.get {
				push(at.Add(p.ci.Timestamp.Sub(get0)), lc, p, p.tcp.DstPort == 11211, patch(p.payload()))
			}
			set0 := cache.set[0].ci.Timestamp
			at = start.Add(valEnd + time.Millisecond)
			for _, p := range cache.set {
				push(at.Add(p.ci.Timestamp.Sub(set0)), lc, p, p.tcp.DstPort == 11211, patch(p.payload()))
			}
		}
		conn := newLiveConn(rng, cliTmpl, srvTmpl, uint16(32768+(basePort-32768+2*i)%28232))
		for _, p := range v.pkts {
			push(start.Add(p.ci.Timestamp.Sub(t0)), conn, p, uint16(p.tcp.SrcPort) == v.client, patch(p.payload()))
		}
	}
	if err := flushBefore(time.Unix(1<<40, 0)); err != nil {
		return "", err
	}
	what := "HTTP only"
	if cache != nil {
		what = "with glance's memcached get (miss) and set around each"
	}
	return fmt.Sprintf("%d validations (%s), one every %v, %d packets", c.n, what, c.interval, packets), nil
}
