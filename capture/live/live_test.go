package live

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/authflow/authflow/capture"
)

// netnsEnv names the test a child process runs inside its own network
// namespace.
const netnsEnv = "AUTHFLOW_LIVE_NETNS_TEST"

// inFreshNetns reports whether the test runs inside a fresh network
// namespace with lo up. If not, it runs the test again in a child process
// that has one, reports the child's result, and returns false; the test
// must then return. It skips the test without root.
func inFreshNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == t.Name() {
		setLinkUp(t, "lo")
		return true
	}
	if os.Geteuid() != 0 || CheckPrivileges() != nil {
		t.Skip("live capture test needs root (CAP_NET_RAW, and CAP_SYS_ADMIN for a network namespace)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
			t.Skipf("cannot create a network namespace: %v", err)
		}
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("in a new network namespace:\n%s", out.String())
	if err != nil {
		t.Fatalf("test in network namespace: %v", err)
	}
	if strings.Contains(out.String(), "--- SKIP: "+t.Name()) {
		t.Skip("skipped in the network namespace")
	}
	return false
}

// setLinkUp brings an interface up.
func setLinkUp(t *testing.T, name string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatalf("get flags of %s: %v", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("bring %s up: %v", name, err)
	}
}

// collector reads a capture to the end in the background, keeping copies.
type collector struct {
	done chan struct{}
	pkts []capture.Packet
	err  error
}

func collect(c *Capture) *collector {
	col := &collector{done: make(chan struct{})}
	go func() {
		defer close(col.done)
		for {
			p, err := c.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					col.err = err
				}
				return
			}
			q := *p
			q.Data = append([]byte(nil), p.Data...)
			col.pkts = append(col.pkts, q)
		}
	}()
	return col
}

func (col *collector) wait(t *testing.T) []capture.Packet {
	t.Helper()
	select {
	case <-col.done:
	case <-time.After(30 * time.Second):
		t.Fatal("capture did not end 30s after its context")
	}
	if col.err != nil {
		t.Fatalf("Next: %v", col.err)
	}
	return col.pkts
}

// recordingConn keeps every byte written to and read from a connection.
type recordingConn struct {
	net.Conn
	sent, received bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.received.Write(p[:n])
	return n, err
}

func (r *recordingConn) Write(p []byte) (int, error) {
	n, err := r.Conn.Write(p)
	r.sent.Write(p[:n])
	return n, err
}

// bodyFor is the response body for a path: big ones span many segments
// and GSO super-frames.
func bodyFor(path string) string {
	if strings.HasSuffix(path, "/big") {
		return strings.Repeat("0123456789abcdef", 20000) + path
	}
	return "body of " + path
}

// startHTTPServer serves bodyFor on 127.0.0.1 and returns the port.
func startHTTPServer(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, bodyFor(r.URL.Path))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// exchange sends the paths as keep-alive requests on one connection, the
// last one closing it, reads the responses, and returns what went each way.
func exchange(t *testing.T, port uint16, paths ...string) *recordingConn {
	t.Helper()
	conn, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	rc := &recordingConn{Conn: conn}
	br := bufio.NewReader(rc)
	for i, path := range paths {
		closing := ""
		if i == len(paths)-1 {
			closing = "Connection: close\r\n"
		}
		fmt.Fprintf(rc, "GET %s HTTP/1.1\r\nHost: keystone\r\nUser-Agent: authflow-test\r\n%s\r\n", path, closing)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response to %s: %v", path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != bodyFor(path) {
			t.Fatalf("response to %s: %d bytes, %v", path, len(body), err)
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil { // until the server closes
		t.Fatal(err)
	}
	conn.Close()
	return rc
}

// segment is one TCP segment's payload.
type segment struct {
	seq     uint32
	payload []byte
}

type flowKey struct{ src, dst uint16 }

// tcpStreams decodes the packets and returns, per direction, the payload
// in sequence order. A frame captured twice (byte for byte: same IP ID)
// is an error; TCP retransmissions, which lo does have under load, are
// merged if their bytes agree.
func tcpStreams(t *testing.T, pkts []capture.Packet) map[flowKey][]byte {
	t.Helper()
	segs := map[flowKey][]segment{}
	seen := map[string]int{}
	for i, p := range pkts {
		if prev, dup := seen[string(p.Data)]; dup {
			t.Errorf("packet %d (frame %d) is a copy of packet %d (frame %d)", i, p.Frame, prev, pkts[prev].Frame)
		}
		seen[string(p.Data)] = i
		pkt := gopacket.NewPacket(p.Data, p.LinkType, gopacket.NoCopy)
		tl, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			t.Fatalf("packet %d (input %d frame %d) is not TCP: %v", i, p.Input, p.Frame, pkt)
		}
		k := flowKey{uint16(tl.SrcPort), uint16(tl.DstPort)}
		if len(tl.Payload) > 0 {
			segs[k] = append(segs[k], segment{tl.Seq, tl.Payload})
		}
	}
	streams := map[flowKey][]byte{}
	for k, ss := range segs {
		sort.SliceStable(ss, func(i, j int) bool { return int32(ss[i].seq-ss[j].seq) < 0 })
		var b []byte
		first := ss[0].seq
		for _, s := range ss {
			off := int(int32(s.seq - first))
			switch {
			case off > len(b):
				t.Errorf("flow %d>%d: %d bytes missing before seq %d", k.src, k.dst, off-len(b), s.seq)
				return streams
			case off+len(s.payload) <= len(b):
				if !bytes.Equal(b[off:off+len(s.payload)], s.payload) {
					t.Errorf("flow %d>%d: retransmission at seq %d differs", k.src, k.dst, s.seq)
				}
			default:
				if !bytes.Equal(b[off:], s.payload[:len(b)-off]) {
					t.Errorf("flow %d>%d: retransmission at seq %d differs", k.src, k.dst, s.seq)
				}
				b = append(b, s.payload[len(b)-off:]...)
			}
		}
		streams[k] = b
	}
	return streams
}

