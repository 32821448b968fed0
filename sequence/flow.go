// Package sequence correlates decoded events into one flow: who talked to
// whom, which token went where, which downstream call served which
// request. The flow is what the writers in sequence/render draw.
package sequence

import (
	"fmt"
	"strings"
	"time"
)

// Roles of participants, as the JSON contract names them.
const (
	RoleClient    = "client"
	RoleKeystone  = "keystone"
	RoleGlance    = "glance"
	RoleService   = "service"
	RoleMemcached = "memcached"
	RoleMySQL     = "mysql"
	RoleFiles     = "files"
	// RolePeer is a program that talks to a cache or a database and is no
	// known service: named by its address and port, never given a role it
	// was not seen to have.
	RolePeer = "peer"
)

// Participant is one lifeline of the diagram.
type Participant struct {
	// ID is the short id used in the diagram source.
	ID string `json:"id"`
	// Name is the readable name drawn.
	Name string `json:"name"`
	// Role is one of the Role constants.
	Role string `json:"role"`
	// Endpoints are the addresses (host:port for servers, hosts for
	// callers) the participant was seen at.
	Endpoints []string `json:"endpoints"`
}

// Frame points at the frame where a message starts.
type Frame struct {
	File   string `json:"file"`
	Number int    `json:"number"`
}

// Message is one arrow of the diagram.
type Message struct {
	Seq   int       `json:"seq"`
	Time  time.Time `json:"time"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Kind  Kind      `json:"kind"`
	Label string    `json:"label"`

	Method string `json:"method,omitempty"`
	Target string `json:"target,omitempty"`
	Status int    `json:"status,omitempty"`
	// Token is the fingerprint of the token the message carries,
	// validates, returns, looks up or stores.
	Token string `json:"token,omitempty"`
	// AuthToken is the fingerprint of the token a request authenticates
	// with (X-Auth-Token) when that is not Token: a validation carries the
	// validating service's token and validates the user's.
	AuthToken string `json:"auth_token,omitempty"`
	// Image is the image id the message concerns.
	Image  string  `json:"image,omitempty"`
	Frames []Frame `json:"frames,omitempty"`
	// Cause is the seq of the incoming request a downstream message serves.
	Cause int `json:"cause,omitempty"`
	// ReplyTo is, on an answer, the seq of the request it answers.
	ReplyTo int `json:"reply_to,omitempty"`

	// Expires is, on a token issued or validated, when the token expires
	// (as keystone wrote it).
	Expires string `json:"expires,omitempty"`

	// memcached
	Key string `json:"key,omitempty"`
	// Protected marks a token cache key made under keystonemiddleware's
	// memcache_security_strategy (MAC or ENCRYPT) that authflow could not
	// tie to a token (no --memcache-secret, or not the right one).
	Protected bool  `json:"protected,omitempty"`
	Hit       *bool `json:"hit,omitempty"`
	Stored    *bool `json:"stored,omitempty"`
	// TTL is, on a cache store, the expiration time asked for, in seconds.
	TTL int64 `json:"ttl,omitempty"`
	// Scope is, on token requests and answers, what the token is scoped
	// to ("project admin@Default", "domain dom1", "system", "unscoped").
	Scope string `json:"scope,omitempty"`
	// User is, on token requests and answers, who authenticates
	// ("admin@Default"); on a database login, the login user.
	User      string   `json:"user,omitempty"`
	Database  string   `json:"database,omitempty"`
	Statement string   `json:"statement,omitempty"`
	Count     int      `json:"count,omitempty"`
	Tables    []string `json:"tables,omitempty"`
	Rows      *int     `json:"rows,omitempty"`
	// BusyMS is, on the answer to a summarised burst of queries, the time
	// the database spent on them (each query to its last result), in
	// milliseconds; the rest of the burst's span is the caller's own work.
	BusyMS *float64 `json:"busy_ms,omitempty"`
	Error  string   `json:"error,omitempty"`
	// files
	Path  string `json:"path,omitempty"`
	Bytes *int64 `json:"bytes,omitempty"`
	Calls int    `json:"calls,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Comm  string `json:"comm,omitempty"`

	// TLS is, on a message that travelled on a decrypted TLS connection,
	// its version and cipher suite, e.g. "TLS 1.3 TLS_AES_256_GCM_SHA384".
	TLS string `json:"tls,omitempty"`

	// Duration is, on a response, how long the exchange took (from the
	// request's first byte to the response's last).
	Duration time.Duration `json:"-"`
	// DurationMS is Duration in milliseconds, for JSON.
	DurationMS *float64 `json:"duration_ms,omitempty"`
	// End is when the message's last byte was captured.
	End time.Time `json:"-"`
	// Notes are drawn right after the message.
	Notes []Note `json:"notes,omitempty"`
	// Response marks an answer (drawn dashed).
	Response bool `json:"-"`
	// Server and Client are the addresses (host:port) of the connection
	// the message travelled on, for exporters (e.g. OpenTelemetry's
	// server.address); empty for file events. Not in the JSON.
	Server string `json:"-"`
	Client string `json:"-"`
}

