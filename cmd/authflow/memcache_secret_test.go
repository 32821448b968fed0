package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemcacheSecretSources: the memcache secret key from a file or the
// environment (not visible in ps) works as --memcache-secret does, and
// --help says so.
func TestMemcacheSecretSources(t *testing.T) {
	args := append([]string{"analyze", "-f", "json", "-q"}, scenarioArgs("memcache-encrypt")...)
	want, _, code := runCLI(t, append(args, "--memcache-secret", "lab-secret-key")...)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	without, _, _ := runCLI(t, args...)
	if without == want {
		t.Fatal("the secret changes nothing: the check would be vacuous")
	}
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("lab-secret-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, stderr, code := runCLI(t, append(args, "--memcache-secret-file", file)...); code != exitOK || got != want {
		t.Errorf("--memcache-secret-file: exit %d, output differs from --memcache-secret's: %s", code, stderr)
	}
	t.Setenv(envMemcacheSecret, "lab-secret-key")
	if got, stderr, code := runCLI(t, args...); code != exitOK || got != want {
		t.Errorf("$%s: exit %d, output differs from --memcache-secret's: %s", envMemcacheSecret, code, stderr)
	}
	if _, _, code := runCLI(t, append(args, "--memcache-secret", "x", "--memcache-secret-file", file)...); code != exitUsage {
		t.Errorf("both --memcache-secret and --memcache-secret-file: exit %d, want %d", code, exitUsage)
	}
	help, _, _ := runCLI(t, "analyze", "--help")
	for _, s := range []string{"--memcache-secret-file", envMemcacheSecret} {
		if !strings.Contains(help, s) {
			t.Errorf("analyze --help does not mention %s", s)
		}
	}
}
