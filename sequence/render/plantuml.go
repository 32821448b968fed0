package render

import (
	"io"
	"strings"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render/escape"
)

// PlantUML writes the flow as a PlantUML sequence diagram.
func PlantUML(w io.Writer, flow *sequence.Flow) error {
	return plantUML(w, flow, false)
}

// plantUML writes the diagram, with the summary table as a comment block
// before @enduml if summary is set.
func plantUML(w io.Writer, flow *sequence.Flow, summary bool) error {
	ew := newErrWriter(w)
	ew.printf("@startuml\n")
	ew.printf("autonumber\n")
	for _, p := range flow.Participants {
		kind := "participant"
		switch p.Role {
		case sequence.RoleClient:
			kind = "actor"
		case sequence.RoleMySQL, sequence.RoleMemcached:
			kind = "database"
		case sequence.RoleFiles:
			kind = "collections"
		}
		ew.printf("%s \"%s\" as %s\n", kind, plantText(p.Name), p.ID)
	}
	for _, m := range flow.Messages {
		arrow := "->"
		if m.Response {
			arrow = "-->"
		}
		ew.printf("%s %s %s : %s\n", m.From, arrow, m.To, plantText(m.Label))
		for _, n := range m.Notes {
			ew.printf("note over %s : %s\n", strings.Join(n.Over, ", "), plantText(n.Text))
		}
	}
	if summary {
		if err := ew.flush(); err != nil {
			return err
		}
		if err := summaryText(w, flow, "' ", true); err != nil {
			return err
		}
	}
	ew.printf("@enduml\n")
	return ew.flush()
}

// plantText keeps wire text on one line and out of PlantUML's markup
// (see escape.PlantUML): PlantUML draws it as it was.
func plantText(s string) string { return escape.PlantUML(s) }
