package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKeylogTail: only whole lines are handed out, each once; a key log
// that does not exist yet is found once it does (looked for once a second
// of capture time); one truncated and rewritten is read from its start.
func TestKeylogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.txt")
	k := &keylogTail{path: path}
	defer k.close()
	t0 := time.Unix(1763800000, 0)
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	step := func(at time.Duration, want string) {
		t.Helper()
		got, err := k.next(t0.Add(at))
		if err != nil || string(got) != want {
			t.Fatalf("at %v: %q, %v; want %q", at, got, err, want)
		}
	}
	step(0, "")
	appendTo("CLIENT_RANDOM aa bb\nCLIENT_RAN")
	step(500*time.Millisecond, "") // not looked for again yet
	step(time.Second, "CLIENT_RANDOM aa bb\n")
	step(time.Second, "")
	appendTo("DOM cc dd\n")
	step(time.Second, "CLIENT_RANDOM cc dd\n")
	if err := os.WriteFile(path, []byte("X 1 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step(time.Second, "X 1 2\n")
}
