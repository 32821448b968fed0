package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence"
)

// roleFlow renders a flow by roles instead of names: who is who, message
// by message, whatever the participants are called.
func roleFlow(f *sequence.Flow) []string {
	roles := map[string]string{}
	for _, p := range f.Participants {
		roles[p.ID] = p.Role
	}
	var lines []string
	for _, p := range f.Participants {
		lines = append(lines, fmt.Sprintf("participant %s %s", p.ID, p.Role))
	}
	for _, m := range f.Messages {
		lines = append(lines, fmt.Sprintf("%d %s %s->%s %s: %s cause=%d reply=%d", m.Seq, m.Kind, roles[m.From], roles[m.To], m.From+"/"+m.To, m.Label, m.Cause, m.ReplyTo))
	}
	return lines
}

// TestAliasesNameWithoutChangingRoles checks, on the image-save capture,
// that an alias names a host or an endpoint and never changes who is who:
// the same messages between the same roles with and without aliases (a
// host alias once drew glance's calls from an invented client and merged
// keystone's work into the client's; an endpoint alias split glance).
func TestAliasesNameWithoutChangingRoles(t *testing.T) {
	base := analyzeJSON(t, scenarioArgs("image-save")...)
	want := roleFlow(base)
	tests := []struct {
		aliases []string
		names   map[string]string // role → the name its participant must have
	}{
		{[]string{"198.18.0.11=controller"}, map[string]string{
			"keystone": "keystone (controller)", "glance": "glance (controller)", "client": "OpenStackClient", "memcached": "memcached"}},
		{[]string{"198.18.0.11:9292=glance-api"}, map[string]string{
			"keystone": "keystone", "glance": "glance-api"}},
		{[]string{"198.18.0.11:9292=glance-api", "198.18.0.11=controller", "198.18.0.100=workstation"}, map[string]string{
			"keystone": "keystone (controller)", "glance": "glance-api (controller)", "client": "OpenStackClient (workstation)"}},
		{[]string{"198.18.0.100=OpenStackClient", "127.0.0.1:11211=token-cache"}, map[string]string{
			"client": "OpenStackClient", "memcached": "token-cache", "glance": "glance"}},
		{[]string{"127.0.0.1:5000=keystone"}, map[string]string{"keystone": "keystone"}},
		{[]string{"198.18.0.11=controller", "127.0.0.1=controller"}, map[string]string{
			"keystone": "keystone (controller)", "memcached": "memcached (controller)", "glance": "glance (controller)"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.aliases, ","), func(t *testing.T) {
			var args []string
			for _, a := range tt.aliases {
				args = append(args, "--alias", a)
			}
			flow := analyzeJSON(t, append(args, scenarioArgs("image-save")...)...)
			if got := roleFlow(flow); !slices.Equal(got, want) {
				t.Errorf("the flow changed:\n%s", lineDiff(want, got))
			}
			if len(flow.Findings) != len(base.Findings) {
				t.Errorf("%d findings, %d without aliases", len(flow.Findings), len(base.Findings))
			}
			for i, f := range flow.Findings {
				if i < len(base.Findings) && (f.Kind != base.Findings[i].Kind || f.Severity != base.Findings[i].Severity) {
					t.Errorf("finding %d: %s/%s, without aliases %s/%s", i, f.Kind, f.Severity, base.Findings[i].Kind, base.Findings[i].Severity)
				}
				if strings.Contains(f.Detail, ").conf") || strings.Contains(f.Detail, "-api.conf") && !strings.Contains(f.Detail, "glance-api.conf") {
					t.Errorf("finding %s names a config file after an alias: %s", f.Kind, f.Detail)
				}
			}
			for role, name := range tt.names {
				var names []string
				for _, p := range flow.Participants {
					if p.Role == role {
						names = append(names, p.Name)
					}
				}
				if len(names) != 1 || names[0] != name {
					t.Errorf("%s is drawn as %q, want %q", role, names, name)
				}
			}
		})
	}
}

// lineDiff shows the first lines that differ.
func lineDiff(want, got []string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(want), len(got)) && n < 8; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			fmt.Fprintf(&b, "want: %s\ngot:  %s\n", w, g)
			n++
		}
	}
	return b.String()
}

// TestAliasMustBeAnAddress: an alias of something that is no address
// (a host name authflow cannot resolve from a capture) is a usage error,
// not an alias that silently names nothing.
func TestAliasMustBeAnAddress(t *testing.T) {
	for _, bad := range []string{"controller=ctl", "198.18.0.11:http=x", "198.18.0.11", "=x", "198.18.0.11="} {
		_, stderr, code := runCLI(t, append([]string{"analyze", "--alias", bad}, scenarioArgs("token-issue")...)...)
		if code != exitUsage || !strings.Contains(stderr, "--alias") {
			t.Errorf("--alias %s: exit %d, %s", bad, code, stderr)
		}
	}
	for _, good := range []string{"198.18.0.11=ctl", "[::1]:5000=ks", "::1=lo", "198.18.0.11:5000=ks"} {
		if _, stderr, code := runCLI(t, append([]string{"analyze", "--alias", good}, scenarioArgs("token-issue")...)...); code != exitOK {
			t.Errorf("--alias %s: exit %d, %s", good, code, stderr)
		}
	}
}
