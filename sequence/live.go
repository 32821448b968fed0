package sequence

import (
	"slices"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/secrets"
)

// Live draws a flow while its events are still coming, for the timeline
// of a live capture: each event that completes a step is followed by the
// messages it completes, named and labelled as the diagram of the same
// events names and labels them (the flow is rebuilt over the events kept).
// What the diagram sums up is drawn once it is whole: a file descriptor's
// reads and writes when it is closed, a burst of queries or repeated
// cache lookups when its caller does something else or its request is
// answered (or at Flush).
// Live is not safe for concurrent use.
type Live struct {
	opts   Options
	events []*event.Event
	shown  map[liveKey]bool
	// names are the participants' names of the latest build.
	names map[string]string
}

// maxLiveEvents bounds the events Live keeps; past it the older half is
// forgotten, and steps that began before are drawn without their start.
const maxLiveEvents = 20_000

// liveKey identifies a message across rebuilds: by its kind, and when
// its exchange (or the burst it sums up) began.
type liveKey struct {
	kind     Kind
	at       time.Time
	start    time.Time
	response bool
}

// NewLive returns a Live drawing with opts (with the durations on
// answers).
func NewLive(opts Options) *Live {
	opts.Timing = true
	if opts.Secrets == nil {
		opts.Secrets = secrets.New(opts.ShowSecrets)
	}
	opts.Secrets.AddSecret(opts.MemcacheSecret)
	return &Live{opts: opts, shown: map[liveKey]bool{}}
}

// Add takes one event and returns the messages it completes, in order.
func (l *Live) Add(e *event.Event) []*Message {
	if len(l.events) >= maxLiveEvents {
		l.events = append(l.events[:0], l.events[len(l.events)/2:]...)
	}
	l.opts.Secrets.Observe(e)
	// Events come nearly in time order (file events from another
	// source): insert each in its place.
	i := len(l.events)
	for i > 0 && compareEvents(l.events[i-1], e) > 0 {
		i--
	}
	l.events = slices.Insert(l.events, i, e)
	if !completes(e) {
		return nil
	}
	return l.draw(false)
}

// Flush returns the messages not drawn yet: the file reads and writes of
// descriptors still open.
func (l *Live) Flush() []*Message { return l.draw(true) }

// Name is the name of a participant of the messages returned.
func (l *Live) Name(id string) string { return l.names[id] }

// completes reports whether an event can complete a message: reads and
// writes of files only add to their descriptor's totals.
func completes(e *event.Event) bool {
	if fe, ok := e.Data.(*fsevent.Event); ok {
		return fe.Op != fsevent.Read && fe.Op != fsevent.Write
	}
	return e.Kind != event.Warning
}

func (l *Live) draw(all bool) []*Message {
	b := &builder{opts: l.opts, flow: &Flow{Warnings: []string{}}}
	if n := len(l.events); n > 0 {
		b.now = l.events[n-1].End
	}
	b.correlate(l.events)
	if !all {
		b.unsettled = b.growing()
	}
	b.starts = map[*Message]time.Time{}
	b.draw()
	b.flow.Scrub(l.opts.Secrets.Scrub)
	l.names = map[string]string{}
	for _, p := range b.flow.Participants {
		l.names[p.ID] = p.Name
	}
	var out []*Message
	for _, m := range b.flow.Messages {
		k := liveKey{kind: m.Kind, start: b.starts[m], response: m.Response}
		if !m.Response {
			k.at = m.Time
		}
		if l.shown[k] {
			continue
		}
		l.shown[k] = true
		out = append(out, m)
	}
	return out
}

// growing returns the exchanges whose messages may still change: the
// descriptors still open (their reads and writes are not summed up yet,
// their open is drawn), and the bursts of queries and cache lookups that
// can still grow (nothing drawn yet).
func (b *builder) growing() map[*exchange]bool {
	out := map[*exchange]bool{}
	for _, x := range b.fds {
		out[x] = true
	}
	if b.opts.DetailLevel > 0 {
		return out
	}
	// The latest exchange of each cause (or caller, without a cause), as
	// summarize groups them.
	last := map[any]*exchange{}
	key := func(x *exchange) any {
		if x.cause != nil {
			return x.cause
		}
		return x.caller
	}
	for _, x := range b.xs {
		last[key(x)] = x
	}
	for _, x := range b.xs {
		if x.skip || x.proto != protoMySQL && x.proto != protoMemcached {
			continue
		}
		if x.cause != nil && x.cause.resp != nil {
			continue
		}
		if x.proto == protoMySQL && x.cause != nil {
			// A burst of queries for a request can go on until it is
			// answered, even after a query on a connection not known yet
			// to be the same caller's.
			out[x] = true
			continue
		}
		l := last[key(x)]
		if l == x || l.leader == x || x.run != nil && l.member == x.run {
			out[x] = true
		}
	}
	return out
}
