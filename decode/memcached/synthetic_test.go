package memcached

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/decode/event"
)

// longKeys are 40 keys of 240 bytes: a get line of 9.8 KB.
var longKeys = func() []string {
	var out []string
	for i := range 40 {
		out = append(out, fmt.Sprintf("%02d", i)+strings.Repeat("k", 238))
	}
	return out
}()

// show formats events for a failure message, long lines cut.
func show(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if len(l) > 300 {
			l = l[:300] + "…"
		}
		b.WriteString("\n\t" + l)
	}
	return b.String()
}

type convCase struct {
	name      string
	midstream bool
	steps     []step
	want      []string
}

// convCases are conversations real traffic did not show, with the events
// they must give.
var convCases = []convCase{
	// Text protocol.
	{
		name: "multi-key get, partial hits",
		steps: []step{
			c("get a b c\r\n"),
			s("VALUE a 1 3\r\nabc\r\nVALUE c 0 0\r\n\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 get a,b,c",
			"reply 1 get END items=a:3,c:0 hit=a,c miss=b",
		},
	},
	{
		name: "gets then cas",
		steps: []step{
			c("gets k\r\n"),
			s("VALUE k 0 2 42\r\nhi\r\nEND\r\n"),
			c("cas k 3 60 2 42\r\nho\r\n"),
			s("EXISTS\r\n"),
			c("cas k 3 60 2 43 noreply\r\nho\r\n"),
			c("cas nokey 0 0 1 1\r\nx\r\n"),
			s("NOT_FOUND\r\n"),
		},
		want: []string{
			"cmd 1 gets k",
			"reply 1 gets END items=k:2 hit=k",
			"cmd 2 cas k flags=3 exp=60 len=2 cas=42",
			"reply 2 cas EXISTS stored=false",
			"cmd 3 cas k flags=3 exp=60 len=2 cas=43 noreply",
			"cmd 4 cas nokey len=1 cas=1",
			"reply 4 cas NOT_FOUND stored=false",
		},
	},
	{
		name: "noreply commands get no reply",
		steps: []step{
			c("set k 0 0 1 noreply\r\nx\r\ndelete j noreply\r\nincr n 1 noreply\r\ntouch k 10 noreply\r\nflush_all noreply\r\nget k\r\n"),
			s("VALUE k 0 1\r\nx\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 set k len=1 noreply",
			"cmd 2 delete j noreply",
			"cmd 3 incr n delta=1 noreply",
			"cmd 4 touch k exp=10 noreply",
			"cmd 5 flush_all noreply",
			"cmd 6 get k",
			"reply 6 get END items=k:1 hit=k",
		},
	},
	{
		name: "stores: add, replace, append, prepend",
		steps: []step{
			c("add k 0 0 1\r\na\r\n"), s("NOT_STORED\r\n"),
			c("replace k 5 0 1\r\nb\r\n"), s("STORED\r\n"),
			c("append k 0 0 2\r\ncd\r\n"), s("STORED\r\n"),
			c("prepend zz 0 0 0\r\n\r\n"), s("NOT_STORED\r\n"),
		},
		want: []string{
			"cmd 1 add k len=1", "reply 1 add NOT_STORED stored=false",
			"cmd 2 replace k flags=5 len=1", "reply 2 replace STORED stored=true",
			"cmd 3 append k len=2", "reply 3 append STORED stored=true",
			"cmd 4 prepend zz", "reply 4 prepend NOT_STORED stored=false",
		},
	},
	{
		name: "delete, incr, decr, touch, gat, gats",
		steps: []step{
			c("delete k\r\n"), s("DELETED\r\n"),
			c("delete k 0\r\n"), s("NOT_FOUND\r\n"),
			c("delete noreply\r\n"), s("NOT_FOUND\r\n"),
			c("incr n 5\r\n"), s("10\r\n"),
			c("decr m 1\r\n"), s("NOT_FOUND\r\n"),
			c("decr n 3\r\n"), s("7  \r\n"),
			c("touch k 100\r\n"), s("TOUCHED\r\n"),
			c("gat 60 a b\r\n"), s("VALUE b 0 1\r\nz\r\nEND\r\n"),
			c("gats 0 a\r\n"), s("END\r\n"),
		},
		want: []string{
			"cmd 1 delete k", "reply 1 delete DELETED",
			"cmd 2 delete k", "reply 2 delete NOT_FOUND",
			"cmd 3 delete noreply", "reply 3 delete NOT_FOUND", // the key is "noreply"
			"cmd 4 incr n delta=5", "reply 4 incr NUMBER number=10",
			"cmd 5 decr m delta=1", "reply 5 decr NOT_FOUND",
			"cmd 6 decr n delta=3", "reply 6 decr NUMBER number=7",
			"cmd 7 touch k exp=100", "reply 7 touch TOUCHED",
			"cmd 8 gat a,b exp=60", "reply 8 gat END items=b:1 hit=b miss=a",
			"cmd 9 gats a", "reply 9 gats END miss=a",
		},
	},
	{
		name: "errors",
		steps: []step{
			c("bogus command\r\n"), s("ERROR\r\n"),
			c("set k 0 0 abc\r\n"), s("CLIENT_ERROR bad command line format\r\n"),
			c("get k\r\n"), s("SERVER_ERROR out of memory writing get response\r\n"),
			c("set big 0 0 2000\r\n" + strings.Repeat("b", 2000) + "\r\n"), s("SERVER_ERROR object too large for cache\r\n"),
			c("get a b\r\n"), s("VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory\r\n"),
		},
		want: []string{
			`cmd 1 unknown error="unknown command"`, "reply 1 unknown ERROR",
			`cmd 2 set k error="bad command line format"`, `reply 2 set CLIENT_ERROR stored=false error="bad command line format"`,
			"cmd 3 get k", `reply 3 get SERVER_ERROR error="out of memory writing get response"`,
			"cmd 4 set big len=2000", `reply 4 set SERVER_ERROR stored=false error="object too large for cache"`,
			// memcached can fail in the middle of a multi-get.
			"cmd 5 get a,b", `reply 5 get SERVER_ERROR items=a:1 error="out of memory"`,
		},
	},
	{
		name: "version, stats, flush_all, verbosity, quit",
		steps: []step{
			c("version\r\n"), s("VERSION 1.6.18\r\n"),
			c("stats\r\n"), s("STAT pid 1\r\nSTAT uptime 2\r\nSTAT version 1.6.18\r\nEND\r\n"),
			c("flush_all 10\r\n"), s("OK\r\n"),
			c("verbosity 1\r\n"), s("OK\r\n"),
			c("quit\r\n"),
		},
		want: []string{
			"cmd 1 version", "reply 1 version VERSION version=1.6.18",
			"cmd 2 stats", "reply 2 stats END lines=3",
			"cmd 3 flush_all", "reply 3 flush_all OK",
			"cmd 4 verbosity", "reply 4 verbosity OK",
			"cmd 5 quit",
		},
	},
	{
		name: "data blocks that look like commands and replies",
		steps: []step{
			c("set k 0 0 14\r\n\r\nget x\r\nEND\r\n\r\n"), s("STORED\r\n"),
			c("get k\r\n"), s("VALUE k 0 14\r\n\r\nget x\r\nEND\r\n\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 set k len=14", "reply 1 set STORED stored=true",
			"cmd 2 get k", "reply 2 get END items=k:14 hit=k",
		},
	},
	{
		name: "bad data chunk: like memcached, go on after length+2 bytes",
		steps: []step{
			c("set k 0 0 2\r\nabcd\r\nget k\r\n"),
			s("CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"),
		},
		want: []string{
			`cmd 1 set k len=2 error="bad data chunk"`,
			`cmd 2 unknown error="unknown command"`,
			"cmd 3 get k",
			`reply 1 set CLIENT_ERROR stored=false error="bad data chunk"`,
			"reply 2 unknown ERROR",
			"reply 3 get END miss=k",
		},
	},
	{
		name: "lines ending with a bare newline, extra spaces",
		steps: []step{
			c("get  a   b \n"), s("END\n"),
			c("set k 1 2 3 \r\nabc\r\n"), s("STORED\r\n"),
		},
		want: []string{
			"cmd 1 get a,b", "reply 1 get END miss=a,b",
			"cmd 2 set k flags=1 exp=2 len=3", "reply 2 set STORED stored=true",
		},
	},
	{
		name: "pipelined gets, replies in one segment",
		steps: []step{
			c("get a\r\nget b\r\nget c\r\n"),
			s("END\r\nVALUE b 0 2\r\nbb\r\nEND\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 get a", "cmd 2 get b", "cmd 3 get c",
			"reply 1 get END miss=a", "reply 2 get END items=b:2 hit=b", "reply 3 get END miss=c",
		},
	},
	{
		name: "multi-key get with a key list longer than MaxLine",
		steps: []step{
			c("get " + strings.Join(longKeys, " ") + " last\r\n"),
			s("VALUE last 0 1\r\nx\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 get " + strings.Join(longKeys, ",") + ",last",
			"reply 1 get END items=last:1 hit=last miss=" + strings.Join(longKeys, ","),
		},
	},

	// Meta protocol.
	{
		name: "meta get hit and miss",
		steps: []step{
			c("mg foo v f t\r\n"), s("VA 2 f30 t-1\r\nhi\r\n"),
			c("mg bar v\r\n"), s("EN\r\n"),
			c("mg baz s\r\n"), s("HD s5\r\n"),
		},
		want: []string{
			`cmd 1 mg foo meta="v f t"`, `reply 1 mg VA items=foo:2 hit=foo meta="f30 t-1"`,
			`cmd 2 mg bar meta="v"`, "reply 2 mg EN miss=bar",
			`cmd 3 mg baz meta="s"`, `reply 3 mg HD hit=baz meta="s5"`,
		},
	},
	{
		name: "meta set, delete, arithmetic, debug, noop",
		steps: []step{
			c("ms foo 2 T90 F1\r\nhi\r\n"), s("HD\r\n"),
			c("ms foo 2 ME\r\nhi\r\n"), s("NS\r\n"),
			c("ms foo 2 C99\r\nhi\r\n"), s("EX\r\n"),
			c("md foo\r\n"), s("HD\r\n"),
			c("md foo\r\n"), s("NF\r\n"),
			c("ma cnt D5 v\r\n"), s("VA 2\r\n15\r\n"),
			c("ma nope\r\n"), s("NF\r\n"),
			c("me foo\r\n"), s("ME foo exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n"),
			c("mn\r\n"), s("MN\r\n"),
		},
		want: []string{
			`cmd 1 ms foo flags=1 exp=90 len=2 meta="T90 F1"`, "reply 1 ms HD stored=true",
			`cmd 2 ms foo len=2 meta="ME"`, "reply 2 ms NS stored=false",
			`cmd 3 ms foo len=2 cas=99 meta="C99"`, "reply 3 ms EX stored=false",
			"cmd 4 md foo", "reply 4 md HD",
			"cmd 5 md foo", "reply 5 md NF",
			`cmd 6 ma cnt delta=5 meta="D5 v"`, "reply 6 ma VA number=15",
			"cmd 7 ma nope delta=1", "reply 7 ma NF",
			"cmd 8 me foo", "reply 8 me ME",
			"cmd 9 mn", "reply 9 mn MN",
		},
	},
	{
		name: "meta quiet pipeline with opaque and key flags",
		steps: []step{
			c("mg a v q O1\r\nmg b v q O2\r\nmg c v q k\r\nms d 1 q\r\nx\r\nmd e q\r\nmn\r\n"),
			s("VA 1 O2\r\nx\r\nVA 1 kc\r\ny\r\nMN\r\n"),
		},
		want: []string{
			`cmd 1 mg a quiet meta="v q O1" opaque=1`,
			`cmd 2 mg b quiet meta="v q O2" opaque=2`,
			`cmd 3 mg c quiet meta="v q k"`,
			`cmd 4 ms d len=1 quiet meta="q"`,
			`cmd 5 md e quiet meta="q"`,
			"cmd 6 mn",
			"reply 1 mg EN miss=a opaque=1 implied",
			`reply 2 mg VA items=b:1 hit=b meta="O2" opaque=2`,
			`reply 3 mg VA items=c:1 hit=c meta="kc"`,
			"reply 4 ms HD stored=true implied",
			"reply 5 md HD implied",
			"reply 6 mn MN",
		},
	},
	{
		name:  "meta quiet get answered anyway",
		steps: []step{c("mg a v q\r\nmn\r\n"), s("EN\r\nMN\r\n")},
		want: []string{
			`cmd 1 mg a quiet meta="v q"`, "cmd 2 mn",
			"reply 1 mg EN miss=a", "reply 2 mn MN",
		},
	},
	{
		name: "a VALUE key names its get when a reply is missing",
		steps: []step{
			c("set a 0 0 1\r\nx\r\nget a\r\nget b\r\n"),
			s("VALUE b 0 1\r\nx\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 set a len=1", "cmd 2 get a", "cmd 3 get b",
			"reply 3 get END items=b:1 hit=b",
		},
	},
	{
		name: "meta quiet set that fails is answered",
		steps: []step{
			c("ms a 1 q MR\r\nx\r\nmn\r\n"),
			s("NS\r\nMN\r\n"),
		},
		want: []string{
			`cmd 1 ms a len=1 quiet meta="q MR"`,
			`cmd 2 mn`,
			"reply 1 ms NS stored=false",
			"reply 2 mn MN",
		},
	},

	// Binary protocol.
	{
		name: "binary get hit and miss, getk",
		steps: []step{
			c(binReq(0x00, "k", nil, "", 1, 0)),
			s(binRes(0x00, 0, "", be32(7), "abc", 1, 55)),
			c(binReq(0x00, "nokey", nil, "", 2, 0)),
			s(binRes(0x00, 1, "", nil, "Not found", 2, 0)),
			c(binReq(0x0c, "k", nil, "", 3, 0)),
			s(binRes(0x0c, 0, "k", be32(7), "abc", 3, 55)),
		},
		want: []string{
			"cmd 1 get k binary opaque=1",
			"reply 1 get NO_ERROR items=k:3 hit=k binary opaque=1",
			"cmd 2 get nokey binary opaque=2",
			`reply 2 get KEY_NOT_FOUND miss=nokey error="Not found" binary opaque=2`,
			"cmd 3 get k binary opaque=3",
			"reply 3 get NO_ERROR items=k:3 hit=k binary opaque=3",
		},
	},
	{
		name: "binary set, add, delete, incr, touch, version, noop",
		steps: []step{
			c(binReq(0x01, "k", append(be32(5), be32(100)...), "hello", 7, 0)),
			s(binRes(0x01, 0, "", nil, "", 7, 9)),
			c(binReq(0x02, "k", append(be32(0), be32(0)...), "x", 8, 0)),
			s(binRes(0x02, 2, "", nil, "Data exists for key.", 8, 0)),
			c(binReq(0x04, "k", nil, "", 9, 0)),
			s(binRes(0x04, 0, "", nil, "", 9, 0)),
			c(binReq(0x05, "n", append(be64(3, 0), be32(0)...), "", 10, 0)),
			s(binRes(0x05, 0, "", nil, string(be64(13)), 10, 0)),
			c(binReq(0x1c, "k", be32(60), "", 11, 0)),
			s(binRes(0x1c, 0, "", nil, "", 11, 0)),
			c(binReq(0x0b, "", nil, "", 12, 0)),
			s(binRes(0x0b, 0, "", nil, "1.6.18", 12, 0)),
			c(binReq(0x0a, "", nil, "", 13, 0)),
			s(binRes(0x0a, 0, "", nil, "", 13, 0)),
		},
		want: []string{
			"cmd 1 set k flags=5 exp=100 len=5 binary opaque=7",
			"reply 1 set NO_ERROR stored=true binary opaque=7",
			"cmd 2 add k len=1 binary opaque=8",
			`reply 2 add KEY_EXISTS stored=false error="Data exists for key." binary opaque=8`,
			"cmd 3 delete k binary opaque=9",
			"reply 3 delete NO_ERROR binary opaque=9",
			"cmd 4 incr n delta=3 binary opaque=10",
			"reply 4 incr NO_ERROR number=13 binary opaque=10",
			"cmd 5 touch k exp=60 binary opaque=11",
			"reply 5 touch NO_ERROR binary opaque=11",
			"cmd 6 version binary opaque=12",
			"reply 6 version NO_ERROR version=1.6.18 binary opaque=12",
			"cmd 7 noop binary opaque=13",
			"reply 7 noop NO_ERROR binary opaque=13",
		},
	},
	{
		name: "binary quiet gets with opaque, ended by noop",
		steps: []step{
			c(binReq(0x09, "a", nil, "", 1, 0) + binReq(0x09, "b", nil, "", 2, 0) +
				binReq(0x0d, "c", nil, "", 3, 0) + binReq(0x0a, "", nil, "", 4, 0)),
			s(binRes(0x0d, 0, "c", be32(0), "ccc", 3, 1) + binRes(0x0a, 0, "", nil, "", 4, 0)),
		},
		want: []string{
			"cmd 1 get a quiet binary opaque=1",
			"cmd 2 get b quiet binary opaque=2",
			"cmd 3 get c quiet binary opaque=3",
			"cmd 4 noop binary opaque=4",
			"reply 1 get KEY_NOT_FOUND miss=a binary opaque=1 implied",
			"reply 2 get KEY_NOT_FOUND miss=b binary opaque=2 implied",
			"reply 3 get NO_ERROR items=c:3 hit=c binary opaque=3",
			"reply 4 noop NO_ERROR binary opaque=4",
		},
	},
	{
		name: "binary quiet gets without opaque",
		steps: []step{
			c(binReq(0x09, "a", nil, "", 0, 0) + binReq(0x09, "b", nil, "", 0, 0) + binReq(0x0a, "", nil, "", 0, 0)),
			s(binRes(0x09, 0, "", be32(0), "aa", 0, 1) + binRes(0x0a, 0, "", nil, "", 0, 0)),
		},
		want: []string{
			"cmd 1 get a quiet binary opaque=0",
			"cmd 2 get b quiet binary opaque=0",
			"cmd 3 noop binary opaque=0",
			"reply 1 get NO_ERROR items=a:2 hit=a binary opaque=0",
			"reply 2 get KEY_NOT_FOUND miss=b binary opaque=0 implied",
			"reply 3 noop NO_ERROR binary opaque=0",
		},
	},
	{
		name: "binary quiet set that fails, stat group",
		steps: []step{
			c(binReq(0x11, "k", append(be32(0), be32(0)...), "v", 1, 0) + binReq(0x11, "j", append(be32(0), be32(0)...), "w", 2, 0) +
				binReq(0x0a, "", nil, "", 3, 0)),
			s(binRes(0x11, 5, "", nil, "Not stored.", 2, 0) + binRes(0x0a, 0, "", nil, "", 3, 0)),
			c(binReq(0x10, "", nil, "", 4, 0)),
			s(binRes(0x10, 0, "pid", nil, "1", 4, 0) + binRes(0x10, 0, "uptime", nil, "2", 4, 0) + binRes(0x10, 0, "", nil, "", 4, 0)),
		},
		want: []string{
			"cmd 1 set k len=1 quiet binary opaque=1",
			"cmd 2 set j len=1 quiet binary opaque=2",
			"cmd 3 noop binary opaque=3",
			"reply 1 set NO_ERROR stored=true binary opaque=1 implied",
			`reply 2 set ITEM_NOT_STORED stored=false error="Not stored." binary opaque=2`,
			"reply 3 noop NO_ERROR binary opaque=3",
			"cmd 4 stats binary opaque=4",
			"reply 4 stats NO_ERROR lines=2 binary opaque=4",
		},
	},
	{
		name: "binary SASL auth data is skipped",
		steps: []step{
			c(binReq(0x21, "PLAIN", nil, "\x00user\x00secret", 1, 0)),
			s(binRes(0x21, 0, "", nil, "Authenticated", 1, 0)),
		},
		want: []string{
			"cmd 1 sasl_auth PLAIN len=12 binary opaque=1",
			"reply 1 sasl_auth NO_ERROR binary opaque=1",
		},
	},

	// Robustness.
	{
		name:      "midstream: start inside a data block",
		midstream: true,
		steps: []step{
			c("xxxxx\"}}\r\nget k\r\n"),
			s("\r\nEND\r\n"),
		},
		want: []string{"cmd 1 get k", "reply 1 get END miss=k"},
	},
	{
		name:      "midstream: the first reply answers a command before the capture",
		midstream: true,
		steps: []step{
			s("xxxx\r\nEND\r\n"),
			c("get k\r\n"),
			s("VALUE k 0 1\r\nx\r\nEND\r\n"),
		},
		want: []string{"reply 0 - END", "cmd 1 get k", "reply 1 get END items=k:1 hit=k"},
	},
	{
		name:      "midstream: binary",
		midstream: true,
		steps: []step{
			c("\x00\x01tail of a value" + binReq(0x00, "k", nil, "", 1, 0)),
			s("zz" + binRes(0x00, 1, "", nil, "Not found", 1, 0)),
		},
		want: []string{
			"cmd 1 get k binary opaque=1",
			`reply 1 get KEY_NOT_FOUND miss=k error="Not found" binary opaque=1`,
		},
	},
	{
		name: "gap inside a data block of known length: no loss of sync",
		steps: []step{
			c("set k 0 0 10\r\nab"), gapC(6, "cd\r\n"),
			s("STORED\r\n"),
			c("get k\r\n"),
			s("VALUE k 0 10\r\nabc"), gapS(3, "defg\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 set k len=10", "reply 1 set STORED stored=true",
			"cmd 2 get k", "reply 2 get END items=k:10 hit=k",
		},
	},
	{
		name: "gap of unknown size inside a line",
		steps: []step{
			c("get k"), gapC(-1, "ey\r\nxyz\r\nget j\r\n"),
			s("END\r\n"),
		},
		want: []string{
			"warn bytes missing from the capture; skipping to the next command",
			"cmd 1 get j", "reply 1 get END miss=j",
		},
	},
	{
		name: "gap inside a reply: the reply is lost",
		steps: []step{
			c("get a\r\nget b\r\n"),
			s("VALUE a 0 5\r\n"), gapS(-1, "\r\nEND\r\n"),
		},
		want: []string{
			"cmd 1 get a", "cmd 2 get b",
			"warn bytes missing from the capture; skipping to the next reply",
			"reply 2 get END miss=b",
		},
	},
	{
		name: "hostile lengths",
		steps: []step{
			c("set k 0 0 5000000000\r\n"),
			s("SERVER_ERROR object too large for cache\r\n"),
			c("get k\r\n"),
			s("VALUE k 0 99999999999\r\n"),
			s("END\r\n"),
			c(binReq(0x01, "k", append(be32(0), be32(0)...), "", 2, 0)[:8] + "\xff\xff\xff\xff" + binReq(0x01, "k", append(be32(0), be32(0)...), "", 2, 0)[12:] + "\r\n"),
			c("get z\r\n"),
			s("END\r\n"),
		},
		want: []string{
			`cmd 1 set k error="data block too large"`,
			"warn set declares a 5000000000-byte data block (more than 1073741824); skipping to the next command",
			`reply 1 set SERVER_ERROR stored=false error="object too large for cache"`,
			"cmd 2 get k",
			"warn VALUE declares a 99999999999-byte data block (more than 1073741824); skipping to the next reply",
			"reply 2 get END miss=k",
			"warn binary request declares a 4294967286-byte value (more than 1073741824); skipping to the next command",
			"cmd 3 get z",
			"reply 3 get END miss=z",
		},
	},
	{
		name: "line too long",
		steps: []step{
			c("delete " + strings.Repeat("x", 9000) + "\r\nget k\r\n"),
			s("END\r\n"),
		},
		want: []string{
			"warn line longer than 8192 bytes; skipping to the next command",
			"cmd 1 get k", "reply 1 get END miss=k",
		},
	},
	{
		name: "garbage on the client side",
		steps: []step{
			c("\x01\x02\x03\r\nget k\r\n"),
			s("END\r\n"),
		},
		want: []string{
			"warn not a memcached command; skipping to the next command",
			"cmd 1 get k", "reply 1 get END miss=k",
		},
	},
	{
		name:  "command answered by a bare RST",
		steps: []step{c("get k\r\n"), rst()},
		want:  []string{"cmd 1 get k"},
	},
	{
		name:  "reply cut short by the end of the stream",
		steps: []step{c("get k\r\n"), s("VALUE k 0 100\r\nabc")},
		want:  []string{"cmd 1 get k", "warn reply cut short by the end of the stream"},
	},
	{
		name:  "command cut short by the end of the stream",
		steps: []step{c("set k 0 0 100\r\nabc")},
		want:  []string{`cmd 1 set k len=100 error="data block cut short"`, "warn command cut short by the end of the stream"},
	},
	{
		name: "reply before the end of the data block: reported after its command",
		steps: []step{
			c("set big 0 0 3000\r\n" + strings.Repeat("b", 1000)),
			s("SERVER_ERROR object too large for cache\r\n"),
			c(strings.Repeat("b", 2000) + "\r\nget k\r\n"),
			s("END\r\n"),
		},
		want: []string{
			"cmd 1 set big len=3000",
			`reply 1 set SERVER_ERROR stored=false error="object too large for cache"`,
			"cmd 2 get k",
			"reply 2 get END miss=k",
		},
	},
	{
		name: "reply with no command waiting",
		steps: []step{
			s("STORED\r\n"),
		},
		want: []string{"reply 0 - STORED"},
	},
}

func TestConversations(t *testing.T) {
	for _, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(tc.midstream, tc.steps, nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:%s\nwant:%s", show(got), show(tc.want))
			}
		})
	}
}

// TestSegmentation feeds every conversation byte by byte and in random
// splits: the events must be the same.
func TestSegmentation(t *testing.T) {
	r := newRand(1)
	for _, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			want := run(tc.midstream, tc.steps, nil)
			if got := run(tc.midstream, tc.steps, bytewise); !slices.Equal(got, want) {
				t.Errorf("byte by byte:\ngot:%s\nwant:%s", show(got), show(want))
			}
			for range 5 {
				if got := run(tc.midstream, tc.steps, randomSplit(r)); !slices.Equal(got, want) {
					t.Fatalf("random split:\ngot:%s\nwant:%s", show(got), show(want))
				}
			}
		})
	}
}

// TestTimes checks Start and End of messages spanning segments.
func TestTimes(t *testing.T) {
	at := func(ms int) event.Position {
		return event.Position{Time: t0.Add(time.Duration(ms) * time.Millisecond), Frame: event.FrameRef{Number: ms}}
	}
	value := strings.Repeat("v", 2000)
	segs := []seg{
		{data: []byte("set k 0 300 2000 \r\n" + value[:1000]), pos: at(1)},
		{data: []byte(value[1000:] + "\r"), pos: at(2)},
		{data: []byte("\n"), pos: at(3)},
		{server: true, data: []byte("STORED\r\n"), pos: at(4)},
		{data: []byte("get k\r\n"), pos: at(5)},
		{server: true, data: []byte("VALUE k 0 2000\r\n" + value[:500]), pos: at(6)},
		{server: true, data: []byte(value[500:]), pos: at(7)},
		{server: true, data: []byte("\r\nEND\r\n"), pos: at(8)},
	}
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
	events := replay(conn, segs)
	want := []struct {
		desc       string
		start, end int
	}{
		{"cmd 1 set k exp=300 len=2000", 1, 3},
		{"reply 1 set STORED stored=true", 4, 4},
		{"cmd 2 get k", 5, 5},
		{"reply 2 get END items=k:2000 hit=k", 6, 8},
	}
	if len(events) != len(want) {
		t.Fatalf("got %q", describeAll(events))
	}
	for i, w := range want {
		e := events[i]
		if d := describe(e); d != w.desc {
			t.Errorf("event %d: %s, want %s", i, d, w.desc)
		}
		if e.Start != at(w.start) || !e.End.Equal(at(w.end).Time) {
			t.Errorf("%s: start frame %d end %v, want frames %d..%d", w.desc, e.Start.Frame.Number, e.End, w.start, w.end)
		}
	}
}

// TestHit checks the Reply helpers.
func TestHit(t *testing.T) {
	conn := &event.Conn{ID: 1, Client: testClient, Server: testServer}
	events := replay(conn, segments([]step{c("get a b\r\n"), s("VALUE b 0 1\r\nx\r\nEND\r\n"), c("set a 0 0 1\r\nx\r\n"), s("STORED\r\n")}, nil))
	if len(events) != 4 {
		t.Fatalf("got %q", describeAll(events))
	}
	get := events[1].Data.(*Reply)
	for _, tc := range []struct {
		key        string
		hit, known bool
	}{{"a", false, true}, {"b", true, true}, {"c", false, false}} {
		if hit, known := get.Hit(tc.key); hit != tc.hit || known != tc.known {
			t.Errorf("Hit(%q) = %v, %v; want %v, %v", tc.key, hit, known, tc.hit, tc.known)
		}
	}
	if !get.IsLookup() || get.IsStore() || !events[0].Data.(*Command).IsLookup() {
		t.Error("get is not a lookup")
	}
	set := events[3].Data.(*Reply)
	if !set.IsStore() || !events[2].Data.(*Command).IsStore() || set.Stored == nil || !*set.Stored {
		t.Errorf("set reply %+v", set)
	}
	if _, known := set.Hit("a"); known {
		t.Error("a store says something about hits")
	}
	if !(&Command{Op: "md"}).IsDelete() || !(&Command{Op: "delete"}).IsDelete() {
		t.Error("delete is not a delete")
	}
}
