package mysql

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/decode/event"
)

// clientPacket handles one packet from the client.
func (d *decoder) clientPacket(p *packet) {
	switch d.phase {
	case phaseGreeting, phaseLogin:
		if p.seq == 1 {
			d.login(p)
			return
		}
		d.phase = phaseCommand
	case phaseAuth:
		if p.seq != 0 {
			return // auth switch response, more auth data
		}
		d.phase = phaseCommand
	}
	if p.seq != 0 {
		// LOAD DATA LOCAL file contents, COM_CHANGE_USER auth data.
		return
	}
	d.command(p)
}

// noReply are the commands the server does not answer.
func noReply(cmd byte) bool {
	return cmd == comQuit || cmd == comStmtClose || cmd == comStmtSendLongData
}

// command decodes a command packet and queues it for its reply.
func (d *decoder) command(p *packet) {
	if len(p.data) == 0 {
		d.clientLost(p.start, "empty command packet", -1)
		return
	}
	cmd := p.data[0]
	name, ok := commandNames[cmd]
	if !ok || cmd == comSleep || cmd == comConnect || cmd == comTime || cmd == comDelayedInsert || cmd == comConnectOut {
		d.clientLost(p.start, fmt.Sprintf("unknown command 0x%02x", cmd), -1)
		return
	}
	c := &Command{Command: name, Length: int(p.length)}
	pc := &pending{cmd: cmd, name: name, seq: p.lastSeq}
	arg := p.data[1:]
	whole := p.complete()
	switch cmd {
	case comQuery:
		if d.has(CapQueryAttributes) {
			var ok bool
			if arg, ok = skipQueryAttrs(arg); !ok {
				c.Truncated = true
				break
			}
		}
		d.statement(c, arg, whole)
		pc.useDB = useStatement(c.Statement)
	case comStmtPrepare:
		d.statement(c, arg, whole)
		pc.stmt, pc.tables = c.Statement, c.Tables
	case comStmtExecute, comStmtClose, comStmtReset, comStmtFetch, comStmtSendLongData, comStmtBulkExecute:
		ac := cursor{b: arg}
		c.StatementID = ac.u32()
		if info, ok := d.stmts[c.StatementID]; ok {
			c.Statement, c.Tables = info.text, info.tables
		}
		switch cmd {
		case comStmtExecute:
			pc.cursor = ac.u8()&0x07 != 0 // CURSOR_TYPE_*
		case comStmtClose:
			d.forgetStmt(c.StatementID)
		}
	case comInitDB, comCreateDB, comDropDB:
		c.Database, _ = text(arg, 256)
		if cmd == comInitDB {
			pc.useDB = c.Database
		}
	case comChangeUser:
		ac := cursor{b: arg}
		user, _ := ac.nul()
		c.User, _ = text(user, 256)
		if d.protocol41() {
			ac.take(uint64(ac.u8())) // auth response
		} else {
			ac.nul()
		}
		db, _ := ac.nul()
		c.Database, _ = text(db, 256)
		pc.useDB = c.Database
	case comFieldList:
		ac := cursor{b: arg}
		table, _ := ac.nul()
		if t, _ := text(table, 256); t != "" {
			c.Tables = []string{t}
		}
	}
	d.noteTables(c.Tables)
	c.DB, c.DBGuessed = d.currentDB()
	d.emit(event.MySQLCommand, false, p, c)
	if !noReply(cmd) {
		d.push(pc)
	}
}

// statement fills in a statement's text and tables.
func (d *decoder) statement(c *Command, sql []byte, whole bool) {
	var cut bool
	c.Statement, cut = text(sql, MaxStatement)
	c.Truncated = c.Truncated || cut || !whole
	c.Tables = scanTables(sql)
}

// noteTables guesses the connection's database from table names when the
// login did not say.
func (d *decoder) noteTables(tables []string) {
	if d.db == "" && d.guessed == "" && len(tables) > 0 {
		d.guessed = GuessDatabase(tables)
	}
}

// skipQueryAttrs skips the query attributes before a COM_QUERY's text
// (CLIENT_QUERY_ATTRIBUTES); it gives up (false) when there are any.
func skipQueryAttrs(arg []byte) ([]byte, bool) {
	c := cursor{b: arg}
	n, _ := c.lenenc()
	c.lenenc() // parameter set count, always 1
	if c.bad || n != 0 {
		return nil, false
	}
	return c.b, true
}

// useStatement returns the database of a "USE db" statement, or "".
func useStatement(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 5 || !strings.EqualFold(s[:3], "use") || !isSpace(s[3]) {
		return ""
	}
	db := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s[4:]), ";"))
	if len(db) >= 2 && db[0] == '`' && db[len(db)-1] == '`' {
		return strings.ReplaceAll(db[1:len(db)-1], "``", "`")
	}
	if strings.ContainsAny(db, " \t\r\n;'\"`") {
		return ""
	}
	return db
}
