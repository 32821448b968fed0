package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authflow/authflow/sequence"
)

// SummaryTitle heads the summary table wherever it is written.
const SummaryTitle = "summary: where each request's time went"

// summaryRows returns the summary table, for each request a client made:
// where its time went (token validation, service authentication,
// database (its busy time), cache, file I/O, other calls, and the rest: the service
// itself). Cells are plain one-line text.
func summaryRows(flow *sequence.Flow) (header []string, rows [][]string) {
	header = []string{"#", "request", "status", "total"}
	for _, c := range sequence.SpentOrder {
		if c == sequence.SpentDatabase {
			c = "database busy" // not the span of the bursts of queries
		}
		header = append(header, c)
	}
	header = append(header, "itself")
	for _, rt := range sequence.Timings(flow) {
		row := []string{fmt.Sprint(rt.Seq), shortReq(rt.Request), fmt.Sprint(rt.Status), msCell(rt.TotalMS)}
		rest := rt.TotalMS
		for _, c := range sequence.SpentOrder {
			row = append(row, msCell(rt.Spent[c]))
			rest -= rt.Spent[c]
		}
		row = append(row, msCell(max(rest, 0)))
		rows = append(rows, row)
	}
	return header, rows
}

// SummaryTable writes the summary table as aligned text, its header line
// first.
func SummaryTable(w io.Writer, flow *sequence.Flow) error {
	return summaryText(w, flow, "", false)
}

// SummaryBlock writes the summary table as aligned text under its title
// (SummaryTitle), as the text timeline ends with it.
func SummaryBlock(w io.Writer, flow *sequence.Flow) error {
	return summaryText(w, flow, "", true)
}

// summaryText writes the summary as aligned text, each line (the title
// first, if asked for) starting with prefix: "" for text, a comment marker
// for diagram sources.
func summaryText(w io.Writer, flow *sequence.Flow, prefix string, title bool) error {
	header, rows := summaryRows(flow)
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ew := newErrWriter(w)
	if title {
		ew.printf("%s%s\n", prefix, SummaryTitle)
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			ew.printf("%s%s", prefix, line)
		}
	}
	return ew.flush()
}

// summaryMarkdown writes the summary as a Markdown table under a heading.
func summaryMarkdown(w io.Writer, flow *sequence.Flow) error {
	header, rows := summaryRows(flow)
	ew := newErrWriter(w)
	ew.printf("\n## Summary\n\nWhere each request's time went.\n\n")
	cells := func(row []string) {
		esc := make([]string, len(row))
		for i, c := range row {
			esc[i] = markdownCell(c)
		}
		ew.printf("| %s |\n", strings.Join(esc, " | "))
	}
	cells(header)
	ew.printf("|%s\n", strings.Repeat("---|", len(header)))
	for _, row := range rows {
		cells(row)
	}
	return ew.flush()
}

// markdownCell escapes text for a Markdown table cell: wire text can
// neither end the cell nor start markup.
func markdownCell(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		if strings.ContainsRune(`\|*_`+"`"+`<>[]&~`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func msCell(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

// shortReq cuts a request line to 48 characters (whole runes).
func shortReq(r string) string {
	rs := []rune(oneLine(r))
	if len(rs) > 48 {
		return string(rs[:47]) + "…"
	}
	return string(rs)
}
