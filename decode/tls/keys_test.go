package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeys13RFC8448 derives the server's handshake traffic key and IV of
// RFC 8448's simple 1-RTT handshake (section 3) from its secret.
func TestKeys13RFC8448(t *testing.T) {
	secret := unhex(t, "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38")
	key, err := ExpandLabel(sha256.New, secret, "key", 16)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := ExpandLabel(sha256.New, secret, "iv", 12)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(key), "3fce516009c21727d0f2e4e86ee403bc"; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(iv), "5d313eb2671276ee13000b30"; got != want {
		t.Errorf("iv %s, want %s", got, want)
	}
}

// TestPRF12 checks the TLS 1.2 PRF with SHA-256 against the test vector
// published for it on the IETF TLS list (secret, seed, "test label").
func TestPRF12(t *testing.T) {
	secret := unhex(t, "9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35")
	seed := unhex(t, "a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")
	got := hex.EncodeToString(PRF12(sha256.New, secret, "test label", seed, 100))
	want := "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
	if got != want {
		t.Errorf("PRF:\n got  %s\n want %s", got, want)
	}
}

func TestKeyLogRead(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	log := "# comment\n\nCLIENT_RANDOM " + cr + " " + strings.Repeat("01", 48) + "\n" +
		"EXPORTER_SECRET " + cr + " " + strings.Repeat("02", 32) + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 nothex " + strings.Repeat("02", 32) + "\n" +
		"SERVER_TRAFFIC_SECRET_0 " + cr + "\n"
	var k KeyLog
	err := k.Read(strings.NewReader(log), "keys.txt")
	if err == nil || err.Error() != "keys.txt: TLS key log: line 5: the client random is not 32 bytes of hex (2 malformed lines skipped)" {
		t.Errorf("error %v", err)
	}
	if k.Len() != 1 || k.Lookup(LabelClientRandom, unhex(t, cr)) == nil {
		t.Errorf("kept %d secrets, want the CLIENT_RANDOM", k.Len())
	}
}
