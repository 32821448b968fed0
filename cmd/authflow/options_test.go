package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestDetailFlag checks that --detail takes its level with a space or an
// equals sign, means 1 alone, and rejects levels that do not exist.
func TestDetailFlag(t *testing.T) {
	for _, c := range []struct {
		args     []string
		code     int
		minQuery int // mysql.query messages at least (detail 1 draws each query)
		stderr   string
	}{
		{args: []string{"--detail", "2"}, code: exitOK, minQuery: 100},
		{args: []string{"--detail=2"}, code: exitOK, minQuery: 100},
		{args: []string{"--detail"}, code: exitOK, minQuery: 100},
		{args: []string{"--detail", "0"}, code: exitOK},
		{args: []string{"--detail=3"}, code: exitUsage, stderr: "--detail 3: want 0, 1 or 2"},
		{args: []string{"--detail", "3"}, code: exitUsage, stderr: "--detail 3: want 0, 1 or 2"},
		{args: []string{"--detail=-1"}, code: exitUsage, stderr: "--detail -1: want 0, 1 or 2"},
		{args: []string{"--detail=x"}, code: exitUsage, stderr: "--detail"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := append([]string{"analyze", "-f", "json", "--example", "image-save"}, c.args...)
			out, stderr, code := runCLI(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, c.stderr)
			}
			if code != exitOK {
				return
			}
			queries := 0
			for _, m := range decodeFlow(t, out).Messages {
				if m.Kind == "mysql.query" && m.Count <= 1 {
					queries++
				}
			}
			if queries < c.minQuery {
				t.Errorf("%d single queries drawn, want at least %d", queries, c.minQuery)
			}
		})
	}
}

// TestSizeFlags checks that every size flag reads the same syntax.
func TestSizeFlags(t *testing.T) {
	for _, flag := range []string{"--body-limit", "--max-memory"} {
		for _, c := range []struct {
			value string
			code  int
		}{
			{"65536", exitOK}, {"64KiB", exitOK}, {"64k", exitOK}, {"1MiB", exitOK}, {"0.5MiB", exitOK}, {"1MB", exitOK},
			{"", exitUsage}, {"-1", exitUsage}, {"lots", exitUsage}, {"64XB", exitUsage},
		} {
			t.Run(flag+"="+c.value, func(t *testing.T) {
				_, stderr, code := runCLI(t, "analyze", "-f", "json", "--example", "token-issue", flag+"="+c.value)
				if flag == "--max-memory" && c.code == exitOK && code == exitPartial && strings.Contains(stderr, "to stay within --max-memory") {
					code = exitOK // read right; a bound this small drops messages, and says so
				}
				if code != c.code {
					t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
				}
				if code == exitUsage && (!strings.Contains(stderr, flag) || strings.Contains(stderr, "strconv")) {
					t.Errorf("error does not name the flag plainly: %q", stderr)
				}
			})
		}
	}
	for _, c := range []struct {
		value string
		want  int64
	}{{"64", 64 << 20}, {"64MiB", 64 << 20}, {"1GiB", 1 << 30}, {"512KiB", 512 << 10}} {
		var s mibSize
		if err := s.Set(c.value); err != nil || int64(s) != c.want {
			t.Errorf("--buffer-size %s: %d, %v; want %d", c.value, s, err, c.want)
		}
	}
}

// TestCompletion checks that shell completion offers the values of the
// flags that take a fixed set.
func TestCompletion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"analyze", "--example", ""}, []string{"image-save", "token-issue", "bad-password"}},
		{[]string{"analyze", "-f", ""}, []string{"mermaid", "json", "png", "html"}},
		{[]string{"analyze", "--format", "pl"}, []string{"plantuml"}},
		{[]string{"analyze", "--lang", ""}, []string{"en", "zh"}},
		{[]string{"analyze", "--detail="}, []string{"0", "1", "2"}},
		{[]string{"analyze", "--detail", ""}, []string{"0", "1", "2"}},
		{[]string{"analyze", "--clock-sync", ""}, []string{"auto", "off"}},
		{[]string{"filter", "--example", ""}, []string{"image-save"}},
		{[]string{"capture", "-f", ""}, []string{"mermaid", "json"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, stderr, code := runCLI(t, append([]string{"__complete"}, c.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got []string
			for _, l := range strings.Split(out, "\n") {
				if l == "" || strings.HasPrefix(l, ":") {
					continue
				}
				v, _, _ := strings.Cut(l, "\t")
				got = append(got, v)
			}
			for _, w := range c.want {
				if !contains(got, w) {
					t.Errorf("no %q among %q", w, got)
				}
			}
			if strings.Contains(out, ".pcap") || len(got) == 0 {
				t.Errorf("offers files or nothing: %q", got)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestDefaultBoundsDropNothing: with the default flags nothing bounds the
// messages kept (a capture of 200 000 validations once lost three
// quarters of them to the default --max-memory); a bound the user sets
// that drops messages says so once, with the flag and the count, and
// exits 3.
func TestDefaultBoundsDropNothing(t *testing.T) {
	var in inputOptions
	in.addFlags(pflag.NewFlagSet("analyze", pflag.ContinueOnError))
	po := in.pipelineOptions(nil)
	if po.Decode.MaxEvents != 0 || po.Decode.MaxEventBytes != 0 {
		t.Errorf("default flags bound the messages: --max-events %d, %d bytes for messages", po.Decode.MaxEvents, po.Decode.MaxEventBytes)
	}

	_, stderr, code := runCLI(t, "analyze", "-f", "json", "--example", "token-issue", "--max-events", "3")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s", code, exitPartial, stderr)
	}
	if n := strings.Count(stderr, "messages were dropped to stay within --max-events=3"); n != 1 || strings.Contains(stderr, "warning: 1 messages were dropped") {
		t.Errorf("stderr says the drop %d times, want once: %q", n, stderr)
	}
	_, stderr, code = runCLI(t, "analyze", "-f", "json", "--example", "token-issue")
	if code != exitOK || strings.Contains(stderr, "dropped") || strings.Contains(stderr, "not kept") {
		t.Errorf("default flags: exit %d, stderr %q", code, stderr)
	}
}
