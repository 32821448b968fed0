package live

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/authflow/authflow/capture"
)

var testIfaces = []Interface{
	{Name: "lo", Index: 1, LinkType: layers.LinkTypeEthernet, SnapLen: DefaultSnapLen, Filter: DescribeFilter([]uint16{5000, 3306}, false), Loopback: true},
	{Name: "veth0", Index: 7, LinkType: layers.LinkTypeEthernet, SnapLen: 1500},
}

var testStats = []InterfaceStats{
	{Name: "lo", Received: 1234, Dropped: 5, Start: time.Unix(1763800000, 123456789), End: time.Unix(1763800030, 987654321)},
	{Name: "veth0", Received: 42, Dropped: 0, Start: time.Unix(1763800000, 1), End: time.Unix(1763800030, 2)},
}

// writeTestFile writes the testdata frames alternately on the two test
// interfaces, with nanosecond timestamps, and returns the packets written.
func writeTestFile(t *testing.T, path string) []capture.Packet {
	t.Helper()
	w, err := NewPcapngWriter(path, testIfaces)
	if err != nil {
		t.Fatal(err)
	}
	var written []capture.Packet
	base := time.Unix(1763800001, 0)
	for i, data := range readFrames(t, "openstack-frames.pcap") {
		p := capture.Packet{
			Data: data,
			Info: gopacket.CaptureInfo{
				Timestamp:     base.Add(time.Duration(i)*time.Millisecond + time.Duration(i*7+1)),
				CaptureLength: len(data),
				Length:        len(data) + i, // as if cut by the snap length
			},
			LinkType: layers.LinkTypeEthernet,
			Input:    i % 2,
			Frame:    i/2 + 1,
		}
		if err := w.WritePacket(&p); err != nil {
			t.Fatalf("WritePacket: %v", err)
		}
		written = append(written, p)
	}
	if err := w.WriteStats(testStats); err != nil {
		t.Fatalf("WriteStats: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return written
}

func TestPcapngRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "save.pcapng")
	written := writeTestFile(t, path)

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stats := map[int]pcapgo.NgInterfaceStatistics{}
	opts := pcapgo.DefaultNgReaderOptions
	opts.StatisticsCallback = func(id int, s pcapgo.NgInterfaceStatistics) { stats[id] = s }
	r, err := pcapgo.NewNgReader(f, opts)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	for i, p := range written {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if string(data) != string(p.Data) {
			t.Errorf("packet %d: data differs", i)
		}
		if ci.InterfaceIndex != p.Input || !ci.Timestamp.Equal(p.Info.Timestamp) || ci.Length != p.Info.Length || ci.CaptureLength != len(p.Data) {
			t.Errorf("packet %d: read %+v, wrote input %d %+v", i, ci, p.Input, p.Info)
		}
	}
	if _, _, err := r.ReadPacketData(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the packets: %v, want io.EOF", err)
	}
	if r.NInterfaces() != len(testIfaces) {
		t.Fatalf("%d interfaces, want %d", r.NInterfaces(), len(testIfaces))
	}
	for i, want := range testIfaces {
		got, err := r.Interface(i)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != want.Name || got.LinkType != want.LinkType || got.SnapLength != want.SnapLen || got.TimestampResolution != 9 {
			t.Errorf("interface %d: %+v, want %+v", i, got, want)
		}
		s, ok := stats[i]
		if !ok {
			t.Errorf("interface %d: no statistics block", i)
			continue
		}
		ws := testStats[i]
		if s.PacketsReceived != ws.Received || s.PacketsDropped != ws.Dropped || !s.StartTime.Equal(ws.Start) || !s.EndTime.Equal(ws.End) {
			t.Errorf("interface %d statistics: %+v, want %+v", i, s, ws)
		}
	}
}

func TestPcapngOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.pcapng")
	existing := filepath.Join(dir, "existing.pcapng")
	if err := os.WriteFile(existing, []byte("old contents"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(existing, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fresh, existing} {
		w, err := NewPcapngWriter(path, testIfaces)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(path), fi.Mode().Perm())
		}
	}
}

func TestPcapngWriterErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewPcapngWriter(filepath.Join(dir, "missing", "x.pcapng"), testIfaces); err == nil {
		t.Error("NewPcapngWriter in a missing directory: no error")
	}
	if _, err := NewPcapngWriter(filepath.Join(dir, "none.pcapng"), nil); err == nil {
		t.Error("NewPcapngWriter without interfaces: no error")
	}
	w, err := NewPcapngWriter(filepath.Join(dir, "x.pcapng"), testIfaces)
	if err != nil {
		t.Fatal(err)
	}
	p := capture.Packet{Data: []byte{1, 2, 3}, Info: gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: 3, Length: 3}, Input: 2}
	if err := w.WritePacket(&p); err == nil || !strings.Contains(err.Error(), "input 2") {
		t.Errorf("WritePacket from input 2: %v", err)
	}
	if err := w.WriteStats(append(testStats, testStats...)); err == nil {
		t.Error("WriteStats for 4 interfaces: no error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p.Input = 0
	if err := w.WritePacket(&p); err == nil {
		t.Error("WritePacket after Close: no error")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPcapngTshark checks that Wireshark's tools read the file: tshark
// decodes every packet and capinfos lists both interfaces with their
// statistics.
func TestPcapngTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	capinfos, err := exec.LookPath("capinfos")
	if err != nil {
		t.Skip("capinfos not installed (apt-get install tshark)")
	}
	path := filepath.Join(t.TempDir(), "save.pcapng")
	written := writeTestFile(t, path)

	out, err := wiresharkCommand(t, tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "tcp.port").Output()
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(written) {
		t.Fatalf("tshark shows %d packets, want %d:\n%s", len(lines), len(written), out)
	}
	for i, line := range lines {
		if name := strings.Fields(line)[0]; name != testIfaces[written[i].Input].Name {
			t.Errorf("tshark packet %d on interface %q, want %q", i+1, name, testIfaces[written[i].Input].Name)
		}
	}

	out, err = wiresharkCommand(t, capinfos, path).CombinedOutput()
	if err != nil {
		t.Fatalf("capinfos: %v\n%s", err, out)
	}
	info := string(out)
	for _, want := range []string{
		"File type:           Wireshark/... - pcapng",
		"Number of interfaces in file: 2",
		"Name = lo",
		"Name = veth0",
		"Capture length = 1500",
		"Time precision = nanoseconds (9)",
		"Number of stat entries = 1",
		"Number of packets = 5",
		"Number of packets = 4",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("capinfos output lacks %q", want)
		}
	}
	t.Logf("capinfos output:\n%s", info)
}

// TestPcapngToPipe checks that writing to something other than a regular
// file (here a named pipe; on the command line perhaps /dev/null) leaves
// its mode alone.
func TestPcapngToPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Chmod(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	w, err := NewPcapngWriter(fifo, testIfaces)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; len(b) < 4 || string(b[:4]) != "\x0a\x0d\x0d\x0a" {
		t.Errorf("pipe got %q, want a pcapng section header", b)
	}
	fi, err := os.Stat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("pipe mode changed to %v", fi.Mode().Perm())
	}
}

// wiresharkCommand runs a Wireshark tool with a fresh home directory, so
// that no user profile (or an unreadable one, under another user id)
// changes its output.
func wiresharkCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	home := t.TempDir()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	return cmd
}

// TestPcapngDecryptionSecrets: Decryption Secrets Blocks written between
// packets (a key log of 5 bytes, padded, and a second one) are found by
// the pcapng secrets reader in order, and the packets around them still
// read back.
func TestPcapngDecryptionSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.pcapng")
	w, err := NewPcapngWriter(path, testIfaces)
	if err != nil {
		t.Fatal(err)
	}
	frames := readFrames(t, "openstack-frames.pcap")[:4]
	logs := []string{"CLIENT_RANDOM 01 02\n", "abcde"}
	for i, data := range frames {
		if i == 1 || i == 3 {
			if err := w.WriteDecryptionSecrets(SecretsTLSKeyLog, []byte(logs[i/2])); err != nil {
				t.Fatal(err)
			}
		}
		p := capture.Packet{Data: data, Info: gopacket.CaptureInfo{Timestamp: time.Unix(1763800001, int64(i)), CaptureLength: len(data), Length: len(data)}}
		if err := w.WritePacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := capture.TLSKeyLogs(path)
	if err != nil || len(got) != 2 || string(got[0]) != logs[0] || string(got[1]) != logs[1] {
		t.Fatalf("key logs %q, %v; want %q", got, err, logs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range frames {
		data, _, err := r.ReadPacketData()
		if err != nil || string(data) != string(want) {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number").Output()
		if err != nil || strings.Count(string(out), "\n") != len(frames) {
			t.Errorf("tshark reads %q: %v", out, err)
		}
	}
}
