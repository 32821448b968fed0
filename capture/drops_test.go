package capture

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
)

// isb adds an interface statistics block with the received and dropped
// counts (negative: option left out).
func (f *ngFile) isb(iface int, units uint64, received, dropped int64) {
	var body []byte
	body = f.bo.AppendUint32(body, uint32(iface))
	body = f.bo.AppendUint32(body, uint32(units>>32))
	body = f.bo.AppendUint32(body, uint32(units))
	if received >= 0 {
		body = f.option(body, 4, f.bo.AppendUint64(nil, uint64(received)))
	}
	if dropped >= 0 {
		body = f.option(body, 5, f.bo.AppendUint64(nil, uint64(dropped)))
	}
	body = f.option(body, 0, nil)
	f.block(5, body)
}

// TestDropsFromInterfaceStatistics: the kernel's drop counts a pcapng
// file records in its interface statistics blocks are read, per
// interface (they were ignored, and a capture with drops was analysed
// without a word).
func TestDropsFromInterfaceStatistics(t *testing.T) {
	t.Run("lab capture with --buffer-size 1", func(t *testing.T) {
		s := open(t, FileOptions{}, filepath.Join("..", "testdata", "captures", "kernel-drops", "drops.pcapng.gz"))
		drain(t, s)
		want := []InterfaceDrops{{Interface: "veth-ctl", Received: 3404, Dropped: 1103}, {Interface: "lo", Received: 709, Dropped: 62}}
		if got := s.Inputs()[0].Drops; !slices.Equal(got, want) {
			t.Errorf("drops %+v, want %+v", got, want)
		}
	})
	t.Run("crafted", func(t *testing.T) {
		f := &ngFile{}
		f.section(binary.LittleEndian)
		f.iface(1, 65535, 0, "eth0")
		f.iface(1, 65535, 0, "")
		f.iface(1, 65535, 0, "lo")
		f.packet(0, 1_000_000, frameData(1, 60), 0)
		f.packet(1, 1_000_001, frameData(2, 60), 0)
		f.packet(2, 1_000_002, frameData(3, 60), 0)
		f.isb(0, 1_500_000, 10, 2) // an early block; the last one counts
		f.isb(0, 2_000_000, 40, 7)
		f.isb(1, 2_000_000, 5, 3)
		f.isb(2, 2_000_000, 9, 0)   // no drops
		f.isb(2, 2_000_001, -1, -1) // nothing recorded: the count before stands
		s := open(t, FileOptions{}, writeTemp(t, "drops.pcapng", f.b))
		if n := len(drain(t, s)); n != 3 {
			t.Fatalf("%d packets", n)
		}
		want := []InterfaceDrops{{Interface: "eth0", Received: 40, Dropped: 7}, {Interface: "interface 1", Received: 5, Dropped: 3}}
		if got := s.Inputs()[0].Drops; !slices.Equal(got, want) {
			t.Errorf("drops %+v, want %+v", got, want)
		}
	})
	t.Run("pcap records none", func(t *testing.T) {
		s := open(t, FileOptions{}, filepath.Join("..", "testdata", "captures", "token-issue", "ens.pcap.gz"))
		drain(t, s)
		if got := s.Inputs()[0].Drops; got != nil {
			t.Errorf("drops %+v", got)
		}
	})
}
