package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authflow/authflow/sequence"
)

// Timeline writes a flow's messages one line each as they come, for the
// live timeline of a capture: the capture time, who calls whom and the
// label, then the notes, coloured (on a terminal) and made safe for a
// terminal as the text format does.
type Timeline struct {
	w io.Writer
	c *colorer
}

// NewTimeline returns a Timeline writing to w, with colours if color.
func NewTimeline(w io.Writer, color bool) *Timeline {
	return &Timeline{w: w, c: newColorer(color)}
}

// Message writes one message; name gives a participant's name by id.
func (t *Timeline) Message(m *sequence.Message, name func(id string) string) error {
	from, to, arrow := name(m.From), name(m.To), "→"
	if m.Response {
		from, to, arrow = to, from, "←"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %s %s: %s\n", t.c.note(clock(m.Time)), t.c.participant(oneLine(from)), arrow, t.c.participant(oneLine(to)), t.c.label(oneLine(m.Label), m.Status, m.Kind))
	for _, n := range m.Notes {
		fmt.Fprintf(&sb, "%12s %s\n", "", t.c.note("note: "+oneLine(n.Text)))
	}
	_, err := io.WriteString(t.w, sb.String())
	return err
}

// Warning writes a warning at a capture time, e.g. packets the kernel
// dropped.
func (t *Timeline) Warning(at time.Time, text string) error {
	_, err := fmt.Fprintf(t.w, "%s %s\n", t.c.note(clock(at)), t.c.fail.Sprint("warning: "+oneLine(text)))
	return err
}

// TerminalText makes text from the wire safe for one terminal line, as
// every terminal output of authflow does: no line breaks, no control
// characters or escape sequences.
func TerminalText(s string) string { return oneLine(s) }

// clock is a time of day to the millisecond, in UTC like the other times
// authflow prints.
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }
