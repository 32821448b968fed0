package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/pipeline"
	"github.com/authflow/authflow/sequence"
)

// selection turns the selection flags into a sequence.Selection. Times
// given as frame numbers are looked up in the capture files.
func (o *inputOptions) selection(paths []string) (sequence.Selection, error) {
	sel := sequence.Selection{
		Token:        o.token,
		Image:        o.image,
		Participants: o.participants,
		NoDB:         o.noDB,
		NoCache:      o.noCache,
	}
	var err error
	if o.since != "" {
		if sel.Since, err = parseWhen(o.since, paths, false); err != nil {
			return sel, usageError{fmt.Errorf("--since: %w", err)}
		}
	}
	if o.until != "" {
		if sel.Until, err = parseWhen(o.until, paths, true); err != nil {
			return sel, usageError{fmt.Errorf("--until: %w", err)}
		}
	}
	return sel, nil
}

// parseWhen reads a point in the capture: an RFC 3339 time, a time of day
// (UTC, on the capture's first day), +DURATION after the first packet, or a
// frame: N (of the first file) or FILE:N.
func parseWhen(s string, paths []string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil {
			return time.Time{}, err
		}
		first, err := frameTime(paths, "", 1)
		if err != nil {
			return time.Time{}, err
		}
		return first.Add(dur), nil
	}
	file, num, hasFile := strings.Cut(s, ":")
	if !hasFile {
		file, num = "", s
	}
	if n, err := strconv.Atoi(num); err == nil && n > 0 && !strings.Contains(file, ".") == (file == "") {
		t, err := frameTime(paths, file, n)
		if err != nil {
			return time.Time{}, err
		}
		if end {
			// Up to a frame includes messages starting at that frame.
			t = t.Add(time.Nanosecond - 1)
		}
		return t, nil
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04:05"} {
		if tod, err := time.Parse(layout, s); err == nil {
			first, err := frameTime(paths, "", 1)
			if err != nil {
				return time.Time{}, err
			}
			y, m, d := first.UTC().Date()
			return time.Date(y, m, d, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time, +duration or frame number", s)
}

// frameTime finds the capture time of frame n of the input named file (its
// base name; "" for the first input).
func frameTime(paths []string, file string, n int) (time.Time, error) {
	path := ""
	for _, p := range paths {
		if file == "" || filepath.Base(p) == file || p == file {
			path = p
			break
		}
	}
	if path == "" {
		return time.Time{}, fmt.Errorf("no input file %q", file)
	}
	if path == capture.StdinPath {
		return time.Time{}, fmt.Errorf("frame %d of standard input: a frame number needs a capture file, standard input is read only once", n)
	}
	src, err := capture.OpenFiles([]string{path}, capture.FileOptions{})
	if err != nil {
		return time.Time{}, err
	}
	defer src.Close()
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			return time.Time{}, fmt.Errorf("%s has no frame %d", filepath.Base(path), n)
		}
		if err != nil {
			return time.Time{}, err
		}
		if p.Frame == n {
			return p.Info.Timestamp, nil
		}
	}
}

// unmatchedText says, in a line, what part of the selection matched
// nothing and what the capture has instead.
func unmatchedText(u sequence.Unmatched) string {
	have := func(kind string) string {
		if len(u.Have) == 0 {
			return "; the capture has no " + kind
		}
		const show = 12
		list := u.Have
		more := ""
		if len(list) > show {
			more = fmt.Sprintf(" and %d more", len(list)-show)
			list = list[:show]
		}
		return fmt.Sprintf("; the capture has %s: %s%s", kind, strings.Join(list, ", "), more)
	}
	switch u.What {
	case "token":
		return fmt.Sprintf("--token %s matches no token%s", u.Value, have("tokens"))
	case "image":
		return fmt.Sprintf("--image %s matches no image%s", u.Value, have("images"))
	case "participant":
		return fmt.Sprintf("--participant %s matches no participant%s", u.Value, have("participants"))
	case "window":
		if len(u.Have) == 2 {
			return fmt.Sprintf("--since/--until (%s) keep no message; the capture's messages run from %s to %s", u.Value, u.Have[0], u.Have[1])
		}
		return fmt.Sprintf("--since/--until (%s) keep no message; the capture has none", u.Value)
	}
	return fmt.Sprintf("%s %s matches nothing", u.What, u.Value)
}

// checkSelection says which parts of the selection matched nothing. When
// the selection keeps no message at all it is an error (a usage error:
// the command line names what the capture does not have) and nothing is
// written; otherwise each unmatched part is a warning in the flow.
func checkSelection(cmd *cobra.Command, res *pipeline.Result) error {
	if !res.Selected {
		return nil
	}
	var lines []string
	for _, u := range res.Unmatched {
		lines = append(lines, unmatchedText(u))
	}
	if len(res.Flow.Messages) > 0 {
		res.Flow.Warnings = append(lines, res.Flow.Warnings...)
		return nil
	}
	for _, l := range lines {
		fmt.Fprintln(cmd.ErrOrStderr(), "authflow:", l)
	}
	return usageError{fmt.Errorf("nothing to show: the selection keeps none of the %d messages of the capture", res.WholeMessages)}
}
