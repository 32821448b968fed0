// Package memcached decodes memcached connections: the text protocol
// (get/gets/gat/gats, set/add/replace/append/prepend/cas, delete,
// incr/decr, touch, …), the meta protocol (mg/ms/md/ma/mn/me) and the
// binary protocol, into one event.MemcacheCommand per command and one
// event.MemcacheReply per reply, the reply paired with the command it
// answers.
//
// Values are never kept: a data block is skipped by its length, and only
// that length is reported (the values keystonemiddleware caches hold
// tokens in clear).
//
// Pairing: replies answer commands in order (text and meta), a binary
// reply names its command by opcode and opaque, a meta reply by its O or
// k flag, a VALUE line by its key. A command sent with noreply gets no
// reply event. A quiet command (meta q flag, binary quiet opcodes) gets
// a reply event when the server answers it, or an Implied one when a
// later reply shows it got none (a miss for a lookup, success
// otherwise). A command still unanswered when its connection ends (a
// stale pooled connection answered by a bare RST) gets no reply event.
// Every reply event comes after the event of the command it answers.
//
// A connection whose start is not in the capture, or one where bytes are
// missing, is decoded from the next line (or binary header) that is a
// valid command or reply; what cannot be made sense of is reported as a
// warning.
package memcached

// Limits on what the decoder believes from the wire.
const (
	// MaxLine is the longest command or reply line, like memcached's own
	// limit. Retrieval commands (get/gets/gat/gats) may have longer key
	// lists, up to stream.BufferSize.
	MaxLine = 8 << 10
	// MaxKeyLen is the longest key memcached accepts.
	MaxKeyLen = 250
	// MaxValueLen is the largest data block the decoder accepts (the
	// largest item memcached can be configured for). A longer declared
	// length is reported as a warning and the decoder resynchronises.
	MaxValueLen = 1 << 30
	// MaxItems bounds the items kept for one reply (a multi-key get).
	MaxItems = 1 << 15
	// MaxPending bounds the commands waiting for a reply on one
	// connection; older ones are forgotten.
	MaxPending = 1 << 12
)

// Command is one memcached command, the Data of an event.MemcacheCommand.
type Command struct {
	// Seq numbers the commands of the connection from 1; the Reply to
	// this command carries the same Seq.
	Seq uint64 `json:"seq"`
	// Op is the command name: "get", "gets", "gat", "gats", "set", "add",
	// "replace", "append", "prepend", "cas", "delete", "incr", "decr",
	// "touch", "mg", "ms", "md", "ma", "mn", "me", "flush_all",
	// "version", "stats", "verbosity", "quit", …; binary opcodes map to
	// the same names ("noop" and "sasl_*" are binary only; quiet variants
	// set Quiet). "unknown" is a line memcached would answer with ERROR.
	Op string `json:"op"`
	// Keys are the keys as sent (one, or several for a multi-key get).
	Keys []string `json:"keys,omitempty"`
	// Flags are the client flags of a store.
	Flags uint32 `json:"flags,omitempty"`
	// Exptime is the expiration time of a store, touch or gat.
	Exptime int64 `json:"exptime,omitempty"`
	// ValueLen is the size of the data block of a store; the bytes
	// themselves are never kept.
	ValueLen int `json:"value_len,omitempty"`
	// CAS is the compare-and-swap value sent (cas, meta C flag, binary
	// header).
	CAS uint64 `json:"cas,omitempty"`
	// Delta is the amount of an incr/decr (ma: the D flag, default 1).
	Delta uint64 `json:"delta,omitempty"`
	// NoReply is set for text commands sent with "noreply": no reply
	// follows.
	NoReply bool `json:"noreply,omitempty"`
	// Quiet is set for meta commands with the q flag and binary quiet
	// opcodes: the server replies only when the outcome is not the
	// usual one (a hit for a lookup, a failure for a store). The outcome
	// of a quiet command without reply is reported as an Implied reply.
	Quiet bool `json:"quiet,omitempty"`
	// Binary is set for binary protocol commands.
	Binary bool `json:"binary,omitempty"`
	// Meta holds the flags of a meta command as sent ("v f t T300").
	Meta string `json:"meta,omitempty"`
	// Opaque is the binary opaque (decimal) or the meta O token.
	Opaque string `json:"opaque,omitempty"`
	// Error says what is wrong with the command: what memcached would
	// reject it for ("unknown command", "bad command line format", "bad
	// data chunk", "key too long", "data block too large", …), or what
	// the capture lacks ("data block cut short" by the end of the
	// stream, "data block incomplete in the capture" because of a gap).
	Error string `json:"error,omitempty"`
}

// Item is one value returned by a lookup (a VALUE line, a meta VA, a
// binary get hit). Only its size is known, never its bytes.
type Item struct {
	Key   string `json:"key"`
	Flags uint32 `json:"flags"`
	Len   int    `json:"len"`
	CAS   uint64 `json:"cas,omitempty"`
}

// KeyResult is the outcome of a lookup for one key.
type KeyResult struct {
	Key string `json:"key"`
	Hit bool   `json:"hit"`
}

