package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow"
)

// tpacket is one packet of a real capture, decoded.
type tpacket struct {
	ci   gopacket.CaptureInfo
	data []byte
	eth  *layers.Ethernet
	ip   *layers.IPv4
	tcp  *layers.TCP
}

// payload is the TCP payload, or nil.
func (p *tpacket) payload() []byte {
	if p.tcp == nil {
		return nil
	}
	return p.tcp.Payload
}

// template is the real image-save capture the generators copy and imitate.
type template struct {
	ens, lo []*tpacket
}

// loadTemplate reads the image-save example embedded in authflow.
func loadTemplate() (*template, error) {
	ex, ok := authflow.LoadExample("image-save")
	if !ok {
		return nil, errors.New("the image-save example is not embedded in authflow")
	}
	t := &template{}
	for _, name := range ex.Captures {
		pkts, err := readCapture(ex.FS, name)
		if err != nil {
			return nil, err
		}
		switch path.Base(name) {
		case "ens.pcap.gz":
			t.ens = pkts
		case "lo.pcap.gz":
			t.lo = pkts
		}
	}
	if t.ens == nil || t.lo == nil {
		return nil, errors.New("image-save example: ens.pcap.gz or lo.pcap.gz missing")
	}
	return t, nil
}

func readCapture(fsys fs.FS, name string) ([]*tpacket, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r, err := pcapgo.NewReader(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("%s: link type %v, want Ethernet", name, r.LinkType())
	}
	var out []*tpacket
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		p := &tpacket{ci: ci, data: data}
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		p.eth, _ = pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		p.ip, _ = pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		p.tcp, _ = pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		out = append(out, p)
	}
}

// tsOption returns the TSval and TSecr of a TCP header.
func tsOption(tcp *layers.TCP) (val, ecr uint32, ok bool) {
	for _, o := range tcp.Options {
		if o.OptionType == layers.TCPOptionKindTimestamps && len(o.OptionData) == 8 {
			d := o.OptionData
			val = uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
			ecr = uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])
			return val, ecr, true
		}
	}
	return 0, 0, false
}
