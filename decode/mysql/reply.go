package mysql

import (
	"time"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// replyReader reads the packets of one reply from the server, checking
// that their sequence ids follow on.
type replyReader struct {
	d    *decoder
	src  source
	next int // expected sequence id; -1 for any
}

func (rr *replyReader) read(keep int) (packet, error) {
	p, err := readPacket(rr.src, keep, &rr.d.server.buf)
	if err != nil {
		return p, err
	}
	// The compressed protocol's inner sequence ids are not checked: not
	// every implementation keeps them in step.
	if rr.next >= 0 && !rr.d.compress && int(p.seq) != rr.next {
		return p, desync("packet sequence id %d where %d was expected", p.seq, rr.next)
	}
	rr.next = int(p.lastSeq+1) & 0xff
	if len(p.data) == 0 {
		if p.length == 0 {
			return p, desync("empty packet from the server")
		}
		return p, desync("%d bytes missing from the capture at the start of a packet", p.lost)
	}
	return p, nil
}

// returnsResultSet reports whether a command may be answered by a result
// set.
func returnsResultSet(cmd byte) bool {
	switch cmd {
	case comQuery, comStmtExecute, comStmtBulkExecute, comProcessInfo:
		return true
	}
	return false
}

// isEOF reports whether a packet is a classic EOF packet (not the OK
// packet with an 0xfe header that ends a result set with
// CLIENT_DEPRECATE_EOF: that is at least 7 bytes).
func isEOF(p *packet) bool { return p.data[0] == 0xfe && p.length == 5 }

// isColumnDef reports whether a packet starts like a 4.1 column
// definition: catalog "def".
func isColumnDef(p *packet) bool {
	return len(p.data) >= 4 && p.data[0] == 3 && p.data[1] == 'd' && p.data[2] == 'e' && p.data[3] == 'f'
}

// readReply decodes the server's answer to pc: one Result, or one per
// result set when more results follow.
func (d *decoder) readReply(pc *pending) error {
	rr := replyReader{d: d, src: d.source(&d.server), next: int(pc.seq+1) & 0xff}
	for {
		p, err := rr.read(keepReply)
		if err != nil {
			return err
		}
		start, end := p.start, p.end
		maybeEOF := false
		res := &Result{Command: pc.name}
		first := p.data[0]
		switch {
		case first == 0xff:
			if len(p.data) >= 3 && p.data[1] == 0xff && p.data[2] == 0xff {
				continue // MariaDB progress report
			}
			e := parseErr(p.data)
			e.Command = pc.name
			res = e
		case pc.cmd == comStmtPrepare && first == 0x00:
			end, maybeEOF, err = d.prepareOK(&rr, &p, pc, res)
		case pc.cmd == comStmtFetch:
			res.Kind = KindResultSet
			end, err = d.rows(&rr, p, res, end)
		case pc.cmd == comFieldList:
			res.Kind = KindResultSet
			for !isEOF(&p) {
				if !isColumnDef(&p) {
					return desync("column definition expected in the answer to COM_FIELD_LIST")
				}
				res.Columns++
				if p, err = rr.read(keepColumn); err != nil {
					return err
				}
			}
			res.Warnings, res.Status = parseEOF(p.data)
			end = p.end
		case first == 0x00:
			ok, good := parseOK(p.data, d.protocol41(), d.has(CapSessionTrack))
			if !good {
				return desync("bad OK packet in the answer to %s", pc.name)
			}
			ok.Command = pc.name
			res = ok
		case first == 0xfe && p.length < 9 && pc.cmd != comChangeUser:
			res.Kind = KindEOF
			res.Warnings, res.Status = parseEOF(p.data)
		case first == 0xfb && pc.cmd == comQuery:
			// LOAD DATA LOCAL: the client sends the file (packets with
			// sequence ids we do not follow), then the server answers.
			res.Kind = KindInfile
			d.emit(event.MySQLResult, true, &p, res)
			rr.next = -1
			continue
		case (first == 0xfe || first == 0x01) && pc.cmd == comChangeUser:
			rr.next = -1 // auth switch, more auth data: the client answers
			continue
		case pc.cmd == comStatistics:
			res.Kind = KindOK
			res.Info, _ = text(p.data, 256)
		case returnsResultSet(pc.cmd):
			end, err = d.resultSet(&rr, p, pc, res)
		default:
			return desync("unexpected packet 0x%02x in the answer to %s", first, pc.name)
		}
		if err != nil {
			return err
		}
		if res.Kind == KindOK {
			switch {
			case pc.cmd == comChangeUser:
				d.db, d.guessed = pc.useDB, ""
			case pc.useDB != "":
				d.db = pc.useDB
			}
		}
		d.ctx.Emit(&event.Event{Kind: event.MySQLResult, Start: start, End: end, FromServer: true, Data: res})
		if maybeEOF {
			return d.settleEOF(&rr)
		}
		if res.Kind == KindError || res.Status&StatusMoreResultsExist == 0 {
			return nil
		}
	}
}

// resultSet reads a result set from its column count packet p to its
// end.
func (d *decoder) resultSet(rr *replyReader, p packet, pc *pending, res *Result) (time.Time, error) {
	c := cursor{b: p.data}
	n, null := c.lenenc()
	if c.bad || null || n == 0 {
		return p.end, desync("unexpected packet 0x%02x in the answer to %s", p.data[0], pc.name)
	}
	if n > MaxColumns {
		return p.end, desync("result set claims %d columns (at most %d)", n, MaxColumns)
	}
	metadata := true
	switch c.left() {
	case 0:
	case 1:
		// metadata_follows (CLIENT_OPTIONAL_RESULTSET_METADATA, MariaDB's
		// metadata cache).
		metadata = c.u8() != 0
	default:
		return p.end, desync("bad column count packet in the answer to %s", pc.name)
	}
	res.Kind = KindResultSet
	res.Columns = int(n)
	end := p.end
	if metadata {
		for range n {
			q, err := rr.read(keepColumn)
			if err != nil {
				return end, err
			}
			if d.protocol41() && !isColumnDef(&q) {
				return end, desync("column definition expected in the answer to %s", pc.name)
			}
			end = q.end
		}
	}
	q, err := rr.read(keepRow)
	if err != nil {
		return end, err
	}
	if isEOF(&q) {
		if d.eof == eofUnknown {
			d.eof = eofClassic
		}
		res.Warnings, res.Status = parseEOF(q.data)
		end = q.end
		if pc.cursor && res.Status&StatusCursorExists != 0 {
			return end, nil // the rows come with COM_STMT_FETCH
		}
		if q, err = rr.read(keepRow); err != nil {
			return end, err
		}
	} else {
		switch d.eof {
		case eofClassic:
			return end, desync("EOF expected after the column definitions in the answer to %s", pc.name)
		case eofUnknown:
			d.eof = eofDeprecated
		}
	}
	return d.rows(rr, q, res, end)
}

// rows counts rows, from q, until the result set's end.
func (d *decoder) rows(rr *replyReader, q packet, res *Result, end time.Time) (time.Time, error) {
	for {
		switch first := q.data[0]; {
		case first == 0xff:
			e := parseErr(q.data)
			res.Kind, res.ErrorCode, res.SQLState, res.ErrorMessage = KindError, e.ErrorCode, e.SQLState, e.ErrorMessage
			return q.end, nil
		case first == 0xfe && (q.length < 9 || d.eof == eofDeprecated && q.length < maxFragment):
			if q.length >= 7 {
				ok, good := parseOK(q.data, d.protocol41(), d.has(CapSessionTrack))
				if !good {
					return end, desync("bad end of a result set")
				}
				res.Warnings, res.Status, res.Info = ok.Warnings, ok.Status, ok.Info
			} else {
				res.Warnings, res.Status = parseEOF(q.data)
			}
			return q.end, nil
		}
		res.Rows++
		end = q.end
		var err error
		if q, err = rr.read(keepRow); err != nil {
			return end, err
		}
	}
}

// prepareOK reads COM_STMT_PREPARE's answer: the statement id and counts,
// then the parameter and column definitions. maybeEOF says that an EOF
// may follow the last definitions: the login is not in the capture, and
// nothing told yet whether CLIENT_DEPRECATE_EOF is on.
func (d *decoder) prepareOK(rr *replyReader, p *packet, pc *pending, res *Result) (end time.Time, maybeEOF bool, err error) {
	c := cursor{b: p.data[1:]}
	res.Kind = KindPrepareOK
	res.StatementID = c.u32()
	res.Columns = int(c.u16())
	res.Params = int(c.u16())
	if c.left() >= 3 {
		c.u8()
		res.Warnings = c.u16()
	}
	end = p.end
	if c.bad {
		return end, false, desync("bad answer to COM_STMT_PREPARE")
	}
	if res.Columns > MaxColumns {
		return end, false, desync("prepared statement claims %d columns (at most %d)", res.Columns, MaxColumns)
	}
	d.rememberStmt(res.StatementID, stmtInfo{text: pc.stmt, tables: pc.tables})
	sections := make([]int, 0, 2)
	for _, n := range []int{res.Params, res.Columns} {
		if n > 0 {
			sections = append(sections, n)
		}
	}
	read := 0 // definitions of the current section already read
	for i, n := range sections {
		for ; read < n; read++ {
			q, err := rr.read(keepColumn)
			if err != nil {
				return end, false, err
			}
			if d.protocol41() && !isColumnDef(&q) {
				return end, false, desync("definition expected in the answer to COM_STMT_PREPARE")
			}
			end = q.end
		}
		read = 0
		switch {
		case d.eof == eofDeprecated:
		case d.eof == eofUnknown && i == len(sections)-1:
			return end, true, nil
		default:
			q, err := rr.read(keepColumn)
			if err != nil {
				return end, false, err
			}
			end = q.end
			switch {
			case isEOF(&q):
				d.eof = eofClassic
			case d.eof == eofUnknown && isColumnDef(&q):
				// No EOF: the first column definition.
				d.eof = eofDeprecated
				read = 1
			default:
				return end, false, desync("EOF expected after the definitions in the answer to COM_STMT_PREPARE")
			}
		}
	}
	return end, false, nil
}

// settleEOF finds out whether an EOF packet follows a prepared
// statement's last definitions (see prepareOK), and consumes it. It looks
// at the next 9 bytes without consuming them: an EOF continuing the
// answer's sequence ids, or the start of the next answer (which is at
// least 9 bytes long and starts again at sequence id 1).
func (d *decoder) settleEOF(rr *replyReader) error {
	h := &d.server
	if d.compress {
		// The server writes an answer in one frame: an EOF would be in it.
		if h.comp == nil || h.comp.left == 0 {
			d.eof = eofDeprecated
			return nil
		}
		q, err := rr.read(keepColumn)
		if err != nil {
			return err
		}
		if !isEOF(&q) {
			return desync("EOF expected after the definitions in the answer to COM_STMT_PREPARE")
		}
		d.eof = eofClassic
		return nil
	}
	b, err := h.raw.Peek(9)
	if err != nil {
		if stream.IsGap(err) {
			return gapDesync("%v", err)
		}
		return err
	}
	if b[0] == 5 && b[1] == 0 && b[2] == 0 && int(b[3]) == rr.next && b[4] == 0xfe {
		h.raw.Discard(9)
		d.eof = eofClassic
	} else {
		d.eof = eofDeprecated
	}
	return nil
}

// parseOK decodes an OK packet (header 0x00, or 0xfe at the end of a
// result set).
func parseOK(data []byte, p41, sessionTrack bool) (*Result, bool) {
	c := cursor{b: data[1:]}
	res := &Result{Kind: KindOK}
	res.AffectedRows, _ = c.lenenc()
	res.LastInsertID, _ = c.lenenc()
	if p41 {
		res.Status = c.u16()
		res.Warnings = c.u16()
	}
	if c.bad {
		return nil, false
	}
	if c.left() > 0 {
		var info []byte
		if sessionTrack {
			info = c.lenencBytes()
		} else {
			info = c.b
		}
		res.Info, _ = text(info, 256)
	}
	return res, true
}

// parseErr decodes an ERR packet.
func parseErr(data []byte) *Result {
	c := cursor{b: data[1:]}
	res := &Result{Kind: KindError}
	res.ErrorCode = c.u16()
	if c.left() >= 6 && c.b[0] == '#' {
		c.u8()
		res.SQLState, _ = text(c.take(5), 5)
	}
	res.ErrorMessage, _ = text(c.b, 512)
	return res
}

// parseEOF decodes an EOF packet's warning count and status flags.
func parseEOF(data []byte) (warnings, status uint16) {
	c := cursor{b: data[1:]}
	warnings = c.u16()
	status = c.u16()
	return warnings, status
}
