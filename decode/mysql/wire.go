package mysql

import (
	"strings"
	"unicode/utf8"
)

// Command bytes.
const (
	comSleep            = 0x00
	comQuit             = 0x01
	comInitDB           = 0x02
	comQuery            = 0x03
	comFieldList        = 0x04
	comCreateDB         = 0x05
	comDropDB           = 0x06
	comRefresh          = 0x07
	comShutdown         = 0x08
	comStatistics       = 0x09
	comProcessInfo      = 0x0a
	comConnect          = 0x0b
	comProcessKill      = 0x0c
	comDebug            = 0x0d
	comPing             = 0x0e
	comTime             = 0x0f
	comDelayedInsert    = 0x10
	comChangeUser       = 0x11
	comBinlogDump       = 0x12
	comTableDump        = 0x13
	comConnectOut       = 0x14
	comRegisterSlave    = 0x15
	comStmtPrepare      = 0x16
	comStmtExecute      = 0x17
	comStmtSendLongData = 0x18
	comStmtClose        = 0x19
	comStmtReset        = 0x1a
	comSetOption        = 0x1b
	comStmtFetch        = 0x1c
	comDaemon           = 0x1d
	comBinlogDumpGTID   = 0x1e
	comResetConnection  = 0x1f
	comStmtBulkExecute  = 0xfa // MariaDB
)

var commandNames = map[byte]string{
	comSleep:            "COM_SLEEP",
	comQuit:             "COM_QUIT",
	comInitDB:           "COM_INIT_DB",
	comQuery:            "COM_QUERY",
	comFieldList:        "COM_FIELD_LIST",
	comCreateDB:         "COM_CREATE_DB",
	comDropDB:           "COM_DROP_DB",
	comRefresh:          "COM_REFRESH",
	comShutdown:         "COM_SHUTDOWN",
	comStatistics:       "COM_STATISTICS",
	comProcessInfo:      "COM_PROCESS_INFO",
	comConnect:          "COM_CONNECT",
	comProcessKill:      "COM_PROCESS_KILL",
	comDebug:            "COM_DEBUG",
	comPing:             "COM_PING",
	comTime:             "COM_TIME",
	comDelayedInsert:    "COM_DELAYED_INSERT",
	comChangeUser:       "COM_CHANGE_USER",
	comBinlogDump:       "COM_BINLOG_DUMP",
	comTableDump:        "COM_TABLE_DUMP",
	comConnectOut:       "COM_CONNECT_OUT",
	comRegisterSlave:    "COM_REGISTER_SLAVE",
	comStmtPrepare:      "COM_STMT_PREPARE",
	comStmtExecute:      "COM_STMT_EXECUTE",
	comStmtSendLongData: "COM_STMT_SEND_LONG_DATA",
	comStmtClose:        "COM_STMT_CLOSE",
	comStmtReset:        "COM_STMT_RESET",
	comSetOption:        "COM_SET_OPTION",
	comStmtFetch:        "COM_STMT_FETCH",
	comDaemon:           "COM_DAEMON",
	comBinlogDumpGTID:   "COM_BINLOG_DUMP_GTID",
	comResetConnection:  "COM_RESET_CONNECTION",
	comStmtBulkExecute:  "COM_STMT_BULK_EXECUTE",
}

// cursor reads the fields of a packet payload. Reading past the end sets
// bad and yields zero values, so that a parser can read a whole packet and
// check once.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) left() int { return len(c.b) }

func (c *cursor) u8() byte {
	if len(c.b) < 1 {
		c.bad = true
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) u16() uint16 {
	if len(c.b) < 2 {
		c.bad, c.b = true, nil
		return 0
	}
	v := uint16(c.b[0]) | uint16(c.b[1])<<8
	c.b = c.b[2:]
	return v
}

func (c *cursor) u32() uint32 {
	if len(c.b) < 4 {
		c.bad, c.b = true, nil
		return 0
	}
	v := uint32(c.b[0]) | uint32(c.b[1])<<8 | uint32(c.b[2])<<16 | uint32(c.b[3])<<24
	c.b = c.b[4:]
	return v
}

// take returns the next n bytes.
func (c *cursor) take(n uint64) []byte {
	if n > uint64(len(c.b)) {
		c.bad, c.b = true, nil
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

// lenenc reads a length-encoded integer; null is set for 0xfb (NULL).
func (c *cursor) lenenc() (v uint64, null bool) {
	if len(c.b) < 1 {
		c.bad = true
		return 0, false
	}
	switch b := c.b[0]; {
	case b < 0xfb:
		c.b = c.b[1:]
		return uint64(b), false
	case b == 0xfb:
		c.b = c.b[1:]
		return 0, true
	case b == 0xfc:
		p := c.take(3)
		if p == nil {
			return 0, false
		}
		return uint64(p[1]) | uint64(p[2])<<8, false
	case b == 0xfd:
		p := c.take(4)
		if p == nil {
			return 0, false
		}
		return uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16, false
	case b == 0xfe:
		p := c.take(9)
		if p == nil {
			return 0, false
		}
		var v uint64
		for i := 8; i >= 1; i-- {
			v = v<<8 | uint64(p[i])
		}
		return v, false
	default: // 0xff is not a length
		c.bad = true
		return 0, false
	}
}

// lenencBytes reads a length-encoded string. A claimed length beyond the
// packet marks the cursor bad without allocating anything.
func (c *cursor) lenencBytes() []byte {
	n, _ := c.lenenc()
	if c.bad {
		return nil
	}
	return c.take(n)
}

// nul reads a NUL-terminated string; without a NUL it takes the rest and
// reports false.
func (c *cursor) nul() ([]byte, bool) {
	for i, b := range c.b {
		if b == 0 {
			v := c.b[:i]
			c.b = c.b[i+1:]
			return v, true
		}
	}
	v := c.b
	c.b = nil
	return v, false
}

// lenencSize is the number of bytes of the length-encoded integer that
// starts with b, or 0 when b cannot start one.
func lenencSize(b byte) int {
	switch {
	case b < 0xfb:
		return 1
	case b == 0xfc:
		return 3
	case b == 0xfd:
		return 4
	case b == 0xfe:
		return 9
	}
	return 0
}

// text turns wire bytes into a valid UTF-8 string of at most limit bytes
// (cut on a rune boundary); cut reports whether it was shortened.
func text(b []byte, limit int) (s string, cut bool) {
	if len(b) > limit {
		b = b[:limit]
		// Do not split a rune.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
		cut = true
	}
	if utf8.Valid(b) {
		return string(b), cut
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), cut
}
