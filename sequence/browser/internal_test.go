package browser

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDump(t *testing.T) {
	dom := `<html><head></head><body data-rendered="error: Parse error on line 2:&#10;A-&gt;&gt;: broken" data-width="10.5">` +
		`<pre>x</pre><textarea id="authflow-svg" hidden="">&lt;svg xmlns="http://www.w3.org/2000/svg"&gt;&amp;amp;&lt;/svg&gt;</textarea>` +
		`<textarea>no id</textarea></body></html>`
	d, err := parseDump([]byte(dom))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.body["data-rendered"], "error: Parse error on line 2:\nA->>: broken"; got != want {
		t.Errorf("data-rendered = %q, want %q", got, want)
	}
	if got := d.body["data-width"]; got != "10.5" {
		t.Errorf("data-width = %q", got)
	}
	if got, want := d.text["authflow-svg"], `<svg xmlns="http://www.w3.org/2000/svg">&amp;</svg>`; got != want {
		t.Errorf("svg = %q, want %q", got, want)
	}
	if len(d.text) != 1 {
		t.Errorf("text areas %v, want only the one with an id", d.text)
	}
	if _, err := parseDump(nil); err == nil {
		t.Error("empty output: want an error")
	}
}

// FuzzParseDump feeds parseDump arbitrary Chromium output: it must not panic.
func FuzzParseDump(f *testing.F) {
	f.Add([]byte(`<html><body data-rendered="ok"><textarea id="authflow-svg">&lt;svg/&gt;</textarea></body></html>`))
	f.Add([]byte(`<body data-rendered`))
	f.Add([]byte("<textarea id=a><textarea id=b></textarea>\x00"))
	f.Add([]byte(`<svg><textarea id="x">in svg</textarea></svg><body><body data-rendered="ok">`))
	f.Fuzz(func(t *testing.T, dom []byte) {
		_, _ = parseDump(dom) // errors are fine; panics are not
	})
}

func TestStderrSummary(t *testing.T) {
	got := summarize("/usr/bin/chromium: 9: [: 25276026880: unexpected operator\n" +
		"[1:2:1123/061422.138062:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n" +
		"[1:2:ERROR:zygote_host_impl_linux.cc:127] Running as root without --no-sandbox is not supported.\n\n")
	if !strings.Contains(got, "Running as root") || strings.Contains(got, "dbus") || strings.Contains(got, "unexpected operator") {
		t.Errorf("summary %q: want the real error without the noise", got)
	}
	if s := summarize("\n"); s != "" {
		t.Errorf("empty summary = %q", s)
	}
	if s := summarize("1\n2\n3\n4\n"); s != ": 2; 3; 4" {
		t.Errorf("summary of four lines = %q, want the last three", s)
	}
}

func TestReadAtMost(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("abcdef")
	if got, err := readAtMost(f, 6); err != nil || string(got) != "abcdef" {
		t.Errorf("limit 6: got %q, %v", got, err)
	}
	if _, err := readAtMost(f, 5); err == nil {
		t.Error("limit 5: want an error")
	}
	if s := stderrSummary(f); s != ": abcdef" {
		t.Errorf("stderrSummary = %q", s)
	}
}

func TestFileURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir#with?odd%chars")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "page.html")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := fileURL(path, "authflow-export")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "file:///") || !strings.Contains(u, "a%20dir%23with%3Fodd%25chars/page.html#authflow-export") {
		t.Errorf("fileURL = %q", u)
	}
	if _, err := fileURL(filepath.Join(dir, "missing.html"), ""); err == nil {
		t.Error("missing page: want an error")
	}
}

func TestScratchEnv(t *testing.T) {
	t.Setenv("HOME", "/root")
	t.Setenv("XDG_CONFIG_HOME", "/root/.config")
	scratch := t.TempDir()
	env, err := scratchEnv(scratch)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		seen[k]++
		switch k {
		case "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR":
			if !strings.HasPrefix(v, scratch) {
				t.Errorf("%s=%s is outside the scratch folder", k, v)
			}
		}
	}
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"} {
		if seen[k] != 1 {
			t.Errorf("%s set %d times", k, seen[k])
		}
	}
}

func TestSandboxFlags(t *testing.T) {
	tests := []struct {
		euid int
		env  string
		want bool // --no-sandbox
	}{
		{1000, "", false},
		{1000, "0", false},
		{1000, "1", true},
		{0, "", true},
	}
	for _, tt := range tests {
		got := slices.Contains(sandboxFlags(tt.euid, tt.env), "--no-sandbox")
		if got != tt.want {
			t.Errorf("sandboxFlags(%d, %q): --no-sandbox %v, want %v", tt.euid, tt.env, got, tt.want)
		}
	}
	if slices.Contains(commonFlags, "--no-sandbox") {
		t.Error("--no-sandbox is among the flags of every run")
	}
}
