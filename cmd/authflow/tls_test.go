package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tlsCapturesDir = "../../testdata/tls"

// TestGoldenTLS draws each recording behind HAProxy's TLS front, both
// interfaces, decrypted with its key log.
func TestGoldenTLS(t *testing.T) {
	entries, err := os.ReadDir(tlsCapturesDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(tlsCapturesDir, name)
			out, stderr, code := runCLI(t, "analyze", "-f", "mermaid", "--tls-keylog", filepath.Join(dir, "keys.txt"),
				filepath.Join(dir, "ens.pcap.gz"), filepath.Join(dir, "lo.pcap.gz"))
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, filepath.Join("tls", name+".mmd"), out)
		})
	}
	if n < 7 {
		t.Errorf("only %d TLS recordings", n)
	}
}

// TestTLSWithoutKeyLog: without the key log the TLS connections are
// warnings naming them and their frames, what is in the clear (HAProxy
// to keystone on lo) is still analysed, and authflow exits 3.
func TestTLSWithoutKeyLog(t *testing.T) {
	dir := filepath.Join(tlsCapturesDir, "tls-token-issue")
	out, stderr, code := runCLI(t, "analyze", "-f", "text", filepath.Join(dir, "ens.pcap.gz"), filepath.Join(dir, "lo.pcap.gz"))
	if code != exitPartial {
		t.Errorf("exit %d, want %d", code, exitPartial)
	}
	for _, want := range []string{
		"198.18.0.100:48250 → 198.18.0.12:13000: TLS (no key): ",
		"198.18.0.100:48260 → 198.18.0.12:13000: TLS (no key): ",
		"records not decrypted (frames ",
		"2 TLS connections could not be decrypted",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(out, "POST /v3/auth/tokens") || !strings.Contains(out, "201 Created") {
		t.Errorf("the plain requests on lo are not analysed:\n%s", out)
	}
	// A key log that is not there is an error naming it; the rest is
	// analysed.
	_, stderr, code = runCLI(t, "analyze", "-f", "text", "--tls-keylog", filepath.Join(dir, "nonexistent.txt"), filepath.Join(dir, "ens.pcap.gz"))
	if code != exitPartial || !strings.Contains(stderr, "nonexistent.txt") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// TestTLSKeysInPcapng: the key log embedded in a pcapng (editcap
// --inject-secrets tls,keys.txt) decrypts without --tls-keylog.
func TestTLSKeysInPcapng(t *testing.T) {
	capture := filepath.Join(tlsCapturesDir, "tls12-image-list", "ens-secrets.pcapng.gz")
	out, stderr, code := runCLI(t, "analyze", "-f", "text", capture)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "GET /v2/images: list images") || !strings.Contains(out, "200 OK: 1 image") {
		t.Errorf("not decrypted:\n%s", out)
	}
}
