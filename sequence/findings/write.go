package findings

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render/escape"
)

// Caps of the evidence Write lists per finding.
const (
	maxWrittenSeqs   = 12
	maxWrittenFrames = 8
	wrapWidth        = 100
)

// Write writes findings as readable text: a count by severity, then per
// finding its severity, kind and summary, its detail wrapped, and its
// evidence (message seqs and frames, capped).
func Write(w io.Writer, fs []sequence.Finding) error {
	ew := &errWriter{w: w}
	if len(fs) == 0 {
		ew.printf("findings: none\n")
		return ew.err
	}
	counts := map[string]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	var parts []string
	for _, s := range []string{SeverityError, SeverityWarning, SeverityInfo} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	ew.printf("findings: %s\n", strings.Join(parts, ", "))
	for _, f := range fs {
		ew.printf("\n%-7s %s: %s\n", f.Severity, f.Kind, oneLine(f.Summary))
		for _, line := range wrap(oneLine(f.Detail), wrapWidth-8) {
			ew.printf("        %s\n", line)
		}
		if ev := evidence(f); ev != "" {
			ew.printf("        evidence: %s\n", ev)
		}
	}
	return ew.err
}

// evidence writes "seq 10, 11, 15; frames lo.pcap.gz:234, …", capped.
func evidence(f sequence.Finding) string {
	var parts []string
	if len(f.Messages) > 0 {
		var seqs []string
		for i, s := range f.Messages {
			if i == maxWrittenSeqs {
				seqs = append(seqs, fmt.Sprintf("… (+%d)", len(f.Messages)-i))
				break
			}
			seqs = append(seqs, strconv.Itoa(s))
		}
		parts = append(parts, "seq "+strings.Join(seqs, ", "))
	}
	if len(f.Frames) > 0 {
		var frames []string
		for i, fr := range f.Frames {
			if i == maxWrittenFrames {
				frames = append(frames, fmt.Sprintf("… (+%d)", len(f.Frames)-i))
				break
			}
			if fr.File == "" {
				frames = append(frames, "#"+strconv.Itoa(fr.Number))
				continue
			}
			frames = append(frames, fr.File+":"+strconv.Itoa(fr.Number))
		}
		parts = append(parts, "frames "+strings.Join(frames, ", "))
	}
	return strings.Join(parts, "; ")
}

// oneLine keeps text on one line and drops control characters.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(escape.Terminal(s), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f
	}), " ")
}

// wrap cuts text into lines of at most width columns, at spaces, and
// inside words longer than a line (CJK text has few spaces).
func wrap(s string, width int) []string {
	var lines []string
	var cur []rune
	curW := 0
	flush := func() {
		if len(cur) > 0 {
			lines = append(lines, string(cur))
		}
		cur, curW = cur[:0], 0
	}
	for _, word := range strings.Fields(s) {
		for _, piece := range split([]rune(word), width) {
			pw := runesWidth(piece)
			if curW > 0 && curW+1+pw > width {
				flush()
			}
			if curW > 0 {
				cur = append(cur, ' ')
				curW++
			}
			cur = append(cur, piece...)
			curW += pw
		}
	}
	flush()
	return lines
}

// split cuts a word into pieces of at most width columns.
func split(w []rune, width int) [][]rune {
	var out [][]rune
	start, n := 0, 0
	for i, r := range w {
		rw := runeWidth(r)
		if n+rw > width && i > start {
			out = append(out, w[start:i])
			start, n = i, 0
		}
		n += rw
	}
	return append(out, w[start:])
}

func runesWidth(rs []rune) int {
	n := 0
	for _, r := range rs {
		n += runeWidth(r)
	}
	return n
}

// runeWidth is 2 for wide (CJK, full-width) characters, else 1.
func runeWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	}
	return 1
}

// errWriter keeps the first write error and skips writing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	if _, err := fmt.Fprintf(e.w, format, args...); err != nil {
		e.err = fmt.Errorf("write findings: %w", err)
	}
}
