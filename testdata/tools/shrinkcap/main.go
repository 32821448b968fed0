// Command shrinkcap copies a pcap or pcapng capture into testdata, gzip
// compressed, with the bytes of bulk image transfers zeroed so that the
// result compresses to a small file: every TCP segment to or from the
// Glance port (9292) whose payload is at least 1 KiB and does not start an
// HTTP message keeps its length but not its content. Everything else —
// headers, JSON, memcached, MySQL, timing, TCP behaviour — is untouched.
//
//	go run ./testdata/tools/shrinkcap IN OUT.gz
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: shrinkcap IN OUT.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "shrinkcap:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	zeroed := 0
	if len(data) >= 4 && bytes.Equal(data[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		zeroed = shrinkPcapng(data)
	} else {
		zeroed, err = shrinkPcap(data)
		if err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	st, _ := f.Stat()
	fmt.Printf("%s: %d bytes, %d segments zeroed → %s: %d bytes\n", in, len(data), zeroed, out, st.Size())
	return f.Close()
}

// shrinkPcap zeroes bulk payloads in place in a classic pcap file.
func shrinkPcap(data []byte) (int, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	lt := r.LinkType()
	le := data[0] == 0xd4 || data[0] == 0x4d
	off := 24
	n := 0
	for off+16 <= len(data) {
		var caplen int
		if le {
			caplen = int(uint32(data[off+8]) | uint32(data[off+9])<<8 | uint32(data[off+10])<<16 | uint32(data[off+11])<<24)
		} else {
			caplen = int(uint32(data[off+11]) | uint32(data[off+10])<<8 | uint32(data[off+9])<<16 | uint32(data[off+8])<<24)
		}
		frame := data[off+16 : off+16+caplen]
		if zeroBulk(frame, lt) {
			n++
		}
		off += 16 + caplen
	}
	return n, nil
}

// shrinkPcapng walks pcapng blocks; EPBs carry Ethernet frames here.
func shrinkPcapng(data []byte) int {
	n := 0
	off := 0
	links := []layers.LinkType{}
	for off+12 <= len(data) {
		typ := le32(data[off:])
		blen := int(le32(data[off+4:]))
		if blen < 12 || off+blen > len(data) {
			break
		}
		body := data[off+8 : off+blen-4]
		switch typ {
		case 1: // IDB
			links = append(links, layers.LinkType(uint16(body[0])|uint16(body[1])<<8))
		case 6: // EPB
			ifc := int(le32(body))
			caplen := int(le32(body[12:]))
			lt := layers.LinkTypeEthernet
			if ifc < len(links) {
				lt = links[ifc]
			}
			if zeroBulk(body[20:20+caplen], lt) {
				n++
			}
		}
		off += blen
	}
	return n
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

var starts = [][]byte{[]byte("HTTP/1."), []byte("GET "), []byte("PUT "), []byte("POST "), []byte("PATCH "), []byte("DELETE "), []byte("HEAD ")}

func zeroBulk(frame []byte, lt layers.LinkType) bool {
	p := gopacket.NewPacket(frame, lt, gopacket.NoCopy)
	tcp, ok := p.TransportLayer().(*layers.TCP)
	if !ok || (tcp.SrcPort != 9292 && tcp.DstPort != 9292) || len(tcp.Payload) < 1024 {
		return false
	}
	for _, s := range starts {
		if bytes.HasPrefix(tcp.Payload, s) {
			return false
		}
	}
	clear(tcp.Payload)
	return true
}

var _ = io.EOF
