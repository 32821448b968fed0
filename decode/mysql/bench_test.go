package mysql

import (
	"testing"

	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/stream"
)

// BenchmarkDecode decodes a real keystone connection (login and 50
// queries, as captured) per iteration.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"keystone-login", "keystone-midstream"} {
		b.Run(name, func(b *testing.B) {
			conv := loadConv(b, name)
			size := 0
			for _, s := range conv.segments {
				size += len(s.data)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			events := 0
			sink := event.SinkFunc(func(*event.Event) { events++ })
			for b.Loop() {
				conn := conv.conn
				ctx := stream.NewContext(&conn, sink)
				p := stream.NewPipe(ctx, New(ctx))
				for _, s := range conv.segments {
					p.Feed(s.fromServer, 0, s.data, s.pos)
				}
				p.Close()
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}
