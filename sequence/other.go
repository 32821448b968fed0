package sequence

import (
	"github.com/authflow/authflow/decode/event"
)

// otherEvent turns non-HTTP events into exchanges.
func (b *builder) otherEvent(e *event.Event) {}

// otherCallee names the server of a non-HTTP exchange.
func (b *builder) otherCallee(x *exchange) *party { return nil }

// otherCaller names the caller of a non-HTTP connection when its protocol
// tells (a database login names its service).
func (b *builder) otherCaller(x *exchange) *party { return nil }

// fileCaller names the process behind file events.
func (b *builder) fileCaller(x *exchange, active []*exchange) *party { return nil }

// cacheKey is the memcached key of a cache exchange.
func (x *exchange) cacheKey() string { return "" }

// otherMessages draws a non-HTTP exchange.
func (b *builder) otherMessages(x *exchange) []*pending { return nil }
