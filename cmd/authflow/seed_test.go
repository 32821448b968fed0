package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestImageSaveMatchesSeed checks the image-save flow against the steps of
// the hand-made diagram of the write-up this project started from
// (image-save-trace.txt): the same participants, and the
// same steps in the same order.
func TestImageSaveMatchesSeed(t *testing.T) {
	flow := analyzeJSON(t, append(scenarioFlags("image-save"), scenarioArgs("image-save")...)...)
	names := map[string]string{}
	var order []string
	for _, p := range flow.Participants {
		names[p.ID] = p.Name
		order = append(order, p.Name)
	}
	for _, want := range []string{"OpenStackClient", "keystone", "keystone DB", "glance", "glance DB", "memcached", "Local File System"} {
		if !strings.Contains(strings.Join(order, ","), want) {
			t.Errorf("no participant %q (have %v)", want, order)
		}
	}
	var steps []string
	for _, m := range flow.Messages {
		step := fmt.Sprintf("%s→%s %s", names[m.From], names[m.To], m.Kind)
		if m.Hit != nil {
			step += fmt.Sprintf(" hit=%v", *m.Hit)
		}
		steps = append(steps, step)
	}
	// The seed's steps, in order (other messages may come in between).
	seed := []string{
		"OpenStackClient→keystone keystone.token.issue",  // user admin authenticates
		"keystone→keystone DB mysql.query",               // keystone looks admin up
		"keystone DB→keystone mysql.result",              // ok
		"keystone→OpenStackClient keystone.token.issued", // admin token
		"OpenStackClient→glance glance.image.show",       // the client asks glance, with the token
		"glance→memcached memcached.get",                 // glance looks the token up
		"memcached→glance memcached.result hit=false",    // not there
		"glance→keystone keystone.token.issue",           // glance authenticates itself
		"keystone→keystone DB mysql.query",               // keystone looks glance up
		"keystone DB→keystone mysql.result",              // ok
		"keystone→glance keystone.token.issued",          // glance's token
		"glance→keystone keystone.token.validate",        // glance validates the admin token
		"keystone→keystone DB mysql.query",               // keystone looks the token up
		"keystone DB→keystone mysql.result",              // ok
		"keystone→glance keystone.token.valid",           // valid
		"glance→memcached memcached.set",                 // stored in memcached
		"memcached→glance memcached.result",              // stored
		"glance→glance DB mysql.query",                   // glance queries its database
		"glance DB→glance mysql.result",                  // image metadata
		"OpenStackClient→glance glance.image.list",       // GET /v2/images?name=cirros
		"glance→memcached memcached.get",                 // token looked up again
		"memcached→glance memcached.result hit=true",     // found: no keystone call
		"glance→OpenStackClient http.response",           // metadata
		"OpenStackClient→glance glance.image.download",   // GET …/file
		"glance→memcached memcached.get",                 // token looked up
		"memcached→glance memcached.result hit=true",     // found
		"glance→Local File System file.open",             // openat the image file
		"Local File System→glance file.read",             // read it
		"glance→OpenStackClient http.response",           // 200 OK: the image
	}
	i := 0
	for _, s := range steps {
		if i < len(seed) && s == seed[i] {
			i++
		}
	}
	if i < len(seed) {
		t.Errorf("step %d of the seed (%s) not found in order; the flow:\n%s", i+1, seed[i], strings.Join(steps, "\n"))
	}
	// Between the client's first glance request and glance's answer there
	// is no other client request: the downstream calls are stitched inside.
	for _, m := range flow.Messages {
		if m.Kind == "glance.image.show" {
			for _, d := range flow.Messages {
				if d.Cause == m.Seq && (names[d.From] == "OpenStackClient" || names[d.To] == "OpenStackClient") {
					t.Errorf("message %d (%s) caused by %d involves the client", d.Seq, d.Label, m.Seq)
				}
			}
		}
	}
}
