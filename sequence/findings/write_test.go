package findings

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		fs   []sequence.Finding
		want string
	}{
		{name: "none", want: "findings: none\n"},
		{
			name: "two",
			fs: []sequence.Finding{
				{
					Kind: KindCacheUnreachable, Severity: SeverityError, Summary: "glance could not reach memcached",
					Detail:   "Check that memcached is running.\nAnd memcached_servers.",
					Messages: []int{10, 15}, Frames: []sequence.Frame{{File: "lo.pcap.gz", Number: 234}, {File: "lo.pcap.gz", Number: 680}},
					Count: 2, Time: t0,
				},
				{Kind: KindCacheHit, Severity: SeverityInfo, Summary: "cache working", Messages: []int{3}, Frames: []sequence.Frame{{Number: 7}}},
			},
			want: "findings: 1 error, 1 info\n" +
				"\n" +
				"error   cache-unreachable: glance could not reach memcached\n" +
				"        Check that memcached is running. And memcached_servers.\n" +
				"        evidence: seq 10, 15; frames lo.pcap.gz:234, lo.pcap.gz:680\n" +
				"\n" +
				"info    cache-hit: cache working\n" +
				"        evidence: seq 3; frames #7\n",
		},
		{
			name: "capped evidence",
			fs: []sequence.Finding{{
				Kind: KindManyQueries, Severity: SeverityWarning, Summary: "many",
				Messages: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
				Frames: []sequence.Frame{{File: "a", Number: 1}, {File: "a", Number: 2}, {File: "a", Number: 3}, {File: "a", Number: 4},
					{File: "a", Number: 5}, {File: "a", Number: 6}, {File: "a", Number: 7}, {File: "a", Number: 8}, {File: "a", Number: 9}, {File: "b", Number: 1}},
			}},
			want: "findings: 1 warning\n" +
				"\n" +
				"warning many-queries: many\n" +
				"        evidence: seq 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … (+3); frames a:1, a:2, a:3, a:4, a:5, a:6, a:7, a:8, … (+2)\n",
		},
		{
			name: "control characters",
			fs:   []sequence.Finding{{Kind: "x", Severity: SeverityInfo, Summary: "a\x1b[31mb\r\nc\u202ed\u009b1m"}},
			want: "findings: 1 info\n\ninfo    x: a\\x1b[31mb c\\u202ed\\x9b1m\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, tt.fs); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

// failWriter fails after n writes.
type failWriter struct{ n, calls int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls > w.n {
		return 0, errDisk
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	flow := loadFlow(t, "image-list-warm")
	fs := Analyze(flow, Options{})
	w := &failWriter{n: 3}
	err := Write(w, fs)
	if !errors.Is(err, errDisk) || !strings.HasPrefix(err.Error(), "write findings: ") {
		t.Fatalf("err = %v, want the writer's error wrapped", err)
	}
	if w.calls != 4 {
		t.Errorf("%d writes, want none after the failing one", w.calls)
	}
}

func TestWrap(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		flow := loadFlow(t, "memcached-restart")
		for _, f := range Analyze(flow, Options{Lang: lang}) {
			lines := wrap(f.Detail, 60)
			for _, l := range lines {
				if w := runesWidth([]rune(l)); w > 60 {
					t.Errorf("%s %s: line of width %d: %q", lang, f.Kind, w, l)
				}
			}
			strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
			if strip(strings.Join(lines, " ")) != strip(f.Detail) {
				t.Errorf("%s %s: wrap lost text", lang, f.Kind)
			}
		}
	}
}

func TestWriteTime(t *testing.T) {
	// Write does not depend on the time zone or the time at all.
	f := sequence.Finding{Kind: "k", Severity: SeverityInfo, Summary: "s", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))}
	var a, b strings.Builder
	if err := Write(&a, []sequence.Finding{f}); err != nil {
		t.Fatal(err)
	}
	f.Time = time.Time{}
	if err := Write(&b, []sequence.Finding{f}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("output depends on the time: %q vs %q", a.String(), b.String())
	}
}
