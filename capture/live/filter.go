package live

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// DefaultPorts returns the TCP ports captured when Options.Ports is empty:
// the usual OpenStack API ports (Keystone 5000 and 35357, Glance 9292, Nova
// 8774 and 8775, Neutron 9696, Placement 8778, Cinder 8776, Swift 8080) plus
// memcached (11211) and MySQL/MariaDB (3306).
func DefaultPorts() []uint16 {
	return []uint16{5000, 35357, 9292, 8774, 8775, 9696, 8778, 8776, 8080, 11211, 3306}
}

// MaxPorts is the largest number of distinct ports a filter can hold.
const MaxPorts = 1000

// Ethernet types and IP protocol numbers the filter looks at.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100 // 802.1Q
	etherTypeQinQ   = 0x88a8 // 802.1ad
	ipProtocolTCP   = 6
	ethHeaderLen    = 14
	vlanTagLen      = 4
	ipv6HeaderLen   = 40
	ipv4FragOffMask = 0x1fff
)

// BuildFilter returns the classic BPF program attached to each capture
// socket. The program keeps at most snapLen bytes of each accepted frame.
//
// Unless all is set, it accepts only TCP over IPv4 or IPv6 (optionally
// behind one or two 802.1Q/802.1ad VLAN tags) whose source or destination
// port is in ports. IPv4 fragments other than the first, and IPv6 packets
// whose first next header is not TCP, are rejected, as libpcap's "tcp port"
// does. With loopback set, frames the kernel reports as PACKET_OUTGOING are
// rejected, because on lo every packet is seen once leaving and once
// arriving.
func BuildFilter(ports []uint16, all, loopback bool, snapLen uint32) ([]bpf.Instruction, error) {
	if snapLen == 0 {
		return nil, fmt.Errorf("build filter: snap length is zero")
	}
	var a assembler
	if loopback {
		a.add(bpf.LoadExtension{Num: bpf.ExtType})
		a.jump(bpf.JumpEqual, unix.PACKET_OUTGOING, "drop", "")
	}
	if all {
		a.add(bpf.RetConstant{Val: snapLen})
		a.label("drop")
		a.add(bpf.RetConstant{Val: 0})
		return a.resolve()
	}
	ports = normalizePorts(ports)
	if len(ports) == 0 {
		return nil, fmt.Errorf("build filter: no ports")
	}
	if len(ports) > MaxPorts {
		return nil, fmt.Errorf("build filter: %d ports, at most %d allowed", len(ports), MaxPorts)
	}

	// A holds the Ethernet type, X the offset of the layer-3 header.
	a.add(bpf.LoadAbsolute{Off: 12, Size: 2})
	a.add(bpf.LoadConstant{Dst: bpf.RegX, Val: ethHeaderLen})
	a.jump(bpf.JumpEqual, etherTypeVLAN, "vlan1", "")
	a.jump(bpf.JumpEqual, etherTypeQinQ, "vlan1", "l3")
	a.label("vlan1")
	a.add(bpf.LoadAbsolute{Off: 12 + vlanTagLen, Size: 2})
	a.add(bpf.LoadConstant{Dst: bpf.RegX, Val: ethHeaderLen + vlanTagLen})
	a.jump(bpf.JumpEqual, etherTypeVLAN, "vlan2", "")
	a.jump(bpf.JumpEqual, etherTypeQinQ, "vlan2", "l3")
	a.label("vlan2")
	a.add(bpf.LoadAbsolute{Off: 12 + 2*vlanTagLen, Size: 2})
	a.add(bpf.LoadConstant{Dst: bpf.RegX, Val: ethHeaderLen + 2*vlanTagLen})
	a.label("l3")
	a.jump(bpf.JumpEqual, etherTypeIPv4, "ipv4", "")
	a.jump(bpf.JumpEqual, etherTypeIPv6, "ipv6", "drop")

	// IPv4: protocol TCP, first fragment; X = X + 4*IHL.
	a.label("ipv4")
	a.add(bpf.LoadIndirect{Off: 9, Size: 1})
	a.jump(bpf.JumpEqual, ipProtocolTCP, "", "drop")
	a.add(bpf.LoadIndirect{Off: 6, Size: 2})
	a.jump(bpf.JumpBitsSet, ipv4FragOffMask, "drop", "")
	a.add(bpf.LoadIndirect{Off: 0, Size: 1})
	a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f})
	a.add(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
	a.add(bpf.ALUOpX{Op: bpf.ALUOpAdd})
	a.add(bpf.TAX{})
	a.goTo("ports")

	// IPv6: next header TCP (no extension headers); X = X + 40.
	a.label("ipv6")
	a.add(bpf.LoadIndirect{Off: 6, Size: 1})
	a.jump(bpf.JumpEqual, ipProtocolTCP, "", "drop")
	a.add(bpf.TXA{})
	a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: ipv6HeaderLen})
	a.add(bpf.TAX{})
	a.goTo("ports")

	a.label("drop")
	a.add(bpf.RetConstant{Val: 0})

	// X is the offset of the TCP header. Each port test is a short skip
	// over its own accept, so the program has no long jumps however many
	// ports there are.
	a.label("ports")
	for _, off := range []uint32{0, 2} { // source port, destination port
		a.add(bpf.LoadIndirect{Off: off, Size: 2})
		for _, p := range ports {
			a.add(bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(p), SkipTrue: 1})
			a.add(bpf.RetConstant{Val: snapLen})
		}
	}
	a.add(bpf.RetConstant{Val: 0})
	return a.resolve()
}