func TestLiveLoopback(t *testing.T) {
	if !inFreshNetns(t) {
		return
	}
	port := startHTTPServer(t)
	otherPort := startHTTPServer(t) // not in the filter

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Open(ctx, Options{Interfaces: []string{"lo"}, Ports: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	col := collect(c)

	conns := []*recordingConn{
		exchange(t, port, "/v3", "/v3/auth/tokens", "/big"),
		exchange(t, port, "/big", "/v2/images"),
	}
	exchange(t, otherPort, "/not/captured")
	// Wait for the server side of the last connection to be closed too.
	time.Sleep(100 * time.Millisecond)
	cancel()
	pkts := col.wait(t)
	c.Close()

	if len(pkts) == 0 {
		t.Fatal("no packets captured")
	}
	for i, p := range pkts {
		if p.Input != 0 || p.Frame != i+1 || p.LinkType != layers.LinkTypeEthernet || p.Info.InterfaceIndex != 0 {
			t.Errorf("packet %d: input %d frame %d link %v iface %d", i, p.Input, p.Frame, p.LinkType, p.Info.InterfaceIndex)
		}
		// Ring order: the kernel may write a packet a few microseconds
		// out of timestamp order when two CPUs send at once.
		if i > 0 && p.Info.Timestamp.Before(pkts[i-1].Info.Timestamp.Add(-10*time.Millisecond)) {
			t.Errorf("packet %d older than packet %d by %v", i, i-1, pkts[i-1].Info.Timestamp.Sub(p.Info.Timestamp))
		}
	}
	streams := tcpStreams(t, pkts)
	if len(streams) != 2*len(conns) {
		t.Errorf("%d flows with payload, want %d", len(streams), 2*len(conns))
	}
	for _, rc := range conns {
		local := uint16(rc.LocalAddr().(*net.TCPAddr).Port)
		if got := streams[flowKey{local, port}]; !bytes.Equal(got, rc.sent.Bytes()) {
			t.Errorf("client %d -> server: captured %d bytes, sent %d; requests differ", local, len(got), rc.sent.Len())
		}
		if got := streams[flowKey{port, local}]; !bytes.Equal(got, rc.received.Bytes()) {
			t.Errorf("server -> client %d: captured %d bytes, received %d; responses differ", local, len(got), rc.received.Len())
		}
	}
	for k := range streams {
		if k.src == otherPort || k.dst == otherPort {
			t.Errorf("flow %d>%d on port %d should have been filtered out", k.src, k.dst, otherPort)
		}
	}

	stats := c.Stats()
	if len(stats) != 1 || stats[0].Name != "lo" || stats[0].Dropped != 0 || stats[0].Received != uint64(len(pkts)) {
		t.Errorf("stats %+v, want lo with %d received and 0 dropped", stats, len(pkts))
	}
	t.Logf("captured %d packets; kernel: %+v", len(pkts), stats)

	// Write the capture and read it back.
	path := filepath.Join(t.TempDir(), "lo.pcapng")
	w, err := NewPcapngWriter(path, c.Interfaces())
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteStats(stats); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var isb pcapgo.NgInterfaceStatistics
	opts := pcapgo.DefaultNgReaderOptions
	opts.StatisticsCallback = func(_ int, s pcapgo.NgInterfaceStatistics) { isb = s }
	r, err := pcapgo.NewNgReader(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("read back packet %d: %v", i, err)
		}
		if !bytes.Equal(data, p.Data) || !ci.Timestamp.Equal(p.Info.Timestamp) || ci.Length != p.Info.Length {
			t.Errorf("packet %d read back differs", i)
		}
	}
	if _, _, err := r.ReadPacketData(); !errors.Is(err, io.EOF) {
		t.Errorf("after %d packets: %v, want io.EOF", len(pkts), err)
	}
	if ifc, _ := r.Interface(0); ifc.Name != "lo" || ifc.LinkType != layers.LinkTypeEthernet || ifc.SnapLength != DefaultSnapLen {
		t.Errorf("interface block %+v", ifc)
	}
	if isb.PacketsReceived != uint64(len(pkts)) || isb.PacketsDropped != 0 {
		t.Errorf("statistics block %+v", isb)
	}
}

// TestLiveCount checks that the capture ends by itself after Count
// packets.
func TestLiveCount(t *testing.T) {
	if !inFreshNetns(t) {
		return
	}
	port := startHTTPServer(t)
	c, err := Open(context.Background(), Options{Interfaces: []string{"lo"}, Ports: []uint16{port}, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	col := collect(c)
	exchange(t, port, "/v3")
	pkts := col.wait(t)
	if len(pkts) != 3 {
		t.Fatalf("%d packets, want 3", len(pkts))
	}
	// The first three packets of a connection are the handshake.
	for i, want := range []string{"SYN", "SYN ACK", "ACK"} {
		tl, _ := gopacket.NewPacket(pkts[i].Data, layers.LinkTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil {
			t.Fatalf("packet %d is not TCP", i)
		}
		var flags []string
		if tl.SYN {
			flags = append(flags, "SYN")
		}
		if tl.ACK {
			flags = append(flags, "ACK")
		}
		if got := strings.Join(flags, " "); got != want {
			t.Errorf("packet %d: %s, want %s", i, got, want)
		}
	}
}

// TestLiveInterfaceDown checks the error for an interface that is down.
func TestLiveInterfaceDown(t *testing.T) {
	if !inFreshNetns(t) {
		return
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	if out, err := exec.Command("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1").CombinedOutput(); err != nil {
		t.Skipf("cannot create a veth pair: %v: %s", err, out)
	}
	_, err := Open(context.Background(), Options{Interfaces: []string{"v0"}})
	if err == nil || err.Error() != `interface "v0" is down` {
		t.Errorf("Open on a down interface: %v", err)
	}
}

// TestLiveThreeInterfaces captures on lo and on both ends of a veth pair,
// and checks the merge: a SYN sent out of v0 is seen on v0 and then on v1,
// and the stream is in time order with frames numbered per interface.
func TestLiveThreeInterfaces(t *testing.T) {
	if !inFreshNetns(t) {
		return
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	if out, err := exec.Command("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1").CombinedOutput(); err != nil {
		t.Skipf("cannot create a veth pair: %v: %s", err, out)
	}
	v1, err := net.InterfaceByName("v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"link", "set", "v0", "up"},
		{"link", "set", "v1", "up"},
		{"addr", "add", "10.77.0.1/24", "dev", "v0"},
		{"neigh", "add", "10.77.0.2", "lladdr", v1.HardwareAddr.String(), "dev", "v0"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	port := startHTTPServer(t)
	const synPort = 7777

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Open(ctx, Options{Interfaces: []string{"lo", "v0", "v1"}, Ports: []uint16{port, synPort}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	col := collect(c)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Nobody answers at 10.77.0.2: only the first SYN goes out.
		if conn, err := net.DialTimeout("tcp4", fmt.Sprintf("10.77.0.2:%d", synPort), 300*time.Millisecond); err == nil {
			conn.Close()
		}
	}()
	exchange(t, port, "/v3", "/big")
	wg.Wait()
	time.Sleep(50 * time.Millisecond)
	cancel()
	pkts := col.wait(t)
	c.Close()

	frames := make([]int, 3)
	synAt := []int{-1, -1, -1}
	for i, p := range pkts {
		// The merge must never hand on a packet older than one of another
		// interface before it. Within one interface the packets come in
		// the ring's order, which the kernel may write a few microseconds
		// out of timestamp order when two CPUs send at once (as tcpdump
		// shows them too).
		if i > 0 && p.Input != pkts[i-1].Input && p.Info.Timestamp.Before(pkts[i-1].Info.Timestamp) {
			t.Errorf("packet %d (input %d) older than packet %d (input %d)", i, p.Input, i-1, pkts[i-1].Input)
		}
		frames[p.Input]++
		if p.Frame != frames[p.Input] || p.Info.InterfaceIndex != p.Input {
			t.Errorf("packet %d: input %d frame %d, want frame %d", i, p.Input, p.Frame, frames[p.Input])
		}
		tl, _ := gopacket.NewPacket(p.Data, layers.LinkTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil {
			t.Fatalf("packet %d is not TCP", i)
		}
		toSyn := tl.DstPort == synPort
		if toSyn != (p.Input != 0) {
			t.Errorf("packet %d on input %d goes to port %d", i, p.Input, tl.DstPort)
		}
		if toSyn && tl.SYN && synAt[p.Input] < 0 {
			synAt[p.Input] = i
		}
	}
	if frames[0] == 0 || synAt[1] < 0 || synAt[2] < 0 {
		t.Fatalf("packets per input %v; first SYN at %v", frames, synAt)
	}
	if synAt[1] > synAt[2] {
		t.Errorf("SYN seen on v1 (packet %d) before it left v0 (packet %d)", synAt[2], synAt[1])
	}
	stats := c.Stats()
	for i, s := range stats {
		if s.Name != []string{"lo", "v0", "v1"}[i] || s.Dropped != 0 || s.Received != uint64(frames[i]) {
			t.Errorf("stats[%d] = %+v, want %d received", i, s, frames[i])
		}
	}

	path := filepath.Join(t.TempDir(), "three.pcapng")
	w, err := NewPcapngWriter(path, c.Interfaces())
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteStats(stats); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		return
	}
	out, err := wiresharkCommand(t, tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.interface_name").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	names := strings.Fields(string(out))
	if len(names) != len(pkts) {
		t.Fatalf("tshark shows %d packets, want %d", len(names), len(pkts))
	}
	for i, name := range names {
		if want := c.Interfaces()[pkts[i].Input].Name; name != want {
			t.Errorf("tshark packet %d on %s, want %s", i+1, name, want)
		}
	}
}

// TestLiveKernelAcceptsFilters opens captures with the largest port filter
// and with no filter, so the kernel checks both programs.
func TestLiveKernelAcceptsFilters(t *testing.T) {
	if !inFreshNetns(t) {
		return
	}
	ports := make([]uint16, MaxPorts)
	for i := range ports {
		ports[i] = uint16(20000 + i)
	}
	for _, opts := range []Options{
		{Interfaces: []string{"lo"}, Ports: ports, SnapLen: 96, RingSize: RingBlockSize},
		{Interfaces: []string{"lo"}, All: true, Promiscuous: true, RingSize: 2 * RingBlockSize},
	} {
		c, err := Open(context.Background(), opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
