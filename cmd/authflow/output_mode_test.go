package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputMode: -o honours the umask for a new file, never widens an
// existing file's mode, and writes --show-secrets output owner-only.
func TestOutputMode(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	run := func(out string, extra ...string) {
		t.Helper()
		args := append([]string{"analyze", "--example", "image-save", "-q", "-o", out}, extra...)
		if _, stderr, code := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	fresh := filepath.Join(dir, "fresh.mmd")
	run(fresh)
	if m := mode(fresh); m != 0o640 {
		t.Errorf("new file under umask 027: mode %v, want 0640", m)
	}
	private := filepath.Join(dir, "private.json")
	if err := os.WriteFile(private, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run(private)
	if m := mode(private); m != 0o600 {
		t.Errorf("existing 0600 file: mode %v after -o, want 0600", m)
	}
	shared := filepath.Join(dir, "shared.json")
	if err := os.WriteFile(shared, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	run(shared, "--show-secrets")
	if m := mode(shared); m != 0o600 {
		t.Errorf("--show-secrets over a 0644 file: mode %v, want 0600", m)
	}
	secret := filepath.Join(dir, "secret.mmd")
	run(secret, "--show-secrets")
	if m := mode(secret); m != 0o600 {
		t.Errorf("--show-secrets, new file: mode %v, want 0600", m)
	}
}

// TestOutputToDevice: -o to something that is not a regular file (a FIFO
// here; /dev/null or /dev/stdout on the command line) writes into it and
// never replaces it with a file.
func TestOutputToDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
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
	if _, stderr, code := runCLI(t, "analyze", "--example", "token-issue", "-q", "-f", "mermaid", "-o", fifo); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b := <-got; !bytes.HasPrefix(b, []byte("sequenceDiagram")) {
		t.Errorf("the FIFO's reader got %.40q, want the diagram", b)
	}
	fi, err := os.Lstat(fifo)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}
