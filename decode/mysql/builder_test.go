package mysql

import (
	"bytes"
	"compress/zlib"
	"net/netip"
	"time"

	"github.com/authflow/authflow/decode/event"
)

// Builders of synthetic MySQL bytes, for what the lab captures do not
// show.

// pkt frames a payload as one packet (it must be shorter than 16 MiB).
func pkt(seq byte, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	n := len(body)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, body...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }

func u32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func lenenc(v uint64) []byte {
	switch {
	case v < 251:
		return []byte{byte(v)}
	case v < 1<<16:
		return []byte{0xfc, byte(v), byte(v >> 8)}
	case v < 1<<24:
		return []byte{0xfd, byte(v), byte(v >> 8), byte(v >> 16)}
	}
	b := []byte{0xfe}
	for i := 0; i < 8; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func lstr(s string) []byte { return append(lenenc(uint64(len(s))), s...) }

func nul(s string) []byte { return append([]byte(s), 0) }

func query(sql string) []byte { return pkt(0, []byte{comQuery}, []byte(sql)) }

func okPayload(affected, insertID uint64, status, warnings uint16) []byte {
	return cat([]byte{0x00}, lenenc(affected), lenenc(insertID), u16(status), u16(warnings))
}

func errPayload(code uint16, state, msg string) []byte {
	return cat([]byte{0xff}, u16(code), []byte("#"+state), []byte(msg))
}

func eofPayload(warnings, status uint16) []byte {
	return cat([]byte{0xfe}, u16(warnings), u16(status))
}

// columnDef is a 4.1 column definition.
func columnDef(table, name string) []byte {
	return cat(lstr("def"), lstr("db"), lstr(table), lstr(table), lstr(name), lstr(name),
		[]byte{0x0c}, u16(33), u32(255), []byte{0xfd}, u16(0), []byte{0}, u16(0))
}

func textRow(values ...string) []byte {
	var b []byte
	for _, v := range values {
		b = append(b, lstr(v)...)
	}
	return b
}

// resultSet builds a text result set answering a command with sequence 0:
// column count, definitions, EOF (unless deprecateEOF), rows, end.
func resultSet(cols, rows int, deprecateEOF bool, status uint16) []byte {
	seq := byte(1)
	next := func() byte { s := seq; seq++; return s }
	out := pkt(next(), lenenc(uint64(cols)))
	for i := 0; i < cols; i++ {
		out = append(out, pkt(next(), columnDef("t", "c"))...)
	}
	if !deprecateEOF {
		out = append(out, pkt(next(), eofPayload(0, status))...)
	}
	for i := 0; i < rows; i++ {
		vals := make([]string, cols)
		for j := range vals {
			vals[j] = "v"
		}
		out = append(out, pkt(next(), textRow(vals...))...)
	}
	if deprecateEOF {
		out = append(out, pkt(next(), append([]byte{0xfe}, okPayload(0, 0, status, 0)[1:]...))...)
	} else {
		out = append(out, pkt(next(), eofPayload(0, status))...)
	}
	return out
}

const (
	mariaServerCaps = CapFoundRows | CapLongFlag | CapConnectWithDB | CapNoSchema | CapCompress | CapODBC |
		CapLocalFiles | CapIgnoreSpace | CapProtocol41 | CapInteractive | CapIgnoreSigpipe | CapTransactions |
		CapSecureConnection | CapMultiStatements | CapMultiResults | CapPSMultiResults | CapPluginAuth |
		CapConnectAttrs | CapPluginAuthLenenc | CapExpiredPasswords | CapSessionTrack | CapDeprecateEOF
	pymysqlCaps = CapLongPassword | CapFoundRows | CapLongFlag | CapConnectWithDB | CapProtocol41 |
		CapTransactions | CapSecureConnection | CapMultiResults | CapPluginAuth | CapConnectAttrs | CapPluginAuthLenenc
)

// greeting is a MariaDB 10.11 server greeting offering caps.
func greeting(caps uint64) []byte {
	return pkt(0, []byte{10}, nul("5.5.5-10.11.19-MariaDB-0+deb12u1"), u32(38),
		[]byte("abcdefgh"), []byte{0}, u16(uint16(caps)), []byte{45}, u16(2), u16(uint16(caps>>16)),
		[]byte{21}, make([]byte, 6), u32(uint32(caps>>32)), []byte("ijklmnopqrst\x00"), nul("mysql_native_password"))
}

// loginPacket is a HandshakeResponse41 with an auth response.
func loginPacket(caps uint64, user, db string, auth []byte, attrs ...string) []byte {
	body := cat(u32(uint32(caps)), u32(1<<24), []byte{33}, make([]byte, 23), nul(user))
	switch {
	case caps&CapPluginAuthLenenc != 0:
		body = cat(body, lenenc(uint64(len(auth))), auth)
	default:
		body = cat(body, []byte{byte(len(auth))}, auth)
	}
	if caps&CapConnectWithDB != 0 {
		body = cat(body, nul(db))
	}
	if caps&CapPluginAuth != 0 {
		body = cat(body, nul("mysql_native_password"))
	}
	if caps&CapConnectAttrs != 0 {
		var kv []byte
		for i := 0; i+1 < len(attrs); i += 2 {
			kv = cat(kv, lstr(attrs[i]), lstr(attrs[i+1]))
		}
		body = cat(body, lenenc(uint64(len(kv))), kv)
	}
	return pkt(1, body)
}

// frame wraps MySQL packets in one compressed-protocol frame, zlib
// compressed or stored.
func frame(seq byte, data []byte, compress bool) []byte {
	if !compress {
		n := len(data)
		return cat([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq, 0, 0, 0}, data)
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	n, u := z.Len(), len(data)
	return cat([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq, byte(u), byte(u >> 8), byte(u >> 16)}, z.Bytes())
}

// convBuilder builds a conversation segment by segment.
type convBuilder struct {
	conv  conversation
	frame int
}

func newConv(midstream bool) *convBuilder {
	return &convBuilder{conv: conversation{conn: event.Conn{
		ID:        7,
		Client:    netip.MustParseAddrPort("127.0.0.1:41960"),
		Server:    netip.MustParseAddrPort("127.0.0.1:3306"),
		Midstream: midstream,
	}}}
}

func (b *convBuilder) add(fromServer bool, gap int, data ...[]byte) *convBuilder {
	b.frame++
	b.conv.segments = append(b.conv.segments, segment{
		fromServer: fromServer,
		gap:        gap,
		data:       cat(data...),
		pos: event.Position{
			Time:  time.Unix(1795349774, 0).Add(time.Duration(b.frame) * time.Millisecond),
			Frame: event.FrameRef{Number: b.frame},
		},
	})
	return b
}

func (b *convBuilder) client(data ...[]byte) *convBuilder { return b.add(false, 0, data...) }

func (b *convBuilder) server(data ...[]byte) *convBuilder { return b.add(true, 0, data...) }

// handshake adds a greeting, a PyMySQL-like login and the server's OK.
func (b *convBuilder) handshake(serverCaps, clientCaps uint64) *convBuilder {
	return b.server(greeting(serverCaps)).
		client(loginPacket(clientCaps, "keystone", "keystone", []byte("0123456789abcdefghij"), "_pid", "28685", "_client_name", "pymysql")).
		server(pkt(2, okPayload(0, 0, 2, 0)))
}
