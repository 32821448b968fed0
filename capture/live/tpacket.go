package live

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// lookupInterface finds an interface and checks that it is up and carries
// Ethernet frames.
func lookupInterface(name string) (Interface, error) {
	ifc := Interface{Name: name, LinkType: layers.LinkTypeEthernet}
	ifr, err := unix.NewIfreq(name)
	if err != nil || name == "" {
		return ifc, fmt.Errorf("interface %q: %w", name, ErrNoSuchInterface)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ifc, fmt.Errorf("interface %q: open socket: %w", name, err)
	}
	defer unix.Close(fd)
	ioctl := func(req uint) error {
		err := unix.IoctlIfreq(fd, req, ifr)
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("interface %q: %w", name, ErrNoSuchInterface)
		}
		if err != nil {
			return fmt.Errorf("interface %q: %w", name, err)
		}
		return nil
	}
	if err := ioctl(unix.SIOCGIFINDEX); err != nil {
		return ifc, err
	}
	ifc.Index = int(ifr.Uint32())
	if err := ioctl(unix.SIOCGIFFLAGS); err != nil {
		return ifc, err
	}
	flags := ifr.Uint16()
	ifc.Loopback = flags&unix.IFF_LOOPBACK != 0
	if flags&unix.IFF_UP == 0 {
		return ifc, fmt.Errorf("interface %q is down", name)
	}
	if err := ioctl(unix.SIOCGIFHWADDR); err != nil {
		return ifc, err
	}
	switch hw := ifr.Uint16(); hw {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
	default:
		return ifc, fmt.Errorf("interface %q: link type ARPHRD %d not supported (only Ethernet and loopback)", name, hw)
	}
	return ifc, nil
}

// openTPacket opens a TPACKET_V3 socket on ifc with the filter attached.
// It returns the time from which packets are filtered: frames stamped
// earlier may have been queued before the filter was attached.
func openTPacket(ifc Interface, cfg config) (*tpacketRing, time.Time, error) {
	prog, err := BuildFilter(cfg.ports, cfg.all, ifc.Loopback, cfg.snapLen)
	if err != nil {
		return nil, time.Time{}, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("assemble filter: %w", err)
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(ifc.Name),
		afpacket.TPacketVersion3,
		afpacket.OptBlockSize(RingBlockSize),
		afpacket.OptNumBlocks(cfg.numBlocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(pollTimeout),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, time.Time{}, &PrivilegeError{Root: os.Geteuid() == 0}
		}
		return nil, time.Time{}, fmt.Errorf("open capture socket on %s: %w", ifc.Name, err)
	}
	fail := func(what string, err error) (*tpacketRing, time.Time, error) {
		tp.Close()
		return nil, time.Time{}, fmt.Errorf("%s on %s: %w", what, ifc.Name, err)
	}
	if err := tp.SetBPF(raw); err != nil {
		return fail("attach filter", err)
	}
	if cfg.promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			return fail("set promiscuous mode", err)
		}
	}
	// Counters from before the filter was attached are discarded.
	if err := tp.InitSocketStats(); err != nil {
		return fail("reset socket statistics", err)
	}
	return &tpacketRing{tp: tp}, time.Now(), nil
}

// tpacketRing is a ring backed by an afpacket TPacket. It is used by one
// goroutine only.
type tpacketRing struct {
	tp *afpacket.TPacket
	// afpacket accumulates the counters in 32 bits; the deltas are
	// summed here in 64.
	lastRecv, lastDrop uint32
	recv, drop         uint64
}

func (t *tpacketRing) read() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := t.tp.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, errIdle
	}
	return data, ci, err
}

func (t *tpacketRing) stats() (received, dropped uint64, err error) {
	_, v3, err := t.tp.SocketStats()
	if err != nil {
		return 0, 0, fmt.Errorf("read socket statistics: %w", err)
	}
	recv, drop := uint32(v3.Packets()), uint32(v3.Drops())
	t.recv += uint64(recv - t.lastRecv)
	t.drop += uint64(drop - t.lastDrop)
	t.lastRecv, t.lastDrop = recv, drop
	return t.recv, t.drop, nil
}

func (t *tpacketRing) close() {
	t.tp.Close()
}
