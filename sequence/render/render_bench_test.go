package render

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/authflow/authflow/sequence"
)

// benchFlow builds a flow of n messages by hand, shaped like image-save's:
// the client calls glance, glance looks the token up in memcached,
// validates it with keystone, which queries its database, and answers.
func benchFlow(n int) *sequence.Flow {
	f := &sequence.Flow{Participants: []*sequence.Participant{
		{ID: "C", Name: "OpenStackClient", Role: sequence.RoleClient, Endpoints: []string{"198.18.0.100"}},
		{ID: "G", Name: "glance", Role: sequence.RoleGlance, Endpoints: []string{"198.18.0.11:9292"}},
		{ID: "M", Name: "memcached", Role: sequence.RoleMemcached, Endpoints: []string{"127.0.0.1:11211"}},
		{ID: "K", Name: "keystone", Role: sequence.RoleKeystone, Endpoints: []string{"198.18.0.11:5000"}},
		{ID: "KD", Name: "keystone DB", Role: sequence.RoleMySQL, Endpoints: []string{"127.0.0.1:3306"}},
		{ID: "GD", Name: "glance DB", Role: sequence.RoleMySQL, Endpoints: []string{"127.0.0.1:3306"}},
	}}
	t := time.Date(2026, 11, 22, 12, 16, 14, 0, time.UTC)
	steps := []struct {
		from, to, label string
		resp            bool
		note            string
	}{
		{"C", "G", "GET /v2/images/cirros: show image cirros [token 047cf66b0773]", false, ""},
		{"G", "M", "get token 047cf66b0773", false, ""},
		{"M", "G", "miss", true, "cache miss: the token must be validated by keystone"},
		{"G", "K", "GET /v3/auth/tokens: validate token 047cf66b0773 [token 58a8bbdbbdee]", false, "glance validates token 047cf66b0773 with its own token 58a8bbdbbdee"},
		{"K", "KD", "235 queries (project, project_tag, project_option, user, …)", false, ""},
		{"KD", "K", "ok, 102 rows", true, ""},
		{"K", "G", "200 OK: token 047cf66b0773 valid (admin@Default, project admin@Default)", true, ""},
		{"G", "GD", "16 queries (images, image_properties, image_locations)", false, ""},
		{"GD", "G", "ok, 8 rows", true, ""},
		{"G", "C", "404 Not Found", true, "404 Not Found"},
	}
	for i := range n {
		s := steps[i%len(steps)]
		m := &sequence.Message{
			Seq: i + 1, Time: t, From: s.from, To: s.to, Label: s.label, Response: s.resp,
			Kind: "http.request", Frames: []sequence.Frame{{File: "ens.pcap", Number: i + 1}},
		}
		if s.note != "" {
			m.Notes = []sequence.Note{{Over: []string{s.from}, Text: s.note}}
		}
		f.Messages = append(f.Messages, m)
		t = t.Add(time.Millisecond)
	}
	return f
}

// countWriter counts what is written.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkWrite writes a 10 000-message flow with each writer, once per
// operation; MB/s counts the output.
func BenchmarkWrite(b *testing.B) {
	flow := benchFlow(10000)
	for _, w := range []struct {
		name  string
		write func(io.Writer, *sequence.Flow) error
	}{
		{"mermaid", Mermaid},
		{"markdown", Markdown},
		{"json", JSON},
		{"text", Text},
	} {
		b.Run(w.name, func(b *testing.B) {
			var cw countWriter
			if err := w.write(&cw, flow); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(cw.n)
			b.ReportAllocs()
			for b.Loop() {
				if err := w.write(io.Discard, flow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMermaidText escapes a typical label.
func BenchmarkMermaidText(b *testing.B) {
	label := fmt.Sprintf("GET /v3/auth/tokens: validate token %s [token %s] <%d>", "047cf66b0773", "58a8bbdbbdee", 42)
	b.SetBytes(int64(len(label)))
	b.ReportAllocs()
	for b.Loop() {
		MermaidText(label)
	}
}
