package tls

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Labels of the NSS key log format that authflow uses.
const (
	LabelClientRandom          = "CLIENT_RANDOM" // TLS 1.2 master secret
	LabelClientHandshakeSecret = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshakeSecret = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientTrafficSecret0  = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerTrafficSecret0  = "SERVER_TRAFFIC_SECRET_0"
)

// maxSecret bounds the length of a secret in a key log (SHA-512 is 64
// bytes; TLS 1.2 master secrets are 48).
const maxSecret = 64

// KeyLog holds TLS secrets from NSS key logs (the format SSLKEYLOGFILE makes
// OpenSSL, Python, curl, Go and browsers write), by label and client
// random. The zero value is empty and ready to use; a nil *KeyLog has no
// keys.
type KeyLog struct {
	secrets map[string]map[[32]byte][]byte
	n       int
}

// Len is the number of secrets held.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return k.n
}

// Add records the secret of label for the session whose ClientHello had
// clientRandom.
func (k *KeyLog) Add(label string, clientRandom [32]byte, secret []byte) {
	if k.secrets == nil {
		k.secrets = map[string]map[[32]byte][]byte{}
	}
	m := k.secrets[label]
	if m == nil {
		m = map[[32]byte][]byte{}
		k.secrets[label] = m
	}
	if _, ok := m[clientRandom]; !ok {
		k.n++
	}
	m[clientRandom] = secret
}

// Lookup returns the secret of label for clientRandom, or nil.
func (k *KeyLog) Lookup(label string, clientRandom []byte) []byte {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	return k.secrets[label][[32]byte(clientRandom)]
}

// ReadFile reads the key log at path into k. See Read.
func (k *KeyLog) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("TLS key log: %w", err)
	}
	defer f.Close()
	return k.Read(f, path)
}

// Read reads an NSS key log into k: lines "LABEL CLIENT_RANDOM SECRET" in
// hex; blank lines and comments (#) are skipped, and so are labels
// authflow does not use. Malformed lines are skipped too; the error names
// the file (name), the first such line and how many there were, and the
// secrets of the good lines are kept.
func (k *KeyLog) Read(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line, bad := 0, 0
	var first string
	for sc.Scan() {
		line++
		if msg := k.parseLine(sc.Text()); msg != "" {
			if bad == 0 {
				first = fmt.Sprintf("line %d: %s", line, msg)
			}
			bad++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: TLS key log: after line %d: %w", name, line, err)
	}
	if bad > 0 {
		return fmt.Errorf("%s: TLS key log: %s (%d malformed lines skipped)", name, first, bad)
	}
	return nil
}

// parseLine adds the secret of one line, or says what is wrong with it.
func (k *KeyLog) parseLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "#") {
		return ""
	}
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Sprintf("%d fields, want 3 (LABEL CLIENT_RANDOM SECRET)", len(f))
	}
	switch f[0] {
	case LabelClientRandom, LabelClientHandshakeSecret, LabelServerHandshakeSecret, LabelClientTrafficSecret0, LabelServerTrafficSecret0:
	default:
		return "" // other labels (EXPORTER_SECRET, early traffic, …) are not used
	}
	cr, err := hex.DecodeString(f[1])
	if err != nil || len(cr) != 32 {
		return "the client random is not 32 bytes of hex"
	}
	sec, err := hex.DecodeString(f[2])
	if err != nil || len(sec) == 0 || len(sec) > maxSecret {
		return "the secret is not 1 to 64 bytes of hex"
	}
	k.Add(f[0], [32]byte(cr), sec)
	return ""
}
