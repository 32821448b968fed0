//go:build ignore

// gen_testdata cuts MySQL conversations out of the lab captures into the
// small files under testdata/ that the tests replay.
//
//	go run gen_testdata.go -list OUTDIR/image-save/lo.pcap
//	go run gen_testdata.go -captures OUTDIR
//
// OUTDIR is a folder of recordings written by `lab/record.sh all OUTDIR`.
//
// A conversation file is gzipped text: comment lines start with '#', a
// "conn" line says whether the capture holds the connection's start, and
// every TCP segment with payload is one line "c|s FRAME UNIXNANO HEX" (c =
// client to server, s = server to client), in capture order.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const mysqlPort = 3306

type segment struct {
	fromServer bool
	frame      int
	unixNano   int64
	data       []byte
}

type conn struct {
	client   netip.AddrPort
	syn      bool
	segments []segment
}

// readConns returns the MySQL connections of a pcap file, by client port,
// in order of first appearance.
func readConns(path string) ([]*conn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var (
		eth   layers.Ethernet
		ip4   layers.IPv4
		tcp   layers.TCP
		pl    gopacket.Payload
		found []gopacket.LayerType
		conns []*conn
	)
	byPort := map[uint16]*conn{}
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &tcp, &pl)
	parser.IgnoreUnsupported = true
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s frame %d: %w", path, frame, err)
		}
		found = found[:0]
		if err := parser.DecodeLayers(data, &found); err != nil {
			continue
		}
		if len(found) < 3 {
			continue
		}
		var fromServer bool
		var port uint16
		var addr netip.Addr
		switch {
		case tcp.DstPort == mysqlPort:
			port, addr = uint16(tcp.SrcPort), netip.AddrFrom4([4]byte(ip4.SrcIP.To4()))
		case tcp.SrcPort == mysqlPort:
			port, addr, fromServer = uint16(tcp.DstPort), netip.AddrFrom4([4]byte(ip4.DstIP.To4())), true
		default:
			continue
		}
		c := byPort[port]
		if c == nil {
			c = &conn{client: netip.AddrPortFrom(addr, port)}
			byPort[port] = c
			conns = append(conns, c)
		}
		if tcp.SYN && !tcp.ACK {
			c.syn = true
		}
		if len(tcp.Payload) > 0 {
			c.segments = append(c.segments, segment{fromServer, frame, ci.Timestamp.UnixNano(), append([]byte(nil), tcp.Payload...)})
		}
	}
	return conns, nil
}

// isCommand reports whether a client segment starts a command (sequence
// id 0).
func isCommand(s segment) bool {
	return !s.fromServer && len(s.data) >= 5 && s.data[3] == 0
}

func list(path string) error {
	conns, err := readConns(path)
	if err != nil {
		return err
	}
	for _, c := range conns {
		var cb, sb, cmds int
		for _, s := range c.segments {
			if s.fromServer {
				sb += len(s.data)
			} else {
				cb += len(s.data)
			}
			if isCommand(s) {
				cmds++
			}
		}
		first := ""
		for _, s := range c.segments {
			if !s.fromServer {
				first = fmt.Sprintf("%q", s.data[:min(len(s.data), 60)])
				break
			}
		}
		fmt.Printf("%s syn=%v segments=%d commands=%d client=%dB server=%dB first frame=%d %s\n",
			c.client, c.syn, len(c.segments), cmds, cb, sb, c.segments[0].frame, first)
	}
	return nil
}

type spec struct {
	scenario   string
	clientPort uint16
	name       string
	commands   int // keep the conversation up to the reply to this many commands
}

var specs = []spec{
	{"image-save", 41960, "keystone-login", 50},
	{"image-save", 41982, "glance-login", 30},
	{"image-list-warm", 49436, "keystone-midstream", 40},
	{"image-list-warm", 56152, "glance-midstream", 10},
}

func write(captures string, s spec) error {
	path := filepath.Join(captures, s.scenario, "lo.pcap")
	conns, err := readConns(path)
	if err != nil {
		return err
	}
	var c *conn
	for _, cc := range conns {
		if cc.client.Port() == s.clientPort {
			c = cc
			break
		}
	}
	if c == nil {
		return fmt.Errorf("%s: no connection from port %d", path, s.clientPort)
	}
	out, err := os.Create(filepath.Join("testdata", s.name+".conv.gz"))
	if err != nil {
		return err
	}
	defer out.Close()
	zw := gzip.NewWriter(out)
	w := bufio.NewWriter(zw)
	fmt.Fprintf(w, "# %s/lo.pcap, MySQL connection %s → :%d, first %d commands (gen_testdata.go)\n", s.scenario, c.client, mysqlPort, s.commands)
	fmt.Fprintf(w, "conn %s 127.0.0.1:%d midstream=%v\n", c.client, mysqlPort, !c.syn)
	cmds := 0
	for _, seg := range c.segments {
		if isCommand(seg) {
			cmds++
			if cmds > s.commands {
				break
			}
		}
		dir := "c"
		if seg.fromServer {
			dir = "s"
		}
		fmt.Fprintf(w, "%s %d %d %s\n", dir, seg.frame, seg.unixNano, hex.EncodeToString(seg.data))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Close()
}

func main() {
	listPath := flag.String("list", "", "list the MySQL connections of this pcap and exit")
	captures := flag.String("captures", "", "folder of the lab recordings (lab/record.sh all OUTDIR)")
	flag.Parse()
	if *listPath != "" {
		if err := list(*listPath); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *captures == "" {
		log.Fatal("-captures: name the folder lab/record.sh recorded into")
	}
	for _, s := range specs {
		if err := write(*captures, s); err != nil {
			log.Fatal(err)
		}
	}
}
