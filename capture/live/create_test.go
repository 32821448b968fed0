package live

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateFileNoSymlink: a symlink planted where the capture (or its
// sidecar) goes is not followed, its target neither truncated nor
// chmodded; a hard link to another file is not overwritten either.
func TestCreateFileNoSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "capture.pcapng")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPcapngWriter(link, testIfaces); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("writing through a symlink: err %v, want a refusal naming the symbolic link", err)
	}
	hard := filepath.Join(dir, "hard.pcapng")
	if err := os.Link(target, hard); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateFile(hard); err == nil {
		t.Errorf("overwriting a file with another hard link: no error")
	}
	b, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(target)
	if string(b) != "precious" || fi.Mode().Perm() != 0o644 {
		t.Errorf("target changed: %q, mode %v", b, fi.Mode().Perm())
	}
	// A dangling symlink is not followed to create its target either.
	dangling := filepath.Join(dir, "dangling.pcapng")
	if err := os.Symlink(filepath.Join(dir, "created-by-follow"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateFile(dangling); err == nil {
		t.Errorf("dangling symlink: no error")
	}
	if _, err := os.Lstat(filepath.Join(dir, "created-by-follow")); err == nil {
		t.Errorf("the dangling symlink's target was created")
	}
}
