package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

const secretsCapture = "../testdata/tls/tls12-image-list/ens-secrets.pcapng.gz"

func TestTLSKeyLogs(t *testing.T) {
	logs, err := TLSKeyLogs(secretsCapture)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../testdata/tls/tls12-image-list/keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || !bytes.Equal(bytes.TrimRight(logs[0], "\x00\n"), bytes.TrimRight(want, "\n")) {
		t.Errorf("got %d key logs, want keys.txt", len(logs))
	}
	// A pcap file has none.
	if logs, err := TLSKeyLogs("../testdata/tls/tls12-image-list/ens.pcap.gz"); err != nil || logs != nil {
		t.Errorf("pcap: %d key logs, %v", len(logs), err)
	}
}

// A damaged pcapng gives the key logs before the damage and an error
// naming the file.
func TestTLSKeyLogsDamaged(t *testing.T) {
	whole := readGz(t, secretsCapture)
	for _, cut := range []int{40, len(whole) - 3} {
		_, err := readTLSKeyLogs(bytes.NewReader(whole[:cut]), "x.pcapng")
		if err == nil || !strings.HasPrefix(err.Error(), "x.pcapng: ") {
			t.Errorf("cut at %d: %v", cut, err)
		}
	}
}

func readGz(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzTLSKeyLogs(f *testing.F) {
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		logs, _ := readTLSKeyLogs(bytes.NewReader(b), "fuzz")
		n := 0
		for _, l := range logs {
			n += len(l)
		}
		if n > len(b) {
			t.Fatalf("%d bytes of secrets from %d", n, len(b))
		}
	})
}
