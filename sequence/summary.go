package sequence

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/decode/memcached"
	"github.com/authflow/authflow/decode/mysql"
)

// dbRun is a burst of database queries serving one step, drawn as one
// exchange.
type dbRun struct {
	xs []*exchange
}

// summarize groups the database queries a caller makes for one request,
// uninterrupted by other calls for that request, into runs.
func (b *builder) summarize() {
	if b.opts.DetailLevel > 0 {
		return
	}
	type runKey struct {
		caller, callee *party
		cause          any
	}
	last := map[any]*exchange{} // the latest exchange of each cause
	open := map[runKey]*dbRun{}
	for _, x := range b.xs {
		var ck any = x.cause
		if x.cause == nil {
			ck = x.caller
		}
		if prev := last[ck]; prev != nil && sameLookup(prev, x) {
			leader := prev
			if prev.leader != nil {
				leader = prev.leader
			}
			x.leader, x.skip = leader, true
			leader.repeats++
		}
		if x.proto == protoMySQL && x.req != nil && x.caller != nil {
			k := runKey{x.caller, x.callee, ck}
			r := open[k]
			if prev := last[ck]; r != nil && prev != nil && prev.member == r {
				r.xs = append(r.xs, x)
				x.skip = true
			} else {
				r = &dbRun{xs: []*exchange{x}}
				open[k] = r
				x.run = r
			}
			x.member = r
		}
		last[ck] = x
	}
	// A run of one query is drawn as that query.
	for _, x := range b.xs {
		if x.run != nil && len(x.run.xs) == 1 {
			x.run = nil
		}
	}
}

// runMessages draws a run of queries as one request and one answer.
func (b *builder) runMessages(r *dbRun) []*pending {
	first := r.xs[0]
	var tables []string
	seen := map[string]bool{}
	rows, errs := 0, 0
	var firstErr string
	var lastResult *pending
	var lastEnd time.Time
	var busy time.Duration
	for _, x := range r.xs {
		if c, ok := x.req.Data.(*mysql.Command); ok {
			for _, t := range c.Tables {
				if !seen[t] {
					seen[t] = true
					tables = append(tables, t)
				}
			}
		}
		if n := len(x.resps); n > 0 && x.req != nil {
			busy += x.resps[n-1].End.Sub(x.req.Start.Time)
		}
		for _, re := range x.resps {
			res := re.Data.(*mysql.Result)
			rows += res.Rows
			if res.Kind == mysql.KindError {
				errs++
				if firstErr == "" {
					firstErr = fmt.Sprintf("%d: %s", res.ErrorCode, mysql.RedactError(res.ErrorMessage))
				}
			}
			lastResult = &pending{at: re.Start, x: first}
			lastEnd = re.End
		}
	}
	m := b.message(first.caller, first.callee, first.req.Start, KindMySQLQuery)
	m.Count = len(r.xs)
	m.Tables = tables
	if s := b.conns[first.conn]; s != nil {
		m.Database = s.db
	}
	m.Label = plural(len(r.xs), "query")
	m.Label = strings.Replace(m.Label, "querys", "queries", 1)
	if len(tables) > 0 {
		shown := tables
		if len(shown) > 4 {
			shown = shown[:4]
		}
		m.Label += " (" + strings.Join(shown, ", ")
		if len(tables) > 4 {
			m.Label += ", …"
		}
		m.Label += ")"
	}
	out := []*pending{{msg: m, at: first.req.Start, x: first, isReq: true, cause: first.cause}}
	if lastResult != nil {
		res := b.message(first.callee, first.caller, lastResult.at, KindMySQLResult)
		res.Response = true
		res.End = lastEnd
		setDuration(res, first.req.Start.Time, lastEnd)
		res.Rows = &rows
		busyMS := msFloat(busy)
		res.BusyMS = &busyMS
		res.Label = "ok, " + plural(rows, "row")
		if errs > 0 {
			res.Error = firstErr
			res.Label = fmt.Sprintf("%s, %d failed (%s)", plural(rows, "row"), errs, firstErr)
			res.Notes = append(res.Notes, Note{Over: []string{res.From}, Text: b.t(noteDBError, firstErr)})
		}
		lastResult.msg = res
		lastResult.cause = first.cause
		out = append(out, lastResult)
	}
	return out
}

// sameLookup tells whether x repeats the cache lookup prev: same caller,
// same key, same outcome.
func sameLookup(prev, x *exchange) bool {
	if prev.proto != protoMemcached || x.proto != protoMemcached || prev.caller != x.caller || prev.req == nil || x.req == nil || prev.resp == nil || x.resp == nil {
		return false
	}
	pc, xc := prev.req.Data.(*memcached.Command), x.req.Data.(*memcached.Command)
	pr, xr := prev.resp.Data.(*memcached.Reply), x.resp.Data.(*memcached.Reply)
	return pc.IsLookup() && pc.Op == xc.Op && slices.Equal(pc.Keys, xc.Keys) && pr.Hits == xr.Hits && pr.Misses == xr.Misses
}
