package stream

import (
	"slices"
	"testing"
	"time"
)

// TestPortReuse: a client reuses its port for a new connection after the
// last one closed; the closing ACK of the old one, seen after both FINs,
// must not leave behind state that swallows the new connection.
func TestPortReuse(t *testing.T) {
	h := newRecorder()
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{})
	c := newTestConn(a, 40000, time.Unix(1e9, 0))
	c.handshake()
	c.send(false, []byte("GET /1"), false, false)
	c.send(true, []byte("one"), false, false)
	c.send(true, nil, false, true)  // server FIN
	c.send(false, nil, false, true) // client FIN: the connection is done
	c.send(true, nil, false, false) // the last ACK
	// Minutes later, the same ports, new sequence numbers.
	c.t = c.t.Add(5 * time.Minute)
	c.cliSeq, c.srvSeq = 7000000, 9000000
	c.handshake()
	c.send(false, []byte("GET /2"), false, false)
	c.send(true, []byte("two"), false, false)
	c.send(true, nil, false, true)
	c.send(false, nil, false, true)
	a.Close()
	if got := a.Stats().Connections; got != 2 {
		t.Errorf("%d connections tracked, want 2", got)
	}
	var server []string
	for _, l := range h.log[true] {
		if l != "err EOF" {
			server = append(server, l[len(l)-3:])
		}
	}
	if !slices.Equal(server, []string{"one", "two"}) {
		t.Errorf("server data %q, want one and two (log %q)", server, h.log[true])
	}
}

// TestMidstreamAckFirst: a capture that starts with bare ACKs of a
// connection already open picks it up at its first data.
func TestMidstreamAckFirst(t *testing.T) {
	h := newRecorder()
	a := NewAssembler(func(*Context) Handler { return h }, discardSink, Options{})
	c := newTestConn(a, 40000, time.Unix(1e9, 0))
	c.send(false, nil, false, false) // bare ACKs only
	c.send(true, nil, false, false)
	c.send(false, []byte("GET /x"), false, false)
	c.send(true, []byte("answer"), false, false)
	a.Close()
	if !slices.Contains(h.log[true], "4:answer") || !slices.Contains(h.log[false], "3:GET /x") {
		t.Errorf("client %q, server %q", h.log[false], h.log[true])
	}
}
