package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow/sequence"
)

// filterOptions are the flags of `authflow filter`.
type filterOptions struct {
	inputOptions
	output string
}

func newFilterCmd() *cobra.Command {
	o := &filterOptions{}
	cmd := &cobra.Command{
		Use:   "filter [flags] CAPTURE...",
		Short: "Print the Wireshark display filter of the drawn flow's frames",
		Long: `Filter analyzes the captures like analyze and prints, for each capture file,
a Wireshark display filter that selects exactly the frames the diagram's
arrows cite (where each message starts), so that the same flow can be opened
in Wireshark: wireshark -r ens.pcap -Y "$(authflow filter --input ens.pcap ens.pcap lo.pcap)".
The selection flags (--token, --image, --no-db, …) select as for analyze.`,
		Example: `  authflow filter ens.pcap lo.pcap
  tshark -r lo.pcap -Y "$(authflow filter --input lo.pcap ens.pcap lo.pcap)"
  authflow filter --token 047cf66b0773 --no-db ens.pcap lo.pcap`,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := loadFlow(cmd, &o.inputOptions, args)
			if err != nil {
				return err
			}
			if o.output != "" {
				if err := checkInput(cmd, res.flow, o.output); err != nil {
					return err
				}
			}
			if err := writeOutput(cmd, "", false, func(w io.Writer) error { return writeFilters(w, res.flow, o.output) }); err != nil {
				return &exitCodeError{code: exitFailure, err: err}
			}
			return res.finish(cmd, o.quiet)
		},
	}
	cmd.Flags().StringVar(&o.output, "input", "", "print only the filter for the capture `FILE` (its name as given), without comments")
	o.addFlags(cmd.Flags())
	registerCompletions(cmd)
	return cmd
}

// Filters returns, per input file name, the frame numbers the flow's
// messages start at, sorted.
func Filters(flow *sequence.Flow) map[string][]int {
	out := map[string][]int{}
	for _, m := range flow.Messages {
		for _, f := range m.Frames {
			out[f.File] = append(out[f.File], f.Number)
		}
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out
}

// displayFilter is the Wireshark display filter selecting frames.
func displayFilter(frames []int) string {
	if len(frames) == 0 {
		return "frame.number == 0"
	}
	parts := make([]string, len(frames))
	for i, n := range frames {
		parts[i] = fmt.Sprint(n)
	}
	return "frame.number in {" + strings.Join(parts, ", ") + "}"
}

// namesInput reports whether only (as given to --input) names the input
// file name.
func namesInput(only, name string) bool {
	return name == only || strings.HasSuffix(only, "/"+name) || baseName(only) == name
}

// checkInput checks that --input names one of the capture files: a name
// that is none of them is a usage error listing them. A capture none of
// whose frames are drawn gets its (empty) filter, and a word on stderr.
func checkInput(cmd *cobra.Command, flow *sequence.Flow, only string) error {
	for _, name := range flow.Inputs {
		if namesInput(only, name) {
			if len(Filters(flow)[name]) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "authflow: --input %s: no drawn message starts in it; its filter selects no frame\n", only)
			}
			return nil
		}
	}
	return usageError{fmt.Errorf("--input %s names no capture file analysed; they are: %s", only, strings.Join(flow.Inputs, ", "))}
}

func writeFilters(w io.Writer, flow *sequence.Flow, only string) error {
	filters := Filters(flow)
	if only != "" {
		for name, frames := range filters {
			if namesInput(only, name) {
				_, err := fmt.Fprintln(w, displayFilter(frames))
				return err
			}
		}
		_, err := fmt.Fprintln(w, displayFilter(nil))
		return err
	}
	for _, name := range flow.Inputs {
		frames, ok := filters[name]
		if !ok {
			continue
		}
		if _, err := fmt.Fprintf(w, "# %s: %d frames\n%s\n", name, len(frames), displayFilter(frames)); err != nil {
			return err
		}
	}
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