// Reply is one memcached reply, the Data of an event.MemcacheReply.
type Reply struct {
	// Seq is the Seq of the command answered, 0 when the command is not
	// in the capture (a connection captured mid-stream).
	Seq uint64 `json:"seq,omitempty"`
	// Op is the Op of the command answered ("" when unknown).
	Op string `json:"op,omitempty"`
	// Keys are the keys of the command answered.
	Keys []string `json:"keys,omitempty"`
	// Status is the reply code: "END" (a text lookup), "STORED",
	// "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED", "OK",
	// "VERSION", "NUMBER" (incr/decr), "ERROR", "CLIENT_ERROR",
	// "SERVER_ERROR" (message in Error); meta "HD", "VA", "EN", "NS",
	// "EX", "NF", "MN", "ME"; binary status names ("NO_ERROR",
	// "KEY_NOT_FOUND", "KEY_EXISTS", "ITEM_NOT_STORED", …).
	Status string `json:"status"`
	// Items are the values returned, sizes only.
	Items []Item `json:"items,omitempty"`
	// Results has one entry per key of a lookup command (get, gets, gat,
	// gats, mg, binary get/gat), in the order of the command: hit or
	// miss. For a lookup reply whose command is unknown, the items
	// returned, all hits.
	Results []KeyResult `json:"results,omitempty"`
	// Hits and Misses count Results.
	Hits   int `json:"hits,omitempty"`
	Misses int `json:"misses,omitempty"`
	// Stored tells, for a store (set, add, replace, append, prepend,
	// cas, ms, binary stores), whether the value was stored.
	Stored *bool `json:"stored,omitempty"`
	// Number is the new value after an incr/decr/ma.
	Number *uint64 `json:"number,omitempty"`
	// Error is the message of a CLIENT_ERROR/SERVER_ERROR or a binary
	// error status.
	Error string `json:"error,omitempty"`
	// Version is the server version of a version reply.
	Version string `json:"version,omitempty"`
	// Meta holds the flags of a meta reply as sent ("f0 t-1").
	Meta string `json:"meta,omitempty"`
	// Lines counts the STAT (or other) lines of a multi-line reply.
	Lines int `json:"lines,omitempty"`
	// Binary is set for binary protocol replies.
	Binary bool `json:"binary,omitempty"`
	// Opaque is the binary opaque (decimal) or the meta O token.
	Opaque string `json:"opaque,omitempty"`
	// Implied is set when no reply was on the wire: a quiet command's
	// expected outcome (a miss, a store), known because the server
	// answered a later command. The event is placed at that later reply.
	Implied bool `json:"implied,omitempty"`
}

// Hit tells whether key was a hit in this lookup reply; known is false
// when the reply says nothing about key (not a lookup, an error, another
// key).
func (r *Reply) Hit(key string) (hit, known bool) {
	for _, kr := range r.Results {
		if kr.Key == key {
			return kr.Hit, true
		}
	}
	return false, false
}

// IsLookup reports whether the command reads values (get, gets, gat,
// gats, mg, binary get/gat and their quiet variants).
func (c *Command) IsLookup() bool { return classOf(c.Op) == classLookup }

// IsStore reports whether the command stores a value (set, add,
// replace, append, prepend, cas, ms and binary stores).
func (c *Command) IsStore() bool { return classOf(c.Op) == classStore }

// IsDelete reports whether the command deletes a key (delete, md).
func (c *Command) IsDelete() bool { return classOf(c.Op) == classDelete }

// IsLookup reports whether the reply answers a lookup.
func (r *Reply) IsLookup() bool { return classOf(r.Op) == classLookup }

// IsStore reports whether the reply answers a store.
func (r *Reply) IsStore() bool { return classOf(r.Op) == classStore }

// IsDelete reports whether the reply answers a delete.
func (r *Reply) IsDelete() bool { return classOf(r.Op) == classDelete }

type class int

const (
	classOther class = iota
	classLookup
	classStore
	classDelete
	classArith
)

func classOf(op string) class {
	switch op {
	case "get", "gets", "gat", "gats", "mg":
		return classLookup
	case "set", "add", "replace", "append", "prepend", "cas", "ms":
		return classStore
	case "delete", "md":
		return classDelete
	case "incr", "decr", "ma":
		return classArith
	}
	return classOther
}

// settle fills in what a reply means for the command it answers (cmd nil
// when unknown): results per key for lookups, stored for stores.
func settle(rep *Reply, cmd *Command) {
	if cmd != nil {
		rep.Seq, rep.Op, rep.Keys = cmd.Seq, cmd.Op, cmd.Keys
	}
	failed := rep.Status == "ERROR" || rep.Status == "CLIENT_ERROR" || rep.Status == "SERVER_ERROR"
	switch classOf(rep.Op) {
	case classLookup:
		if failed || (rep.Binary && rep.Status != "NO_ERROR" && rep.Status != "KEY_NOT_FOUND") {
			return
		}
		if rep.Binary || rep.Op == "mg" {
			hit := rep.Status == "NO_ERROR" || rep.Status == "VA" || rep.Status == "HD"
			for _, k := range rep.Keys {
				rep.Results = append(rep.Results, KeyResult{Key: k, Hit: hit})
			}
		} else {
			returned := make(map[string]bool, len(rep.Items))
			for _, it := range rep.Items {
				returned[it.Key] = true
			}
			rep.Results = make([]KeyResult, len(rep.Keys))
			for i, k := range rep.Keys {
				rep.Results[i] = KeyResult{Key: k, Hit: returned[k]}
			}
		}
	case classStore:
		stored := rep.Status == "STORED" || (rep.Op == "ms" && rep.Status == "HD") ||
			(rep.Binary && rep.Status == "NO_ERROR")
		rep.Stored = &stored
	case classOther:
		if rep.Op == "" && (rep.Status == "END" || rep.Status == "VA") {
			// A lookup whose command is not in the capture: what
			// came back were hits.
			for _, it := range rep.Items {
				rep.Results = append(rep.Results, KeyResult{Key: it.Key, Hit: true})
			}
		}
	}
	for _, kr := range rep.Results {
		if kr.Hit {
			rep.Hits++
		} else {
			rep.Misses++
		}
	}
}
