package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// labSecrets are the passwords and keys of the lab the captures come from
// (lab/env.sh): none may appear in any output.
var labSecrets = []string{
	"ADMIN_PASS", "GLANCE_PASS", "DEMO_PASS", "KEYSTONE_DBPASS", "GLANCE_DBPASS",
	"lab-secret-key", // memcache_secret_key of the memcache-encrypt scenario
	"APPCRED_SECRET", // secret of the application credential (app-credential)
	"not-created",    // password of the user policy-403 fails to create
}

// fernet matches a Fernet token as keystone issues them here (183
// characters of URL-safe base64 starting gAAAAAB).
var fernet = regexp.MustCompile(`gAAAAAB[A-Za-z0-9_=-]{150,}`)

// captureTokens returns every token in captures.
func captureTokens(t *testing.T, paths []string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range fernet.FindAllString(string(data), -1) {
			seen[tok] = true
		}
	}
	var out []string
	for tok := range seen {
		out = append(out, tok)
	}
	return out
}

// TestNoSecretsInOutput runs every output format over every capture,
// real and crafted (testdata/hostile/secrets.pcap: every kind of secret
// on the wire), with every option set, and looks for the lab's and the
// crafted capture's passwords and for whole tokens in standard output
// and standard error; filter too.
func TestNoSecretsInOutput(t *testing.T) {
	formats := []string{"mermaid", "markdown", "json", "jsonl", "text", "plantuml", "html", "otlp"}
	inputs := map[string][]string{}
	for _, name := range scenarios(t) {
		inputs[name] = append(scenarioFlags(name), scenarioArgs(name)...)
	}
	live, _ := filepath.Glob("../../testdata/live/*.pcapng.gz")
	for _, p := range live {
		inputs["live/"+filepath.Base(p)] = []string{p}
	}
	crafted := filepath.Join(hostileDir, "secrets.pcap")
	inputs["crafted/secrets.pcap"] = []string{"--memcache-secret", craftedMemcacheSecret, crafted}
	secrets := append(slices.Clone(labSecrets), craftedSecrets...)
	for name, args := range inputs {
		t.Run(name, func(t *testing.T) {
			var paths []string
			for _, a := range args {
				if strings.HasSuffix(a, ".gz") {
					paths = append(paths, a)
				}
			}
			tokens := captureTokens(t, paths)
			if name == "crafted/secrets.pcap" {
				tokens = []string{craftedToken, craftedJWS, craftedUUIDToken}
			}
			if len(tokens) == 0 && name != "bad-password" {
				t.Fatal("no token found in the capture: the check would be vacuous")
			}
			check := func(args []string, out string) {
				t.Helper()
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%v: output contains the secret %q", args, s)
					}
				}
				for _, tok := range tokens {
					if strings.Contains(out, tok) || strings.Contains(out, tok[:min(len(tok), 24)]) {
						t.Errorf("%v: output contains a whole token %s…", args, tok[:12])
					}
				}
			}
			// Every format with the option set that shows the most; the
			// other sets in one format each (all of them for the crafted
			// capture), to keep the test's time in bounds.
			full := []string{"--detail=2", "--findings", "--timing", "--frames", "--summary"}
			for _, format := range formats {
				sets := [][]string{full}
				if name == "crafted/secrets.pcap" {
					sets = append(sets, nil, []string{"--memcache-secret", "lab-secret-key"})
				} else if format == "json" {
					sets = append(sets, nil)
					if name == "memcache-encrypt" {
						sets = append(sets, []string{"--memcache-secret", "lab-secret-key"})
					}
				}
				for _, extra := range sets {
					args := append(append([]string{"analyze", "-f", format, "--findings"}, extra...), args...)
					out, stderr, code := runCLI(t, args...)
					if code != exitOK {
						t.Fatalf("%v: exit %d", args, code)
					}
					check(args, out)
					check(args, stderr)
				}
			}
			fargs := append([]string{"filter", "--detail=2"}, args...)
			out, stderr, _ := runCLI(t, fargs...)
			check(fargs, out+stderr)
			// --show-secrets shows tokens, and still no password.
			out, stderr, _ = runCLI(t, append([]string{"analyze", "-f", "json", "--show-secrets"}, args...)...)
			if !strings.Contains(stderr, "--show-secrets") {
				t.Errorf("--show-secrets does not say so on stderr")
			}
			for _, s := range secrets {
				if strings.Contains(out+stderr, s) {
					t.Errorf("--show-secrets: output contains the secret %q", s)
				}
			}
			shown := false
			for _, tok := range tokens {
				shown = shown || strings.Contains(out, tok)
			}
			if !shown && len(tokens) > 0 {
				t.Errorf("--show-secrets shows no token")
			}
			// The OpenTelemetry traces too: whole tokens, no password.
			out, stderr, _ = runCLI(t, append([]string{"analyze", "-f", "otlp", "--detail=2", "--show-secrets"}, args...)...)
			for _, s := range secrets {
				if strings.Contains(out+stderr, s) {
					t.Errorf("-f otlp --show-secrets: output contains the secret %q", s)
				}
			}
			shown = false
			for _, tok := range tokens {
				shown = shown || strings.Contains(out, tok)
			}
			if !shown && len(tokens) > 0 {
				t.Errorf("-f otlp --show-secrets shows no token")
			}
		})
	}
}
