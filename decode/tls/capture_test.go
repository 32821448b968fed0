package tls_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/decode/httpdec"
	"github.com/authflow/authflow/decode/tls"
)

const tlsDir = "../../testdata/tls"

// recordings lists the TLS recordings of testdata/tls.
func recordings(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(tlsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) < 7 {
		t.Fatalf("only %d recordings in %s", len(names), tlsDir)
	}
	return names
}

// decodeFile decodes one capture file with the key log keys.
func decodeFile(t *testing.T, path string, keys *tls.KeyLog) ([]*event.Event, decode.Stats) {
	t.Helper()
	src, err := capture.OpenFiles([]string{path}, capture.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	evs, st, err := decode.Run(src, decode.Options{TLSKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

func readKeys(t *testing.T, name string) *tls.KeyLog {
	t.Helper()
	k := &tls.KeyLog{}
	if err := k.ReadFile(filepath.Join(tlsDir, name, "keys.txt")); err != nil {
		t.Fatal(err)
	}
	return k
}

// httpLines lists the HTTP messages of events as tshark's Info column
// starts: "GET /v3 HTTP/1.1", "HTTP/1.1 200".
func httpLines(evs []*event.Event) (reqs, resps []string) {
	for _, e := range evs {
		switch d := e.Data.(type) {
		case *httpdec.Request:
			reqs = append(reqs, d.Method+" "+d.Target+" "+d.Proto)
		case *httpdec.Response:
			resps = append(resps, fmt.Sprintf("%s %d", d.Proto, d.Status))
		}
	}
	return reqs, resps
}

// tsharkLines reads tshark-http.txt: per capture file, its requests and
// responses in frame order.
func tsharkLines(t *testing.T, name string) map[string][2][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(tlsDir, name, "tshark-http.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2][]string{}
	file := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			file = strings.Fields(rest)[0]
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 8 {
			continue
		}
		info := strings.TrimSpace(strings.Split(cols[7], " , ")[0])
		w := strings.Fields(info)
		cur := out[file]
		if strings.HasPrefix(info, "HTTP/") {
			cur[1] = append(cur[1], w[0]+" "+w[1])
		} else {
			cur[0] = append(cur[0], strings.Join(w[:3], " "))
		}
		out[file] = cur
	}
	if len(out) == 0 {
		t.Fatalf("%s: no HTTP messages listed", name)
	}
	return out
}

// TestSameRequestsAsTshark decrypts every TLS recording with its key log
// and compares the HTTP requests with tshark's, decrypted with the same
// key log: the same list. tshark misses some responses (keystone's through
// HAProxy end with the connection, HAProxy's on lo), so every response it
// lists must be among authflow's, in order.
func TestSameRequestsAsTshark(t *testing.T) {
	for _, name := range recordings(t) {
		t.Run(name, func(t *testing.T) {
			keys := readKeys(t, name)
			for file, want := range tsharkLines(t, name) {
				evs, st := decodeFile(t, filepath.Join(tlsDir, name, file+".gz"), keys)
				if st.TLSNoKey != 0 {
					t.Errorf("%s: %d connections not decrypted", file, st.TLSNoKey)
				}
				reqs, resps := httpLines(evs)
				if !slices.Equal(reqs, want[0]) {
					t.Errorf("%s requests:\n got  %q\n want %q (tshark)", file, reqs, want[0])
				}
				if !isSubsequence(want[1], resps) {
					t.Errorf("%s responses:\n got  %q\n tshark's %q are not among them", file, resps, want[1])
				}
				if file == "ens.pcap" && len(resps) != len(reqs) {
					t.Errorf("%s: %d requests but %d responses decrypted", file, len(reqs), len(resps))
				}
			}
		})
	}
}

func isSubsequence(sub, of []string) bool {
	i := 0
	for _, s := range of {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// warnings returns the text of the warning events.
func warnings(evs []*event.Event) []string {
	var w []string
	for _, e := range evs {
		if e.Kind == event.Warning {
			w = append(w, e.Data.(string))
		}
	}
	return w
}

// TestMissingOrWrongKey: without the key log, or with secrets that are
// wrong, each TLS connection is one warning naming it, its frames and
// why, and nothing of it is decoded as HTTP.
func TestMissingOrWrongKey(t *testing.T) {
	ens := filepath.Join(tlsDir, "tls-token-issue", "ens.pcap.gz")
	good := readKeys(t, "tls-token-issue")
	evs, _ := decodeFile(t, ens, good)
	reqs, _ := httpLines(evs)
	if len(reqs) != 2 {
		t.Fatalf("with the key log: %d requests, want 2", len(reqs))
	}
	wrong := &tls.KeyLog{}
	b, err := os.ReadFile(filepath.Join(tlsDir, "tls-token-issue", "keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The same lines with the last hex digit of each secret changed.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		last := l[len(l)-1]
		repl := "0"
		if last == '0' {
			repl = "1"
		}
		lines = append(lines, l[:len(l)-1]+repl)
	}
	if err := wrong.Read(strings.NewReader(strings.Join(lines, "\n")), "wrong.txt"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keys *tls.KeyLog
		why  string
	}{
		{"none", nil, "no TLS 1.3 traffic secrets for client random "},
		{"wrong", wrong, "the key log's secret for this session does not decrypt it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs, st := decodeFile(t, ens, c.keys)
			if reqs, resps := httpLines(evs); len(reqs)+len(resps) != 0 {
				t.Errorf("HTTP decoded without the keys: %q %q", reqs, resps)
			}
			ws := warnings(evs)
			if st.TLSNoKey != 2 || len(ws) != 2 {
				t.Fatalf("TLSNoKey %d, warnings %q: want 2 connections", st.TLSNoKey, ws)
			}
			for i, port := range []string{":48250 ", ":48260 "} {
				w := ws[i]
				for _, want := range []string{"198.18.0.100" + port, "198.18.0.12:13000", tls.NoKey, "records not decrypted (frames ", c.why} {
					if !strings.Contains(w, want) {
						t.Errorf("warning %q does not say %q", w, want)
					}
				}
			}
		})
	}
}

// TestDecryptedEvent: each decrypted connection of the real recordings is
// announced once, before its first HTTP message, with the version and
// cipher suite HAProxy was forced to.
func TestDecryptedEvent(t *testing.T) {
	want := map[string]string{
		"tls12-chacha-image-list": "TLS 1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
		"tls12-image-list":        "TLS 1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"tls13-chacha-image-list": "TLS 1.3 TLS_CHACHA20_POLY1305_SHA256",
	}
	for _, name := range recordings(t) {
		t.Run(name, func(t *testing.T) {
			evs, _ := decodeFile(t, filepath.Join(tlsDir, name, "ens.pcap.gz"), readKeys(t, name))
			told := map[*event.Event]bool{}
			byConn := map[uint64]*event.Event{}
			https := 0
			for _, e := range evs {
				switch e.Kind {
				case event.TLSDecrypted:
					if byConn[e.Conn.ID] != nil {
						t.Errorf("%s: announced twice", e.Conn)
					}
					byConn[e.Conn.ID] = e
					w := want[name]
					if w == "" {
						w = "TLS 1.3 TLS_AES_256_GCM_SHA384"
					}
					if e.Data != w {
						t.Errorf("%s: %q, want %q", e.Conn, e.Data, w)
					}
				case event.HTTPRequest, event.HTTPResponse:
					https++
					d := byConn[e.Conn.ID]
					if d == nil {
						t.Errorf("%s: HTTP message at frame %d before the connection is announced decrypted", e.Conn, e.Start.Frame.Number)
						continue
					}
					told[d] = true
					if e.Start.Time.Before(d.Start.Time) {
						t.Errorf("%s: HTTP message at frame %d before the announcement's frame %d", e.Conn, e.Start.Frame.Number, d.Start.Frame.Number)
					}
				}
			}
			if https == 0 || len(byConn) == 0 || len(told) != len(byConn) {
				t.Errorf("%d HTTP messages, %d connections announced, %d of them with HTTP", https, len(byConn), len(told))
			}
		})
	}
}
