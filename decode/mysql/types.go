package mysql

// Capability flags of the MySQL client/server protocol (the low 32 bits)
// and MariaDB's extended capabilities (the high 32 bits), as found in
// Handshake.Capabilities and Login.Capabilities.
const (
	CapLongPassword       uint64 = 1 << 0 // MySQL servers; MariaDB servers clear it (CLIENT_MYSQL)
	CapFoundRows          uint64 = 1 << 1
	CapLongFlag           uint64 = 1 << 2
	CapConnectWithDB      uint64 = 1 << 3
	CapNoSchema           uint64 = 1 << 4
	CapCompress           uint64 = 1 << 5
	CapODBC               uint64 = 1 << 6
	CapLocalFiles         uint64 = 1 << 7
	CapIgnoreSpace        uint64 = 1 << 8
	CapProtocol41         uint64 = 1 << 9
	CapInteractive        uint64 = 1 << 10
	CapSSL                uint64 = 1 << 11
	CapIgnoreSigpipe      uint64 = 1 << 12
	CapTransactions       uint64 = 1 << 13
	CapReserved           uint64 = 1 << 14
	CapSecureConnection   uint64 = 1 << 15
	CapMultiStatements    uint64 = 1 << 16
	CapMultiResults       uint64 = 1 << 17
	CapPSMultiResults     uint64 = 1 << 18
	CapPluginAuth         uint64 = 1 << 19
	CapConnectAttrs       uint64 = 1 << 20
	CapPluginAuthLenenc   uint64 = 1 << 21
	CapExpiredPasswords   uint64 = 1 << 22
	CapSessionTrack       uint64 = 1 << 23
	CapDeprecateEOF       uint64 = 1 << 24
	CapOptionalMetadata   uint64 = 1 << 25
	CapZstdCompression    uint64 = 1 << 26
	CapQueryAttributes    uint64 = 1 << 27
	CapMariaDBProgress    uint64 = 1 << 32
	CapMariaDBStmtBulk    uint64 = 1 << 34
	CapMariaDBExtTypeInfo uint64 = 1 << 35
	CapMariaDBCacheMeta   uint64 = 1 << 36
)

// Handshake is the server's greeting (event.MySQLHandshake, from the
// server). The random auth data it carries is not kept.
type Handshake struct {
	// Protocol is the protocol version, 10 for every server since 3.21.
	Protocol uint8 `json:"protocol"`
	// ServerVersion is the version string exactly as sent, e.g.
	// "5.5.5-10.11.19-MariaDB-0+deb12u1" (MariaDB prefixes "5.5.5-").
	ServerVersion string `json:"server_version"`
	// MariaDB is set when the server is MariaDB (version string or
	// capabilities say so).
	MariaDB bool `json:"mariadb,omitempty"`
	// ConnectionID is the server's thread id for this connection.
	ConnectionID uint32 `json:"connection_id"`
	// AuthPlugin is the default authentication plugin offered, e.g.
	// "mysql_native_password".
	AuthPlugin string `json:"auth_plugin,omitempty"`
	// Capabilities are the server's capability flags (Cap*), MariaDB's
	// extended ones in the high 32 bits.
	Capabilities uint64 `json:"capabilities"`
	// Charset is the server's default collation id.
	Charset uint8 `json:"charset"`
	// Status is the server status flags.
	Status uint16 `json:"status"`
}

// Login is the client's login request (event.MySQLLogin, from the client).
// The auth response is never kept, only its length. The login's outcome
// follows as a Result with Command "login".
type Login struct {
	// User is the login user name.
	User string `json:"user,omitempty"`
	// Database is the initial schema (CLIENT_CONNECT_WITH_DB).
	Database string `json:"database,omitempty"`
	// AuthPlugin is the authentication plugin the client answered with.
	AuthPlugin string `json:"auth_plugin,omitempty"`
	// AuthLength is the length of the auth response (its bytes are not
	// kept).
	AuthLength int `json:"auth_length,omitempty"`
	// ClientAttrs are the connection attributes (CLIENT_CONNECT_ATTRS),
	// e.g. _client_name=pymysql, _pid=28685.
	ClientAttrs map[string]string `json:"client_attrs,omitempty"`
	// PID is the client's _pid attribute as a number (0 when absent): the
	// OS process that owns the connection.
	PID int `json:"pid,omitempty"`
	// Capabilities are the client's capability flags (Cap*).
	Capabilities uint64 `json:"capabilities"`
	// Charset is the collation id the client asked for.
	Charset uint8 `json:"charset"`
	// Compress is set when both sides agreed on the compressed protocol.
	Compress bool `json:"compress,omitempty"`
	// SSL is set when the client sent an SSL request: the rest of the
	// connection is TLS, which the decoder skips (there is no user in that
	// case, the login is inside the encryption).
	SSL bool `json:"ssl,omitempty"`
}

// Command is one client command (event.MySQLCommand, from the client).
type Command struct {
	// Command is the command's name: "COM_QUERY", "COM_INIT_DB",
	// "COM_PING", "COM_QUIT", "COM_STMT_PREPARE", "COM_STMT_EXECUTE",
	// "COM_STMT_CLOSE", "COM_STMT_RESET", …
	Command string `json:"command"`
	// Statement is the SQL text of COM_QUERY and COM_STMT_PREPARE, and the
	// remembered text of the prepared statement for COM_STMT_EXECUTE,
	// COM_STMT_CLOSE, … (empty when its preparation is not in the
	// capture). It is the raw text, literals included: show it only
	// through Redact.
	Statement string `json:"statement,omitempty"`
	// Truncated is set when Statement is only the start of the text
	// (longer than MaxStatement, or bytes missing from the capture).
	Truncated bool `json:"truncated,omitempty"`
	// Length is the size of the command packet's payload in bytes, the
	// command byte included (a 16 MiB INSERT counts whole even though
	// Statement is truncated).
	Length int `json:"length"`
	// StatementID is the prepared statement's id (COM_STMT_*).
	StatementID uint32 `json:"statement_id,omitempty"`
	// Database is the schema argument of COM_INIT_DB, COM_CHANGE_USER,
	// COM_CREATE_DB and COM_DROP_DB.
	Database string `json:"database,omitempty"`
	// User is COM_CHANGE_USER's user.
	User string `json:"user,omitempty"`
	// Tables are the table names the statement refers to (FROM, JOIN,
	// INTO, UPDATE, TABLE), without schema or quotes, each once, in order.
	Tables []string `json:"tables,omitempty"`
	// DB is the database the connection works in as far as the decoder
	// knows when the command is sent: the login's, the last COM_INIT_DB
	// or USE, or (DBGuessed) the one the tables seen so far on the
	// connection belong to (see GuessDatabase). Empty when unknown: the
	// first commands of a pooled connection (SELECT 1, ROLLBACK) come
	// before any table gives the database away, so take the last DB of
	// the connection (Event.Conn) for all of them.
	DB string `json:"db,omitempty"`
	// DBGuessed is set when DB was guessed from table names.
	DBGuessed bool `json:"db_guessed,omitempty"`
}

// Result kinds.
const (
	KindOK        = "ok"         // OK packet
	KindError     = "error"      // ERR packet
	KindResultSet = "resultset"  // a complete result set
	KindEOF       = "eof"        // a bare EOF packet (old COM_SET_OPTION, COM_DEBUG)
	KindPrepareOK = "prepare-ok" // COM_STMT_PREPARE's answer
	KindInfile    = "infile"     // LOAD DATA LOCAL: the server asks for a file
)

// Result is the server's answer to a command or to the login
// (event.MySQLResult, from the server). A result set, spread over many
// packets, is one Result from its first byte to its last; a command with
// several result sets (CLIENT_MULTI_RESULTS) gets one Result per set.
type Result struct {
	// Command is what this answers: a command name ("COM_QUERY", …),
	// "login", "connect" (a server refusing the connection before its
	// greeting), or "" for an error the server sent on its own (e.g.
	// before closing an idle connection).
	Command string `json:"command"`
	// Kind is one of KindOK, KindError, KindResultSet, KindEOF,
	// KindPrepareOK, KindInfile.
	Kind string `json:"kind"`
	// AffectedRows and LastInsertID are from an OK packet.
	AffectedRows uint64 `json:"affected_rows,omitempty"`
	LastInsertID uint64 `json:"last_insert_id,omitempty"`
	// Columns is the number of columns of a result set or of a prepared
	// statement's result.
	Columns int `json:"columns,omitempty"`
	// Rows is the number of rows of a result set (rows received before an
	// error for an interrupted one).
	Rows int `json:"rows,omitempty"`
	// Params is the number of parameters of a prepared statement.
	Params int `json:"params,omitempty"`
	// StatementID is the id a prepared statement got.
	StatementID uint32 `json:"statement_id,omitempty"`
	// ErrorCode, SQLState and ErrorMessage are from an ERR packet, e.g.
	// 1045, "28000", "Access denied for user …".
	ErrorCode    uint16 `json:"error_code,omitempty"`
	SQLState     string `json:"sql_state,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// Warnings is the warning count.
	Warnings uint16 `json:"warnings,omitempty"`
	// Status is the server status flags of the closing OK or EOF packet.
	Status uint16 `json:"status,omitempty"`
	// Info is an OK packet's human-readable info (e.g. "Rows matched: 1
	// Changed: 1 Warnings: 0"), or COM_STATISTICS' answer.
	Info string `json:"info,omitempty"`
}

// Server status flags found in Result.Status.
const (
	StatusInTrans            uint16 = 0x0001
	StatusAutocommit         uint16 = 0x0002
	StatusMoreResultsExist   uint16 = 0x0008
	StatusCursorExists       uint16 = 0x0040
	StatusLastRowSent        uint16 = 0x0080
	StatusSessionStateChange uint16 = 0x4000
)

// Bounds on what the decoder keeps.
const (
	// MaxStatement is the longest Statement kept; longer texts are
	// truncated (Command.Truncated).
	MaxStatement = 8 << 10
	// MaxKeep is how much of a packet's payload the decoder keeps; the
	// rest of a bigger packet (a 16 MiB INSERT) is skipped without being
	// copied.
	MaxKeep = 64 << 10
	// MaxColumns is the most columns a result set may claim (MySQL's and
	// MariaDB's limit is 4096); more means the decoder lost its way.
	MaxColumns = 4096
	// MaxPending is how many commands may await their replies; beyond
	// it the oldest are forgotten (a capture with only the client side).
	MaxPending = 64
	// MaxStatements is how many prepared statements are remembered per
	// connection.
	MaxStatements = 256
)
