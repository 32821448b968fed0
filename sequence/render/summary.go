package render

import (
	"fmt"
	"io"
	"slices"
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

// OperationsTitle heads the table of operations under the summary.
const OperationsTitle = "operations: the requests by method and route"

// operationRows returns the table of operations (sequence.Operations):
// per method and route template, count, errors by status, latency
// percentiles, validations, cache hits, database statements and busy time.
func operationRows(flow *sequence.Flow) (header []string, rows [][]string) {
	header = []string{"request", "count", "errors", "p50", "p95", "p99", "max", "validations", "cache hits", "db statements", "db busy"}
	for _, op := range sequence.Operations(flow) {
		var errs []string
		codes := make([]int, 0, len(op.Errors))
		for c := range op.Errors {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			errs = append(errs, fmt.Sprintf("%d×%d", c, op.Errors[c]))
		}
		if op.Unanswered > 0 {
			errs = append(errs, fmt.Sprintf("unanswered×%d", op.Unanswered))
		}
		e := strings.Join(errs, " ")
		if e == "" {
			e = "-"
		}
		hits := "-"
		if op.CacheLookups > 0 {
			hits = fmt.Sprintf("%d/%d", op.CacheHits, op.CacheLookups)
		}
		rows = append(rows, []string{shortReq(op.Request), fmt.Sprint(op.Count), e, msCell(op.P50MS), msCell(op.P95MS), msCell(op.P99MS), msCell(op.MaxMS),
			fmt.Sprint(op.Validations), hits, fmt.Sprint(op.DBStatements), msCell(op.DBBusyMS)})
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
	ew := newErrWriter(w)
	if title {
		ew.printf("%s%s\n", prefix, SummaryTitle)
	}
	header, rows := summaryRows(flow)
	if err := alignedTable(ew, prefix, header, rows); err != nil {
		return err
	}
	// Under its title, the summary goes on with the operations.
	if header, rows := operationRows(flow); title && len(rows) > 0 {
		ew.printf("%s\n%s%s\n", strings.TrimRight(prefix, " "), prefix, OperationsTitle)
		if err := alignedTable(ew, prefix, header, rows); err != nil {
			return err
		}
	}
	return ew.flush()
}

// alignedTable writes a table as aligned text, each line starting with
// prefix.
func alignedTable(ew *errWriter, prefix string, header []string, rows [][]string) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			ew.printf("%s%s", prefix, line)
		}
	}
	return nil
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
	if header, rows := operationRows(flow); len(rows) > 0 {
		ew.printf("\n## Operations\n\nThe requests by method and route.\n\n")
		cells(header)
		ew.printf("|%s\n", strings.Repeat("---|", len(header)))
		for _, row := range rows {
			cells(row)
		}
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
