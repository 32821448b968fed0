package sequence

// Scrub passes every string of the flow that came from the wire through
// fn (participant names and endpoints, labels, targets, keys,
// statements, errors, paths, notes, warnings, findings): how known
// secrets and tokens are removed from everything a writer shows.
func (f *Flow) Scrub(fn func(string) string) {
	for _, p := range f.Participants {
		p.Name = fn(p.Name)
		for i := range p.Endpoints {
			p.Endpoints[i] = fn(p.Endpoints[i])
		}
	}
	for _, m := range f.Messages {
		for _, s := range []*string{&m.Label, &m.Method, &m.Target, &m.Key, &m.Scope, &m.User, &m.Database,
			&m.Statement, &m.Error, &m.Path, &m.Comm, &m.Expires, &m.Image} {
			*s = fn(*s)
		}
		for i := range m.Tables {
			m.Tables[i] = fn(m.Tables[i])
		}
		for i := range m.Notes {
			m.Notes[i].Text = fn(m.Notes[i].Text)
		}
	}
	for i := range f.Warnings {
		f.Warnings[i] = fn(f.Warnings[i])
	}
	for i := range f.Findings {
		f.Findings[i].Summary = fn(f.Findings[i].Summary)
		f.Findings[i].Detail = fn(f.Findings[i].Detail)
	}
	for i := range f.Clocks {
		f.Clocks[i] = fn(f.Clocks[i])
	}
}
