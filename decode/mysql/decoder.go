// Package mysql decodes the MySQL/MariaDB client/server protocol of one
// TCP connection into events: the server's greeting (event.MySQLHandshake,
// *Handshake), the client's login (event.MySQLLogin, *Login), each command
// (event.MySQLCommand, *Command) and each answer (event.MySQLResult,
// *Result).
//
// It follows the handshake (an SSL request marks the connection encrypted
// and the rest is skipped), text and prepared-statement commands, result
// sets of any size (rows are counted, not kept), payloads split over
// several 16 MiB packets (only a prefix is kept) and the compressed
// protocol. A connection whose start is not in the capture (pooled from
// before) is decoded from its first whole command; after bytes missing
// from the capture the decoder looks for the next command again and emits
// nothing it cannot frame.
//
// Statements are reported as sent, literals included: show them only
// through Redact. Auth responses are never kept.
package mysql

import (
	"errors"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// Keep sizes: how much of a packet the decoder looks at.
const (
	keepReply  = 1024 // first packet of a reply: OK info, ERR message, column count
	keepColumn = 16   // column definitions: only checked for their "def" catalog
	keepRow    = 256  // rows: only counted, but an ERR may come instead
	keepAuth   = 4096 // greeting, login
)

type phase uint8

const (
	phaseGreeting  phase = iota // waiting for the server's greeting
	phaseLogin                  // waiting for the client's login request
	phaseAuth                   // login sent, until the server's OK or ERR
	phaseCommand                // commands and replies
	phaseEncrypted              // TLS: nothing to decode
)

// eofMode says how result sets end: with EOF packets (classic) or, with
// CLIENT_DEPRECATE_EOF, without an EOF after the column definitions and
// with an OK packet at the end.
type eofMode uint8

const (
	eofUnknown eofMode = iota
	eofClassic
	eofDeprecated
)

// pending is a command waiting for its reply.
type pending struct {
	cmd     byte
	name    string
	seq     byte // sequence id of the command's last packet; the reply starts at seq+1
	unknown bool // stands for commands lost in a gap: the server side must resynchronise
	stmt    string
	tables  []string
	useDB   string // the database the connection uses after an OK
	cursor  bool   // COM_STMT_EXECUTE opened a cursor
	// serverOff is how far the server stream was when the command was
	// sent: its answer starts there.
	serverOff int64
}

type stmtInfo struct {
	text   string
	tables []string
}

// half is one direction's state.
type half struct {
	raw    *stream.Reader
	comp   *compSource // once the compressed protocol is on
	lost   bool        // looking for a packet boundary
	anchor int64       // client: where a command may start while lost; -1 for unknown
	buf    []byte
}

// wait blocks until a byte of the next packet is available.
func (h *half) wait() error {
	if h.comp != nil && h.comp.left > 0 {
		return nil
	}
	_, err := h.raw.Peek(1)
	return err
}

// drain skips everything until the direction ends.
func (h *half) drain() {
	for {
		_, _, err := h.raw.Skip(1 << 62)
		if err != nil && !stream.IsGap(err) {
			return
		}
	}
}

// decoder is the stream.Handler of one MySQL connection. Client and
// Server run alternately (never at once) and share its state.
type decoder struct {
	ctx   *stream.Context
	phase phase

	serverCaps   uint64
	clientCaps   uint64
	greetingSeen bool
	loginSeen    bool
	eof          eofMode
	compress     bool // both sides speak the compressed protocol from their next packet

	db      string // database in use: login, COM_INIT_DB, USE
	guessed string // database guessed from table names

	pending []*pending
	stmts   map[uint32]stmtInfo
	stmtIDs []uint32 // in order of preparation, for eviction

	client, server half
}

// New returns the decoder for one MySQL connection. It fits
// stream.Selector.
func New(ctx *stream.Context) stream.Handler {
	d := &decoder{ctx: ctx}
	d.client.anchor = -1
	if ctx.Conn != nil && ctx.Conn.Midstream {
		d.phase = phaseCommand
		d.client.lost, d.server.lost = true, true
		d.client.anchor = 0
	}
	return d
}

// caps returns the capabilities both sides agreed on (or the client's when
// the greeting is missing); ok is false when the login is not in the
// capture.
func (d *decoder) caps() (c uint64, ok bool) {
	if !d.loginSeen {
		return 0, false
	}
	if d.greetingSeen {
		return d.clientCaps & d.serverCaps, true
	}
	return d.clientCaps, true
}

func (d *decoder) has(c uint64) bool {
	caps, ok := d.caps()
	return ok && caps&c != 0
}

// protocol41 reports whether 4.1 packets (SQL state in ERR, status in
// OK/EOF) are in use; assumed when the login is not in the capture.
func (d *decoder) protocol41() bool {
	caps, ok := d.caps()
	return !ok || caps&CapProtocol41 != 0
}

func (d *decoder) source(h *half) source {
	if d.compress {
		if h.comp == nil {
			h.comp = newCompSource(h.raw)
		}
		return h.comp
	}
	return plainSource{h.raw}
}

func (d *decoder) warn(pos event.Position, format string, args ...any) {
	d.ctx.Warn(pos, "mysql: "+format, args...)
}

func (d *decoder) emit(kind event.Kind, fromServer bool, p *packet, data any) {
	d.ctx.Emit(&event.Event{Kind: kind, Start: p.start, End: p.end, FromServer: fromServer, Data: data})
}

// push queues a command for the server side.
func (d *decoder) push(pc *pending) {
	if len(d.pending) >= MaxPending {
		d.pending[0] = nil
		d.pending = d.pending[1:]
	}
	pc.serverOff = d.server.fed()
	d.pending = append(d.pending, pc)
}

// pop removes pc when it is still the oldest pending command.
func (d *decoder) pop(pc *pending) {
	if len(d.pending) > 0 && d.pending[0] == pc {
		d.pending[0] = nil
		d.pending = d.pending[1:]
	}
}

// currentDB is what Command.DB says.
func (d *decoder) currentDB() (string, bool) {
	if d.db != "" {
		return d.db, false
	}
	return d.guessed, d.guessed != ""
}

func (d *decoder) rememberStmt(id uint32, info stmtInfo) {
	if d.stmts == nil {
		d.stmts = make(map[uint32]stmtInfo)
	}
	if _, ok := d.stmts[id]; !ok {
		if len(d.stmtIDs) >= MaxStatements {
			delete(d.stmts, d.stmtIDs[0])
			d.stmtIDs = d.stmtIDs[1:]
		}
		d.stmtIDs = append(d.stmtIDs, id)
	}
	d.stmts[id] = info
}

func (d *decoder) forgetStmt(id uint32) {
	if _, ok := d.stmts[id]; !ok {
		return
	}
	delete(d.stmts, id)
	for i, v := range d.stmtIDs {
		if v == id {
			d.stmtIDs = append(d.stmtIDs[:i], d.stmtIDs[i+1:]...)
			break
		}
	}
}

// Client decodes what the client sends.
func (d *decoder) Client(r *stream.Reader) {
	h := &d.client
	h.raw = r
	for {
		if h.lost && d.phase != phaseEncrypted && !d.resyncClient() {
			return
		}
		if err := h.wait(); err != nil {
			if stream.IsGap(err) {
				d.clientLost(r.Pos(), err.Error(), r.Offset())
				continue
			}
			return
		}
		if d.phase == phaseEncrypted {
			h.drain()
			return
		}
		p, err := readPacket(d.source(h), MaxKeep, &h.buf)
		if err != nil {
			var de *desyncError
			if errors.As(err, &de) {
				anchor := int64(-1)
				if de.gap {
					anchor = r.Offset()
				}
				d.clientLost(r.Pos(), err.Error(), anchor)
				continue
			}
			return
		}
		d.clientPacket(&p)
	}
}

// clientLost puts the client side in search of the next command, to be
// tried first at offset anchor (-1: the next time the server speaks), and
// tells the server side that replies to unknown commands come first.
func (d *decoder) clientLost(pos event.Position, reason string, anchor int64) {
	h := &d.client
	if !h.lost {
		d.warn(pos, "client: %s; looking for the next command", reason)
	}
	h.lost = true
	h.anchor = anchor
	if h.comp != nil {
		h.comp.reset()
	}
	if n := len(d.pending); n == 0 || !d.pending[n-1].unknown {
		d.push(&pending{unknown: true})
	}
}

// Server decodes what the server sends.
func (d *decoder) Server(r *stream.Reader) {
	h := &d.server
	h.raw = r
	for {
		if err := h.wait(); err != nil {
			if stream.IsGap(err) {
				d.serverLost(r.Pos(), err.Error())
				continue
			}
			return
		}
		if d.phase == phaseEncrypted {
			h.drain()
			return
		}
		if h.lost && !d.resyncServer() {
			continue
		}
		var err error
		switch d.phase {
		case phaseGreeting:
			err = d.greeting()
		case phaseLogin:
			err = desync("server data before the login")
		case phaseAuth:
			err = d.authReply()
		default:
			err = d.reply()
		}
		if err != nil {
			if isDesync(err) {
				d.serverLost(r.Pos(), err.Error())
				continue
			}
			return
		}
	}
}

// serverLost puts the server side in search of the reply to the next
// command; the replies to the commands sent so far are given up.
func (d *decoder) serverLost(pos event.Position, reason string) {
	h := &d.server
	if !h.lost {
		d.warn(pos, "server: %s; waiting for the next command", reason)
	}
	h.lost = true
	if h.comp != nil {
		h.comp.reset()
	}
	clear(d.pending)
	d.pending = d.pending[:0]
	if d.phase < phaseCommand {
		d.phase = phaseCommand
	}
}

// unsolicited decodes what the server sends when no command waits for an
// answer: an error with sequence id 0 (e.g. before it closes an idle
// connection), or else something the decoder lost track of.
func (d *decoder) unsolicited() error {
	h := &d.server
	if !d.compress {
		if b, err := h.raw.Peek(5); err == nil && b[3] == 0 && b[4] == 0xff {
			p, err := readPacket(d.source(h), keepReply, &h.buf)
			if err != nil {
				return err
			}
			d.emit(event.MySQLResult, true, &p, parseErr(p.data))
			return nil
		}
	}
	return desync("server data without a command")
}

// reply decodes the server's answer to the oldest pending command.
func (d *decoder) reply() error {
	if len(d.pending) == 0 {
		return d.unsolicited()
	}
	pc := d.pending[0]
	if pc.unknown {
		// The answer to commands lost in a gap (the client side warned):
		// look for the answer to the next known command.
		d.pop(pc)
		d.server.lost = true
		if d.server.comp != nil {
			d.server.comp.reset()
		}
		return nil
	}
	err := d.readReply(pc)
	d.pop(pc)
	return err
}