// DescribeFilter returns a libpcap-style expression equivalent to the
// filter BuildFilter makes for ports and all (without the loopback
// direction test), for recording in capture files. It is empty when all is
// set.
func DescribeFilter(ports []uint16, all bool) string {
	if all {
		return ""
	}
	ports = normalizePorts(ports)
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = "port " + strconv.Itoa(int(p))
	}
	return "tcp and (" + strings.Join(parts, " or ") + ")"
}

// normalizePorts returns the ports without zeros and duplicates, in the
// order first given.
func normalizePorts(ports []uint16) []uint16 {
	out := make([]uint16, 0, len(ports))
	for _, p := range ports {
		if p != 0 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// assembler builds a classic BPF program whose conditional jumps name
// labels, and resolves them to skip counts.
type assembler struct {
	ins    []bpf.Instruction
	jumps  []labelJump
	labels map[string]int
}

// labelJump is a jump at index at whose targets are labels; an empty label
// means the next instruction. An unconditional jump uses trueLabel only.
type labelJump struct {
	at                  int
	trueLabel, falseLab string
}

func (a *assembler) add(ins bpf.Instruction) {
	a.ins = append(a.ins, ins)
}

func (a *assembler) jump(cond bpf.JumpTest, val uint32, trueLabel, falseLabel string) {
	a.jumps = append(a.jumps, labelJump{at: len(a.ins), trueLabel: trueLabel, falseLab: falseLabel})
	a.add(bpf.JumpIf{Cond: cond, Val: val})
}

func (a *assembler) goTo(label string) {
	a.jumps = append(a.jumps, labelJump{at: len(a.ins), trueLabel: label})
	a.add(bpf.Jump{})
}

func (a *assembler) label(name string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[name] = len(a.ins)
}

func (a *assembler) resolve() ([]bpf.Instruction, error) {
	skip := func(at int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		target, ok := a.labels[label]
		if !ok {
			return 0, fmt.Errorf("build filter: undefined label %q", label)
		}
		n := target - at - 1
		if n < 0 || n > 255 {
			return 0, fmt.Errorf("build filter: jump to %q out of range (%d)", label, n)
		}
		return uint8(n), nil
	}
	for _, j := range a.jumps {
		if _, ok := a.ins[j.at].(bpf.Jump); ok {
			n, err := skip(j.at, j.trueLabel)
			if err != nil {
				return nil, err
			}
			a.ins[j.at] = bpf.Jump{Skip: uint32(n)}
			continue
		}
		ins := a.ins[j.at].(bpf.JumpIf)
		var err error
		if ins.SkipTrue, err = skip(j.at, j.trueLabel); err != nil {
			return nil, err
		}
		if ins.SkipFalse, err = skip(j.at, j.falseLab); err != nil {
			return nil, err
		}
		a.ins[j.at] = ins
	}
	return a.ins, nil
}
