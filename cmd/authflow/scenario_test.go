package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence"
)

func analyzeJSON(t *testing.T, args ...string) *sequence.Flow {
	t.Helper()
	out, stderr, code := runCLI(t, append([]string{"analyze", "-f", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("analyze %v: exit %d: %s", args, code, stderr)
	}
	return decodeFlow(t, out)
}

func decodeFlow(t *testing.T, out string) *sequence.Flow {
	t.Helper()
	var flow sequence.Flow
	if err := json.Unmarshal([]byte(out), &flow); err != nil {
		t.Fatal(err)
	}
	return &flow
}

// flowLines renders a flow without frame references, to compare flows
// read from different capture files of the same traffic.
func flowLines(f *sequence.Flow) []string {
	names := map[string]string{}
	for _, p := range f.Participants {
		names[p.ID] = p.Name
	}
	var lines []string
	for _, m := range f.Messages {
		lines = append(lines, fmt.Sprintf("%s %s->%s %s %s cause=%d", m.Time.Format("15:04:05.000000"), names[m.From], names[m.To], m.Kind, m.Label, m.Cause))
	}
	return lines
}

// TestAnyEqualsMerged checks that one `tcpdump -i any` capture (Linux
// cooked v2) gives the same flow as the two interfaces recorded apart and
// merged, and that dumpcap's two-interface pcapng does too.
func TestAnyEqualsMerged(t *testing.T) {
	for _, c := range []struct{ scenario, file string }{
		{"image-list-cold", "any.pcap.gz"},
		{"image-save", "both.pcapng.gz"},
	} {
		t.Run(c.scenario+"/"+c.file, func(t *testing.T) {
			merged := flowLines(analyzeJSON(t, scenarioArgs(c.scenario)...))
			single := flowLines(analyzeJSON(t, filepath.Join(capturesDir, c.scenario, c.file)))
			if len(merged) == 0 {
				t.Fatal("no messages")
			}
			// dumpcap's nanosecond timestamps differ from tcpdump's by a few
			// microseconds: compare without the time column.
			for i := range merged {
				merged[i] = merged[i][16:]
			}
			for i := range single {
				single[i] = single[i][16:]
			}
			if strings.Join(merged, "\n") != strings.Join(single, "\n") {
				t.Errorf("flows differ:\nmerged:\n%s\n%s:\n%s", strings.Join(merged, "\n"), c.file, strings.Join(single, "\n"))
			}
		})
	}
}

// tsharkHTTP reads the HTTP lines tshark listed for one capture file of a
// scenario: "GET /v3" for requests, "200" for responses.
func tsharkHTTP(t *testing.T, scenario, file string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(capturesDir, scenario, "tshark-http.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "== ") {
			in = strings.HasPrefix(line, "== "+file+" ")
			continue
		}
		if !in {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 8 {
			continue
		}
		// tshark puts its expert notes first: "[TCP Previous segment not
		// captured] GET /v2/images HTTP/1.1".
		text := fields[7]
		for strings.HasPrefix(text, "[") && strings.Contains(text, "] ") {
			text = text[strings.Index(text, "] ")+2:]
		}
		info := strings.Fields(text)
		if len(info) >= 2 && strings.HasPrefix(info[0], "HTTP/") {
			out = append(out, info[1])
		} else if len(info) >= 2 {
			out = append(out, info[0]+" "+info[1])
		}
	}
	return out
}

// tsharkMisses lists, per capture, the HTTP messages authflow decodes
// that tshark does not list (request lines, or statuses for answers), the
// last of their kind in the flow, with the reason. The cross-check expects
// exactly those besides tshark's.
var tsharkMisses = map[string]struct {
	why   string
	extra []string
}{
	// With segments lost to the kernel, tshark does not list the
	// download's 200 OK (frame 681): it cannot reassemble the body its
	// Content-Length announces; authflow reads the header and counts the
	// lost bytes.
	"kernel-drops": {"tshark leaves out the download's 200 OK", []string{"200"}},
}

// TestHTTPMatchesTshark checks, for every scenario, that every HTTP request
// and response tshark lists is in the flow, in order, per capture file.
func TestHTTPMatchesTshark(t *testing.T) {
	for _, name := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			args := scenarioArgs(name)
			flow := analyzeJSON(t, args...)
			for i, arg := range args {
				file := strings.TrimSuffix(filepath.Base(arg), ".gz")
				want := tsharkHTTP(t, name, file)
				if i == 0 && len(want) == 0 {
					t.Fatal("no HTTP lines in tshark-http.txt")
				}
				var got []string
				for _, m := range flow.Messages {
					if len(m.Frames) == 0 || m.Frames[0].File != file+".gz" {
						continue
					}
					switch {
					case m.Method != "":
						got = append(got, m.Method+" "+m.Target)
					case m.Status != 0:
						got = append(got, fmt.Sprint(m.Status))
					}
				}
				for _, extra := range tsharkMisses[name].extra {
					i := len(got) - 1
					for i >= 0 && got[i] != extra {
						i--
					}
					if i < 0 {
						t.Fatalf("%s: no %q, which tshark leaves out (%s)", file, extra, tsharkMisses[name].why)
					}
					got = slices.Delete(got, i, i+1)
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: HTTP messages differ from tshark's:\ngot:\n%s\nwant:\n%s", file, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// TestCatalogNamesService checks, on a real capture, that a service on a
// port authflow has no rule for (9311) is named from the service catalog
// of the token response: the lab registered barbican (key-manager) at
// http://198.18.0.11:9311 and the client used it with its token.
func TestCatalogNamesService(t *testing.T) {
	flow := analyzeJSON(t, "../../testdata/live/catalog-barbican.pcapng.gz")
	var found bool
	for _, p := range flow.Participants {
		if p.Name == "barbican" {
			found = true
			if p.Role != "service" || !slices.Contains(p.Endpoints, "198.18.0.11:9311") {
				t.Errorf("barbican: %+v", p)
			}
		}
	}
	if !found {
		t.Fatalf("no barbican participant: %+v", flow.Participants)
	}
	for _, m := range flow.Messages {
		if m.Target == "/v1/secrets" && (m.Token == "" || m.Frames[0].Number == 0) {
			t.Errorf("the call to barbican lost its token or frame: %+v", m)
		}
	}
}
