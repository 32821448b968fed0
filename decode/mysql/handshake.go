package mysql

import (
	"strconv"
	"strings"

	"github.com/authflow/authflow/decode/event"
)

// Bounds on the connection attributes kept from a login.
const (
	maxAttrs     = 64
	maxAttrKey   = 256
	maxAttrValue = 1024
)

// greeting decodes the server's first packet.
func (d *decoder) greeting() error {
	h := &d.server
	p, err := readPacket(d.source(h), keepAuth, &h.buf)
	if err != nil {
		return err
	}
	if p.seq != 0 || len(p.data) == 0 {
		return desync("the server's first packet is not a greeting")
	}
	switch p.data[0] {
	case 0xff:
		// Refused before the handshake (too many connections, host
		// blocked).
		res := parseErr(p.data)
		res.Command = "connect"
		d.emit(event.MySQLResult, true, &p, res)
		d.phase = phaseCommand
		return nil
	case 10:
	default:
		return desync("greeting of protocol version %d", p.data[0])
	}
	c := cursor{b: p.data[1:]}
	hs := &Handshake{Protocol: 10}
	version, _ := c.nul()
	hs.ServerVersion, _ = text(version, 256)
	hs.ConnectionID = c.u32()
	c.take(8) // auth data, part 1
	c.u8()    // filler
	caps := uint64(c.u16())
	if c.left() > 0 {
		hs.Charset = c.u8()
		hs.Status = c.u16()
		caps |= uint64(c.u16()) << 16
		authLen := int(c.u8())
		reserved := c.take(10)
		if caps&CapLongPassword == 0 && len(reserved) == 10 {
			// MariaDB: extended capabilities in the last 4 reserved bytes.
			ext := uint64(reserved[6]) | uint64(reserved[7])<<8 | uint64(reserved[8])<<16 | uint64(reserved[9])<<24
			caps |= ext << 32
		}
		if caps&CapSecureConnection != 0 {
			c.take(uint64(max(13, authLen-8))) // auth data, part 2
		}
		if caps&CapPluginAuth != 0 {
			plugin, _ := c.nul()
			hs.AuthPlugin, _ = text(plugin, 64)
		}
	}
	if c.bad && hs.ConnectionID == 0 {
		return desync("greeting too short")
	}
	hs.Capabilities = caps
	hs.MariaDB = strings.Contains(hs.ServerVersion, "MariaDB") || caps>>32 != 0
	d.serverCaps = caps
	d.greetingSeen = true
	d.phase = phaseLogin
	d.emit(event.MySQLHandshake, true, &p, hs)
	return nil
}

// login decodes the client's login request (or SSL request).
func (d *decoder) login(p *packet) {
	c := cursor{b: p.data}
	lg := &Login{}
	var caps uint64
	if len(p.data) >= 2 && p.data[1]&byte(CapProtocol41>>8) == 0 {
		// HandshakeResponse320.
		caps = uint64(c.u16())
		c.take(3) // max packet size
		user, _ := c.nul()
		lg.User, _ = text(user, 256)
		auth, _ := c.nul()
		lg.AuthLength = len(auth)
		if caps&CapConnectWithDB != 0 {
			db, _ := c.nul()
			lg.Database, _ = text(db, 256)
		}
	} else {
		caps = uint64(c.u32())
		c.u32() // max packet size
		lg.Charset = c.u8()
		filler := c.take(23)
		if p.length == 32 && caps&CapSSL != 0 {
			lg.SSL = true
		} else {
			if caps&CapLongPassword == 0 && len(filler) == 23 {
				ext := uint64(filler[19]) | uint64(filler[20])<<8 | uint64(filler[21])<<16 | uint64(filler[22])<<24
				caps |= ext << 32
			}
			user, _ := c.nul()
			lg.User, _ = text(user, 256)
			switch {
			case caps&CapPluginAuthLenenc != 0:
				lg.AuthLength = len(c.lenencBytes())
			case caps&CapSecureConnection != 0:
				lg.AuthLength = len(c.take(uint64(c.u8())))
			default:
				auth, _ := c.nul()
				lg.AuthLength = len(auth)
			}
			if caps&CapConnectWithDB != 0 {
				db, _ := c.nul()
				lg.Database, _ = text(db, 256)
			}
			if caps&CapPluginAuth != 0 {
				plugin, _ := c.nul()
				lg.AuthPlugin, _ = text(plugin, 64)
			}
			if caps&CapConnectAttrs != 0 && !c.bad {
				lg.ClientAttrs = parseAttrs(&c, d, p)
				if pid, err := strconv.Atoi(lg.ClientAttrs["_pid"]); err == nil && pid > 0 {
					lg.PID = pid
				}
			}
		}
	}
	if c.bad {
		d.warn(p.start, "login request: a field runs past the end of the %d-byte packet", p.length)
	}
	lg.Capabilities = caps
	d.clientCaps = caps
	d.loginSeen = true
	if lg.SSL {
		d.phase = phaseEncrypted
		d.emit(event.MySQLLogin, false, p, lg)
		return
	}
	negotiated, _ := d.caps()
	lg.Compress = negotiated&CapCompress != 0
	if negotiated&CapDeprecateEOF != 0 {
		d.eof = eofDeprecated
	} else {
		d.eof = eofClassic
	}
	d.db = lg.Database
	d.phase = phaseAuth
	d.emit(event.MySQLLogin, false, p, lg)
}

// parseAttrs reads the connection attributes: a length, then pairs of
// length-encoded strings.
func parseAttrs(c *cursor, d *decoder, p *packet) map[string]string {
	total, _ := c.lenenc()
	if c.bad {
		return nil
	}
	if total > uint64(c.left()) {
		d.warn(p.start, "login request: connection attributes claim %d bytes, %d are left", total, c.left())
	}
	b := c.take(min(total, uint64(c.left())))
	ac := cursor{b: b}
	attrs := make(map[string]string)
	for ac.left() > 0 && len(attrs) < maxAttrs {
		k := ac.lenencBytes()
		v := ac.lenencBytes()
		if ac.bad {
			d.warn(p.start, "login request: a connection attribute runs past the attributes' end")
			break
		}
		key, _ := text(k, maxAttrKey)
		attrs[key], _ = text(v, maxAttrValue)
	}
	if len(attrs) == 0 {
		return nil
	}
	return attrs
}

// authReply decodes the server's packets after the login: an auth switch
// or more auth data, until OK or ERR.
func (d *decoder) authReply() error {
	h := &d.server
	p, err := readPacket(d.source(h), keepAuth, &h.buf)
	if err != nil {
		return err
	}
	if len(p.data) == 0 {
		return desync("empty packet after the login")
	}
	switch p.data[0] {
	case 0x00:
		res, ok := parseOK(p.data, d.protocol41(), d.has(CapSessionTrack))
		if !ok {
			return desync("bad OK packet after the login")
		}
		res.Command = "login"
		d.emit(event.MySQLResult, true, &p, res)
		d.phase = phaseCommand
		negotiated, _ := d.caps()
		switch {
		case negotiated&CapCompress != 0:
			d.compress = true
		case negotiated&CapZstdCompression != 0:
			d.warn(p.start, "zstd-compressed protocol is not supported; the rest of the connection is skipped")
			d.phase = phaseEncrypted
		}
	case 0xff:
		res := parseErr(p.data)
		res.Command = "login"
		d.emit(event.MySQLResult, true, &p, res)
		d.phase = phaseCommand
	case 0xfe, 0x01:
		// Auth switch request, more auth data: the client answers.
	default:
		return desync("unexpected packet 0x%02x after the login", p.data[0])
	}
	return nil
}
