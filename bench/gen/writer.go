package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// emitFunc writes one packet captured at t.
type emitFunc func(t time.Time, data []byte) error

// writer writes a pcap (tcpdump's format: microseconds, snaplen 262144) or
// a pcapng file with one interface block per interface (dumpcap's format:
// nanoseconds).
type writer struct {
	f       *os.File
	bw      *bufio.Writer
	pcap    *pcapgo.Writer
	ng      *pcapgo.NgWriter
	ifaces  []string
	counts  []uint64
	packets int64
	last    time.Time
}

const snaplen = 262144

func createWriter(name string, ng bool, ifaces []string) (*writer, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	w := &writer{f: f, bw: bufio.NewWriterSize(f, 1<<20), ifaces: ifaces, counts: make([]uint64, len(ifaces))}
	if !ng {
		w.pcap = pcapgo.NewWriter(w.bw)
		if err := w.pcap.WriteFileHeader(snaplen, layers.LinkTypeEthernet); err != nil {
			f.Close()
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
		return w, nil
	}
	intf := func(n string) pcapgo.NgInterface {
		return pcapgo.NgInterface{Name: n, OS: "Linux 6.1.0-27-amd64", LinkType: layers.LinkTypeEthernet, SnapLength: snaplen, TimestampResolution: 9}
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: "x86_64", OS: "Linux 6.1.0-27-amd64", Application: "Dumpcap (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u1)",
	}}
	if w.ng, err = pcapgo.NewNgWriterInterface(w.bw, intf(ifaces[0]), opts); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	for _, n := range ifaces[1:] {
		if _, err := w.ng.AddInterface(intf(n)); err != nil {
			f.Close()
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return w, nil
}

// emit returns the emitFunc for interface iface.
func (w *writer) emit(iface int) emitFunc {
	return func(t time.Time, data []byte) error {
		ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(data), Length: len(data), InterfaceIndex: iface}
		w.packets++
		w.counts[iface]++
		w.last = t
		if w.ng != nil {
			return w.ng.WritePacket(ci, data)
		}
		return w.pcap.WritePacket(ci, data)
	}
}

func (w *writer) close() error {
	var err error
	if w.ng != nil {
		for i := range w.ifaces {
			if err == nil {
				err = w.ng.WriteInterfaceStats(i, pcapgo.NgInterfaceStatistics{
					LastUpdate: w.last, PacketsReceived: w.counts[i], PacketsDropped: 0,
				})
			}
		}
		if err == nil {
			err = w.ng.Flush()
		}
	}
	if err == nil {
		err = w.bw.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}

func (w *writer) size() int64 {
	st, err := os.Stat(w.f.Name())
	if err != nil {
		return 0
	}
	return st.Size()
}

// copyPackets writes real packets as they were captured.
func copyPackets(pkts []*tpacket, emit emitFunc) error {
	for _, p := range pkts {
		if err := emit(p.ci.Timestamp, p.data); err != nil {
			return err
		}
	}
	return nil
}

// merger interleaves a stream of packets with a fixed list of real packets
// (the loopback side) by time, as a capture of both interfaces does.
type merger struct {
	rest  []*tpacket
	iface int
	out   emitFunc // the stream's interface
	other emitFunc // the list's interface
}

func (m *merger) emit(t time.Time, data []byte) error {
	for len(m.rest) > 0 && !m.rest[0].ci.Timestamp.After(t) {
		if err := m.other(m.rest[0].ci.Timestamp, m.rest[0].data); err != nil {
			return err
		}
		m.rest = m.rest[1:]
	}
	return m.out(t, data)
}

func (m *merger) flush() error {
	err := copyPackets(m.rest, m.other)
	m.rest = nil
	return err
}
