package stream

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/authflow/authflow/decode/event"
)

// The benchmarks count payload bytes (MB/s is TCP payload per second) and
// run one segment per operation unless said otherwise.

// drain is a Handler whose two directions consume everything: by copying
// it out (read) or by skipping it (skip, as a decoder skips a body).
type drain struct{ skip bool }

func (d drain) Client(r *Reader) { d.run(r) }
func (d drain) Server(r *Reader) { d.run(r) }

func (d drain) run(r *Reader) {
	buf := make([]byte, 32<<10)
	for {
		var err error
		if d.skip {
			_, _, err = r.Skip(1 << 62)
		} else {
			_, err = r.Read(buf)
		}
		if err != nil && !IsGap(err) {
			return
		}
	}
}

var discardSink = event.SinkFunc(func(*event.Event) {})

// BenchmarkFeed is the cost of handing bytes to a decoder coroutine: one
// Feed of chunk bytes per operation, read or skipped by the decoder.
func BenchmarkFeed(b *testing.B) {
	for _, mode := range []string{"read", "skip"} {
		for _, chunk := range []int{64, 1448, 64 << 10} {
			b.Run(fmt.Sprintf("%s/%d", mode, chunk), func(b *testing.B) {
				data := make([]byte, chunk)
				ctx := NewContext(&event.Conn{ID: 1}, discardSink)
				p := NewPipe(ctx, drain{skip: mode == "skip"})
				pos := event.Position{Time: time.Unix(1e9, 0)}
				b.SetBytes(int64(chunk))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					pos.Frame.Number = i + 1
					p.Feed(true, 0, data, pos)
				}
				b.StopTimer()
				p.Close()
			})
		}
	}
}

// conn4 is a synthetic IPv4 connection fed straight to an Assembler.
type conn4 struct {
	a                *Assembler
	cflow, sflow     gopacket.Flow
	cli, srv         layers.TCP
	cliSeq, srvSeq   uint32
	t                time.Time
	frame            int
	payload, request []byte
}

func newConn4(a *Assembler, cport uint16, t time.Time) *conn4 {
	cip, sip := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
	c := &conn4{
		a:     a,
		cflow: gopacket.NewFlow(layers.EndpointIPv4, cip, sip),
		sflow: gopacket.NewFlow(layers.EndpointIPv4, sip, cip),
		t:     t, cliSeq: 1000, srvSeq: 500000,
	}
	c.cli = layers.TCP{SrcPort: layers.TCPPort(cport), DstPort: 9292}
	c.srv = layers.TCP{SrcPort: 9292, DstPort: layers.TCPPort(cport)}
	return c
}

// send feeds one segment of n payload bytes (from data) with the flags.
func (c *conn4) send(fromServer bool, data []byte, syn, fin bool) {
	tcp, flow, seq, ack := &c.cli, c.cflow, &c.cliSeq, c.srvSeq
	if fromServer {
		tcp, flow, seq, ack = &c.srv, c.sflow, &c.srvSeq, c.cliSeq
	}
	tcp.SYN, tcp.FIN, tcp.ACK = syn, fin, !(syn && !fromServer)
	tcp.Seq, tcp.Ack = *seq, ack
	tcp.Payload = data
	*seq += uint32(len(data))
	if syn || fin {
		*seq++
	}
	c.frame++
	c.t = c.t.Add(7 * time.Microsecond)
	c.a.Assemble(flow, tcp, event.Position{Time: c.t, Frame: event.FrameRef{Number: c.frame}})
}

func (c *conn4) handshake() {
	c.send(false, nil, true, false)
	c.send(true, nil, true, false)
	c.send(false, nil, false, false)
}

// BenchmarkReassembly sends a download through reassembly: 1448-byte
// segments from the server, an ACK from the client every two. The
// connection's decoder is none (reassembly alone), one that skips what it
// gets or one that reads it; "ooo" swaps one pair of segments in 64.
func BenchmarkReassembly(b *testing.B) {
	for _, tc := range []struct {
		name    string
		handler Handler
		ooo     bool
	}{
		{"nodecoder", nil, false},
		{"skip", drain{skip: true}, false},
		{"read", drain{}, false},
		{"skip-ooo", drain{skip: true}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a := NewAssembler(func(*Context) Handler { return tc.handler }, discardSink, Options{})
			c := newConn4(a, 40000, time.Unix(1e9, 0))
			c.handshake()
			seg := make([]byte, 1448)
			b.SetBytes(int64(len(seg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if tc.ooo && i%64 == 10 && i+1 < b.N {
					// The next segment is captured before this one.
					seq := c.srvSeq
					c.srvSeq += uint32(len(seg))
					c.send(true, seg, false, false)
					c.srvSeq = seq
					c.send(true, seg, false, false)
					c.srvSeq += uint32(len(seg))
					i++
				} else {
					c.send(true, seg, false, false)
				}
				if i%2 == 1 {
					c.send(false, nil, false, false)
				}
			}
			b.StopTimer()
			a.Close()
		})
	}
}

// BenchmarkConnections runs short connections through reassembly and a
// draining decoder, one per operation: handshake, a 600-byte request, a
// 2 KB response, FINs (like a token validation on keystone).
func BenchmarkConnections(b *testing.B) {
	req, resp := make([]byte, 600), make([]byte, 2100)
	a := NewAssembler(func(*Context) Handler { return drain{} }, discardSink, Options{})
	t := time.Unix(1e9, 0)
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c := newConn4(a, uint16(32768+i%28000), t)
		c.handshake()
		c.send(false, req, false, false)
		c.send(true, nil, false, false)
		c.send(true, resp, false, false)
		c.send(false, nil, false, false)
		c.send(true, nil, false, true)
		c.send(false, nil, false, true)
		c.send(true, nil, false, false)
		t = c.t.Add(time.Millisecond)
	}
	b.StopTimer()
	a.Close()
}
