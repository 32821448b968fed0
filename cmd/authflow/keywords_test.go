package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence/browser/browsertest"
)

// diagramKeywords are words Mermaid's sequence diagram grammar (which
// reads them in any case) or PlantUML's reserves: a participant id must
// never be one of them.
var diagramKeywords = []string{
	"ACCDESCR", "ACCTITLE", "ACTIVATE", "ACTOR", "ALT", "AND", "AS", "AUTONUMBER", "BOX", "BREAK", "CREATE",
	"CRITICAL", "DEACTIVATE", "DESTROY", "DETAILS", "ELSE", "END", "LEFT", "LINK", "LINKS", "LOOP", "NOTE",
	"OF", "OFF", "OPT", "OPTION", "OVER", "PAR", "PARTICIPANT", "PROPERTIES", "RECT", "RIGHT", "TITLE",
	"GROUP", "REF", "RETURN", "DELAY", "HNOTE", "RNOTE", "NEWPAGE", "LEGEND", "HEADER", "FOOTER", "HIDE", "SHOW",
	"SKINPARAM", "DATABASE", "QUEUE", "ENTITY", "CONTROL", "BOUNDARY", "COLLECTIONS", "SPACE",
}

// TestParticipantIDsAreNotKeywords names one server per keyword with a
// name whose initials spell it (--alias), and checks that no id is a
// keyword and that the diagram renders in Chromium's Mermaid.
func TestParticipantIDsAreNotKeywords(t *testing.T) {
	f := newCapFile()
	args := []string{"analyze", "-f", "mermaid"}
	for i, kw := range diagramKeywords {
		srv := fmt.Sprintf("198.18.%d.%d:80", 1+i/200, 1+i%200)
		c := newConn(f, fmt.Sprintf("198.18.0.100:%d", 40000+i), srv)
		c.handshake()
		c.sendString(false, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.sendString(true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		c.close()
		var words []string
		for _, r := range kw {
			words = append(words, string(r)+"x")
		}
		args = append(args, "--alias", strings.TrimSuffix(srv, ":80")+"="+strings.Join(words, " "))
	}
	dir := t.TempDir()
	capPath := filepath.Join(dir, "keywords.pcap")
	if err := os.WriteFile(capPath, f.pcap(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, append(args, capPath)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	keyword := map[string]bool{}
	for _, kw := range diagramKeywords {
		keyword[kw] = true
	}
	ids := 0
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "participant "); ok {
			id, _, _ := strings.Cut(rest, " ")
			ids++
			if keyword[strings.ToUpper(id)] {
				t.Errorf("participant id %q is a keyword: %s", id, line)
			}
		}
	}
	if ids < len(diagramKeywords) {
		t.Fatalf("%d participants, want at least %d:\n%s", ids, len(diagramKeywords), out)
	}
	mmd := filepath.Join(dir, "keywords.mmd")
	if err := os.WriteFile(mmd, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	browsertest.CheckMermaidFiles(t, mmd)
}
