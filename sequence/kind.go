package sequence

import (
	"strings"

	"github.com/authflow/authflow/decode/openstack"
)

// Kind says what a message is: its protocol (or the OpenStack API it
// calls), a dot, and what it does, e.g. "memcached.get" or
// "keystone.token.validate". Kinds are the JSON `kind` values: stable,
// extended but never renamed. Calls of an API without a kind of their own
// are KindHTTPRequest; the glance kinds are those of openstack (e.g.
// "glance.image.download").
type Kind string

// Message kinds.
const (
	KindHTTPRequest  Kind = "http.request"
	KindHTTPResponse Kind = "http.response"

	KindTokenIssue    Kind = openstack.TokenIssue
	KindTokenIssued   Kind = openstack.TokenIssued
	KindTokenDenied   Kind = openstack.TokenDenied
	KindTokenValidate Kind = openstack.TokenValidate
	KindTokenValid    Kind = openstack.TokenValid
	KindTokenInvalid  Kind = openstack.TokenInvalid
	KindTokenRevoke   Kind = openstack.TokenRevoke

	KindMemcachedGet     Kind = "memcached.get"
	KindMemcachedSet     Kind = "memcached.set"
	KindMemcachedDelete  Kind = "memcached.delete"
	KindMemcachedCommand Kind = "memcached.command"
	KindMemcachedResult  Kind = "memcached.result"

	KindMySQLLogin  Kind = "mysql.login"
	KindMySQLQuery  Kind = "mysql.query"
	KindMySQLResult Kind = "mysql.result"

	KindFileOpen  Kind = "file.open"
	KindFileRead  Kind = "file.read"
	KindFileWrite Kind = "file.write"

	KindTCPRefused Kind = "tcp.refused"
	KindTCPReset   Kind = "tcp.reset"

	// KindTLSNoKey is a TLS connection authflow could not decrypt, drawn
	// from its client to its server as "TLS (no key)".
	KindTLSNoKey Kind = "tls.nokey"
)

// Protocol is what comes before the first dot: "http", "memcached",
// "mysql", "file", "tcp", or an API such as "keystone".
func (k Kind) Protocol() string {
	p, _, _ := strings.Cut(string(k), ".")
	return p
}

// Failed reports whether the kind itself says the answer is a failure (a
// token denied or invalid, a connection refused or reset), whatever the
// status.
func (k Kind) Failed() bool {
	switch k {
	case KindTokenDenied, KindTokenInvalid, KindTCPRefused, KindTCPReset:
		return true
	}
	return false
}

// protocol is what an exchange is made of.
type protocol string

const (
	protoHTTP      protocol = "http"
	protoMemcached protocol = "memcached"
	protoMySQL     protocol = "mysql"
	// protoMySQLLogin is a MySQL connection's handshake and login.
	protoMySQLLogin protocol = "mysql.login"
	protoFile       protocol = "file"
	protoTCP        protocol = "tcp"
)
