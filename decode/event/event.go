// Package event defines what the decoders report: one Event per protocol
// message (an HTTP request, a memcached command, a MySQL result, a file
// read…), with where and when it started. The sequence stage correlates
// events into a flow; the protocol packages define the payloads.
package event

import (
	"fmt"
	"net/netip"
	"time"
)

// Kind names what an event is. The values are stable strings; the
// sequence stage maps them onto the JSON contract's message kinds.
type Kind string

// Event kinds reported by the decoders.
const (
	HTTPRequest  Kind = "http.request"
	HTTPResponse Kind = "http.response"

	MemcacheCommand Kind = "memcached.command"
	MemcacheReply   Kind = "memcached.reply"

	MySQLHandshake Kind = "mysql.handshake" // server greeting
	MySQLLogin     Kind = "mysql.login"     // client login request
	MySQLCommand   Kind = "mysql.command"
	MySQLResult    Kind = "mysql.result"

	FileOp Kind = "file"

	// TCPRefused is a connection attempt answered by a reset.
	TCPRefused Kind = "tcp.refused"
	// TCPReset is an established connection reset by one side.
	TCPReset Kind = "tcp.reset"
	// TLSNoKey is a TLS connection some of whose records could not be
	// decrypted; Data is the warning saying which and why.
	TLSNoKey Kind = "tls.nokey"
	// TLSDecrypted is a TLS connection authflow decrypted, emitted once,
	// at its first decrypted application data; Data is a string naming
	// the version and cipher suite, e.g. "TLS 1.3 TLS_AES_256_GCM_SHA384".
	TLSDecrypted Kind = "tls.decrypted"

	// Warning is something the decoders could not make sense of.
	Warning Kind = "warning"
)

// FrameRef points at one frame of one input, numbered as Wireshark does.
type FrameRef struct {
	Input  int // index of the input file or interface
	Number int // 1-based frame number within the input
}

// Position is where a message starts: the capture time and the frame of its
// first byte.
type Position struct {
	Time  time.Time
	Frame FrameRef
}

// Conn identifies one TCP connection.
type Conn struct {
	// ID numbers connections in the order their first packet was seen.
	ID uint64
	// Client is the side that opened the connection (or, for a connection
	// whose start is not in the capture, the side that is not a known
	// server port).
	Client netip.AddrPort
	// Server is the listening side.
	Server netip.AddrPort
	// Midstream is set when the capture does not contain the start of the
	// connection.
	Midstream bool
}

// String formats the connection as client → server.
func (c *Conn) String() string {
	if c == nil {
		return "-"
	}
	return fmt.Sprintf("%s → %s", c.Client, c.Server)
}

// Event is one decoded message.
type Event struct {
	Kind Kind
	// Start is where the message's first byte was captured.
	Start Position
	// End is the capture time of the message's last byte (equal to
	// Start.Time for single-segment messages).
	End time.Time
	// Conn is the connection the message travelled on (nil for file
	// events).
	Conn *Conn
	// FromServer is true for messages sent by Conn.Server.
	FromServer bool
	// Data is the protocol payload: *httpdec.Request, *memcached.Command,
	// *mysql.Result, *fsevent.Event, … as the Kind says. For warnings it is
	// a string.
	Data any
}

// Sink receives events as decoders produce them.
type Sink interface {
	Emit(*Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(*Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e *Event) { f(e) }