// Note is a remark drawn next to a message.
type Note struct {
	// Over lists the ids of the participants the note spans (one or two).
	Over []string `json:"over"`
	Text string   `json:"text"`
}

// Finding is something an experienced operator would point at, with the
// evidence: the messages (and so the frames) that show it.
type Finding struct {
	// Kind names the finding, e.g. "cache-unreachable"; stable for
	// machines.
	Kind string `json:"kind"`
	// Severity is "info", "warning" or "error".
	Severity string `json:"severity"`
	// Summary is one line for people; Detail says more.
	Summary string `json:"summary"`
	Detail  string `json:"detail,omitempty"`
	// Messages are the seqs of the messages that show it.
	Messages []int `json:"messages"`
	// Frames are where those messages start.
	Frames []Frame `json:"frames"`
	// Count is how many times it happened, where that means something.
	Count int `json:"count,omitempty"`
	// Time is when it (first) happened.
	Time time.Time `json:"time,omitzero"`
}

// Flow is the whole correlated flow.
type Flow struct {
	Participants []*Participant `json:"participants"`
	Messages     []*Message     `json:"messages"`
	Warnings     []string       `json:"warnings"`
	// Findings are filled by the findings package when asked for.
	Findings []Finding `json:"findings"`
	// Inputs names the capture files (or interfaces) frames refer to.
	Inputs []string `json:"inputs"`
	// Clocks reports the clock corrections applied to captures of
	// different hosts.
	Clocks []string `json:"clocks"`
	// Drops are the interfaces of the inputs whose capture statistics say
	// the kernel dropped packets: what those packets carried is missing.
	Drops []Drop `json:"drops"`
	// Start and End bound the capture time the flow covers.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// Drop says that the kernel dropped packets of one interface of an input
// while capturing (pcapng interface statistics).
type Drop struct {
	// File is the input, as named in Inputs and frames.
	File string `json:"file"`
	// Interface is the interface's name, or "interface N".
	Interface string `json:"interface"`
	// Received is the packets the interface received, 0 if not recorded.
	Received uint64 `json:"received,omitempty"`
	// Dropped is the packets the kernel dropped.
	Dropped uint64 `json:"dropped"`
}

// DropWarnings says, per input, how many packets the kernel dropped on
// each interface: one line per input, for the top of the warnings.
func DropWarnings(drops []Drop) []string {
	var out []string
	for i := 0; i < len(drops); {
		file := drops[i].File
		var parts []string
		for ; i < len(drops) && drops[i].File == file; i++ {
			d := drops[i]
			part := fmt.Sprintf("%d packets on %s", d.Dropped, d.Interface)
			if d.Received > 0 {
				part = fmt.Sprintf("%d of %d packets on %s", d.Dropped, d.Received, d.Interface)
			}
			parts = append(parts, part)
		}
		out = append(out, fmt.Sprintf("%s: the kernel dropped %s while capturing: what they carried is missing (messages that lost bytes to them say so)", file, strings.Join(parts, ", ")))
	}
	return out
}

// Participant returns the participant with the given id, or nil.
func (f *Flow) Participant(id string) *Participant {
	for _, p := range f.Participants {
		if p.ID == id {
			return p
		}
	}
	return nil
}
