package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authflow/authflow/sequence"
)

// SummaryTable writes, for each request a client made, where its time
// went: token validation, service authentication, database (its busy
// time), cache, file I/O, other calls, and the rest (the service itself).
func SummaryTable(w io.Writer, flow *sequence.Flow) error {
	timings := sequence.Timings(flow)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"#", "request", "status", "total"}
	for _, c := range sequence.SpentOrder {
		if c == sequence.SpentDatabase {
			c = "database busy" // not the span of the bursts of queries
		}
		header = append(header, c)
	}
	header = append(header, "itself")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, rt := range timings {
		row := []string{fmt.Sprint(rt.Seq), shortReq(rt.Request), fmt.Sprint(rt.Status), msCell(rt.TotalMS)}
		rest := rt.TotalMS
		for _, c := range sequence.SpentOrder {
			row = append(row, msCell(rt.Spent[c]))
			rest -= rt.Spent[c]
		}
		row = append(row, msCell(max(rest, 0)))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
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

func shortReq(r string) string {
	r = oneLine(r)
	if len(r) > 48 {
		return r[:47] + "…"
	}
	return r
}
