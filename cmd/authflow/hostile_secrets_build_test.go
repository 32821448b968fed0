package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

// craftedSecrets are the secrets the crafted secrets capture reveals; no
// output may show any of them (--memcache-secret is passed as
// craftedMemcacheSecret).
var craftedSecrets = []string{
	"CRAFT_PASS_1", "URL_PASS_2", "QUERY_PASS_3", "APP_SECRET_4", "SQL_PASS_5", "SQL_PASS_6", "SQL_PASS_7",
	craftedMemcacheSecret, "HASH_SECRET_9", "BASIC_PASS_10",
}

const craftedMemcacheSecret = "MC_SECRET_8"

// craftedToken is a Fernet-shaped token (183 characters, as keystone's).
var craftedToken = "gAAAAAB" + strings.Repeat("Zm9vYmFyYmF6cXV4", 11)[:176]

// craftedUUIDToken is a UUID-hex token.
const craftedUUIDToken = "5f4dcc3b5aa765d61d8327deb882cf99"

// craftedJWS is a JWS token (keystone's JWS provider).
const craftedJWS = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"

// buildSecrets writes a capture in which every kind of secret authflow
// must keep out of its outputs reaches the wire: passwords in token
// requests, URL userinfo, credential query parameters, an application
// credential secret, Basic auth, SQL credential literals (IDENTIFIED
// BY, PASSWORD(), a password column, a literal read differently under
// NO_BACKSLASH_ESCAPES) and MariaDB's syntax error quoting one, and
// whole tokens in error messages, request targets, a memcached key and
// the bytes after a request.
func buildSecrets(t testing.TB) []byte {
	f := newCapFile()
	ks := func(port int) *conn {
		c := newConn(f, "198.18.0.100:"+itoa(port), keystone)
		c.handshake()
		return c
	}
	json := func(c *conn, status, body string, hdr ...string) {
		c.sendString(true, "HTTP/1.1 "+status+"\r\nContent-Type: application/json\r\n"+strings.Join(hdr, "")+"Content-Length: "+itoa(len(body))+"\r\n\r\n"+body)
	}
	post := func(c *conn, target, body string, hdr ...string) {
		c.sendString(false, "POST "+target+" HTTP/1.1\r\nHost: 198.18.0.11:5000\r\nContent-Type: application/json\r\n"+strings.Join(hdr, "")+"Content-Length: "+itoa(len(body))+"\r\n\r\n"+body)
	}
	get := func(c *conn, target string, hdr ...string) {
		c.sendString(false, "GET "+target+" HTTP/1.1\r\nHost: 198.18.0.11:5000\r\n"+strings.Join(hdr, "")+"\r\n")
	}
	issued := `{"token": {"methods": ["password"], "user": {"name": "admin", "domain": {"name": "Default"}}, "expires_at": "2026-11-22T13:00:00.000000Z"}}`

	c := ks(50001)
	post(c, "/v3/auth/tokens", `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "CRAFT_PASS_1"}}}}}`)
	json(c, "201 Created", issued, "X-Subject-Token: "+craftedToken+"\r\n")
	get(c, "http://admin:URL_PASS_2@198.18.0.11:5000/v3/auth/tokens", "X-Auth-Token: "+craftedToken+"\r\n", "X-Subject-Token: "+craftedToken+"\r\n")
	json(c, "404 Not Found", `{"error": {"code": 404, "title": "Not Found", "message": "Could not find token: `+craftedToken+`"}}`)
	get(c, "/v3/auth/tokens", "X-Auth-Token: "+craftedToken+"\r\n", "X-Subject-Token: "+craftedJWS+"\r\n")
	json(c, "404 Not Found", `{"error": {"code": 404, "title": "Not Found", "message": "Could not find token: `+craftedJWS+`"}}`)
	get(c, "/v2.0/tokens/"+craftedUUIDToken, "X-Auth-Token: "+craftedToken+"\r\n")
	json(c, "404 Not Found", `{"error": {"code": 404, "message": "Could not find token: `+craftedUUIDToken+`"}}`)
	post(c, "/v3/auth/tokens", `{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c", "secret": "APP_SECRET_4"}}}}`)
	json(c, "401 Unauthorized", `{"error": {"code": 401, "message": "The request you have made requires authentication."}}`)
	c.close()

	g := newConn(f, "198.18.0.100:50002", "198.18.0.11:9292")
	g.handshake()
	g.sendString(false, "GET /v2/images?password=QUERY_PASS_3&name="+craftedMemcacheSecret+"&os_token="+craftedUUIDToken+" HTTP/1.1\r\nHost: 198.18.0.11:9292\r\nX-Auth-Token: "+craftedToken+"\r\nAuthorization: Basic YWRtaW46QkFTSUNfUEFTU18xMA==\r\n\r\n") // admin:BASIC_PASS_10
	g.sendString(true, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"images\": []}")
	// A body longer than its Content-Length: the rest is "not an HTTP
	// request", and the warning quotes its start — a token.
	g.sendString(false, "POST /v2/images HTTP/1.1\r\nHost: 198.18.0.11:9292\r\nX-Auth-Token: "+craftedToken+"\r\nContent-Length: 2\r\n\r\n{}"+craftedToken+"\r\n\r\n")
	g.sendString(true, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	g.close()

	m := newConn(f, "198.18.0.11:41010", "198.18.0.11:11211")
	m.handshake()
	m.sendString(false, "get "+craftedToken+"\r\n")
	m.sendString(true, "END\r\n")
	m.sendString(false, "get tokens/"+craftedUUIDToken+"\r\n")
	m.sendString(true, "END\r\n")
	m.close()

	real := readCapture(t, "token-issue", "lo.pcap.gz")
	segs := payloads(real, 3306, 0, 14) // greeting, login, the first queries
	d := newConn(f, "198.18.0.11:34190", "198.18.0.11:3306")
	d.handshake()
	d.replay(segs)
	query := func(q string) { d.send(false, mysqlPacket(0, append([]byte{3}, q...))) }
	ok := func() { d.send(true, mysqlPacket(1, []byte{0, 0, 0, 2, 0, 0, 0})) }
	mysqlErr := func(code uint16, msg string) {
		p := []byte{0xff, byte(code), byte(code >> 8), '#'}
		p = append(p, "42000"...)
		d.send(true, mysqlPacket(1, append(p, msg...)))
	}
	query("CREATE USER 'glance'@'%' IDENTIFIED BY 'SQL_PASS_5'")
	ok()
	query("SET PASSWORD FOR 'glance'@'%' = PASSWORD(('SQL_PASS_6')")
	mysqlErr(1064, "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '('SQL_PASS_6')' at line 1")
	query(`UPDATE user SET x = 'a\', password = 'SQL_PASS_7' WHERE id = 1`)
	ok()
	query("UPDATE password SET password_hash = 'HASH_SECRET_9' WHERE local_user_id = 3")
	mysqlErr(1062, "Duplicate entry 'HASH_SECRET_9' for key 'password_hash'")
	d.close()
	return f.pcap()
}

// mysqlPacket frames a MySQL packet payload with sequence number seq.
func mysqlPacket(seq byte, payload []byte) []byte {
	h := make([]byte, 4)
	binary.LittleEndian.PutUint32(h, uint32(len(payload)))
	h[3] = seq
	return append(h, payload...)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
