package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"123", 123}, {"4MiB", 4 << 20}, {"1GiB", 1 << 30}, {"1GB", 1e9}, {"4MB", 4e6},
		{"512k", 512 << 10}, {"1.5GiB", 3 << 29}, {"200MB", 200e6}, {"10B", 10},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1MB", "x", "NaNGiB", "InfMB", "1e30GB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q): no error", bad)
		}
	}
}

// TestOffloadChecksums recomputes the checksums of real frames (captured
// on the sending host, with offload) and gets the bytes tcpdump saw.
func TestOffloadChecksums(t *testing.T) {
	tpl, err := loadTemplate()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range append(tpl.ens[:50], tpl.lo[:50]...) {
		if p.ip == nil || p.tcp == nil {
			continue
		}
		frame := bytes.Clone(p.data)
		frame[24], frame[25], frame[50], frame[51] = 0, 0, 0, 0
		offloadChecksums(frame)
		if !bytes.Equal(frame, p.data) {
			t.Fatalf("frame at %v: checksums %x %x, captured %x %x", p.ci.Timestamp, frame[24:26], frame[50:52], p.data[24:26], p.data[50:52])
		}
		checked++
	}
	if checked < 90 {
		t.Fatalf("only %d frames checked", checked)
	}
}

// analyze decodes a generated file the way authflow does.
func analyze(t *testing.T, name string) []*event.Event {
	t.Helper()
	src, err := capture.OpenFiles([]string{name}, capture.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	evs, st, err := decode.Run(src, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Malformed > 0 || st.Truncated > 0 {
		t.Fatalf("%s: %+v", name, st)
	}
	for _, e := range evs {
		if e.Kind == event.Warning {
			t.Errorf("%s: warning: %v", name, e.Data)
		}
	}
	return evs
}

// timeOrdered checks that a file's packets never go back in time.
func timeOrdered(t *testing.T, name string) int {
	t.Helper()
	src, err := capture.OpenFiles([]string{name}, capture.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var last time.Time
	n := 0
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Info.Timestamp.Before(last) {
			t.Fatalf("%s: frame %d goes back in time", name, p.Frame)
		}
		last = p.Info.Timestamp
		n++
	}
	return n
}

func TestDownload(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"both.pcap", "both.pcapng", "again.pcap"} {
		c := &config{kind: "both", out: filepath.Join(dir, name), size: 3<<20 + 17, seed: 1, rate: 200e6, ackEvery: 2, lossEvery: 500}
		if _, err := generate(c); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "both.pcap"))
	b, _ := os.ReadFile(filepath.Join(dir, "again.pcap"))
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave two different files")
	}
	for _, name := range []string{"both.pcap", "both.pcapng"} {
		path := filepath.Join(dir, name)
		timeOrdered(t, path)
		found := false
		for _, e := range analyze(t, path) {
			r, ok := e.Data.(*httpdec.Response)
			if !ok || r.Request == nil || !bytes.HasSuffix([]byte(r.Request.Data.(*httpdec.Request).Target), []byte("/file")) {
				continue
			}
			found = true
			if r.BodyLen != 3<<20+17 || r.Lost != 0 || !r.Complete {
				t.Errorf("%s: download body %d bytes, %d lost, complete %v", name, r.BodyLen, r.Lost, r.Complete)
			}
		}
		if !found {
			t.Errorf("%s: no response to the download request", name)
		}
	}
}

func TestValidations(t *testing.T) {
	for _, cache := range []bool{false, true} {
		name := filepath.Join(t.TempDir(), "val.pcap")
		c := &config{kind: "validations", out: name, n: 60, seed: 1, interval: 20 * time.Millisecond, cache: cache}
		if _, err := generate(c); err != nil {
			t.Fatal(err)
		}
		timeOrdered(t, name)
		counts := map[event.Kind]int{}
		tokens := map[string]bool{}
		for _, e := range analyze(t, name) {
			counts[e.Kind]++
			if r, ok := e.Data.(*httpdec.Request); ok {
				tokens[r.Header.Get("X-Subject-Token")] = true
			}
			if r, ok := e.Data.(*httpdec.Response); ok && (r.Status != 200 || !r.Complete || r.Request == nil) {
				t.Errorf("response %d, complete %v, request %v", r.Status, r.Complete, r.Request != nil)
			}
		}
		if counts[event.HTTPRequest] != 60 || counts[event.HTTPResponse] != 60 || len(tokens) != 60 {
			t.Errorf("cache %v: %d requests, %d responses, %d tokens; want 60 each", cache, counts[event.HTTPRequest], counts[event.HTTPResponse], len(tokens))
		}
		wantCache := 0
		if cache {
			wantCache = 120 // a get and a set per validation
		}
		if counts[event.MemcacheCommand] != wantCache || counts[event.MemcacheReply] != wantCache {
			t.Errorf("cache %v: %d memcached commands, %d replies; want %d", cache, counts[event.MemcacheCommand], counts[event.MemcacheReply], wantCache)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1GiB", "4MB", "512k", "1.5GiB", "123", "", "-1", "1e30GB", "NaNGiB", "InfMB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
	})
}
