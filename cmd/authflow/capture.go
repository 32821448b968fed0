package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow/capture/filetrace"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/decode"
	"github.com/authflow/authflow/decode/event"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// captureOptions are the flags of `authflow capture`.
type captureOptions struct {
	inputOptions
	interfaces []string
	ports      string
	all        bool
	write      string
	duration   time.Duration
	count      int
	bufferMiB  int

	traceFiles bool
	comm       string
	pid        int
	cgroup     string

	output string
	format string
}

func newCaptureCmd() *cobra.Command {
	o := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture -i IFACE [-i IFACE…] [flags]",
		Short: "Capture live on interfaces (and trace file reads), then draw the flow",
		Long: `Capture records packets on one or more interfaces at once (AF_PACKET, no
libpcap; by default only TCP on the OpenStack ports), prints a one-line-per-step
timeline while it runs, and writes a pcapng file (one interface block per
interface, with the kernel's drop counts). With --trace-files it also traces,
with eBPF, which files a process opens and reads (the image files of glance),
and writes them next to the capture (FILE.files.jsonl), where analyze finds
them. It stops on Ctrl-C, after --duration or after --count packets; -o then
writes the diagram at once. Needs root, or CAP_NET_RAW (and CAP_BPF with
CAP_PERFMON for --trace-files).`,
		Example: `  sudo authflow capture -i veth0 -i lo --trace-files --comm glance-api -w save.pcapng
  sudo authflow capture -i lo --duration 30s -w lo.pcapng -o flow.mmd
  authflow analyze save.pcapng -o save.mmd      # file events included automatically`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("capture takes no arguments (got %q); name interfaces with -i", args[0])}
			}
			return runCapture(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.interfaces, "interface", "i", nil, "capture on `IFACE` (repeatable)")
	f.StringVar(&o.ports, "ports", "", "capture TCP on these `PORTS` (comma-separated; default the OpenStack ports: 5000,35357,9292,8774,8775,9696,8778,8776,8080,11211,3306)")
	f.BoolVar(&o.all, "all", false, "capture everything, not only the OpenStack ports")
	f.StringVarP(&o.write, "write", "w", "", "write the packets to the pcapng `FILE` (default authflow-TIME.pcapng)")
	f.DurationVar(&o.duration, "duration", 0, "stop after `DURATION` (e.g. 30s)")
	f.IntVarP(&o.count, "count", "c", 0, "stop after `N` packets")
	f.IntVar(&o.bufferMiB, "buffer-size", 64, "kernel ring per interface in `MiB` (like tcpdump -B); raise it if drops are reported")
	f.BoolVar(&o.traceFiles, "trace-files", false, "trace file opens, reads and writes with eBPF")
	f.StringVar(&o.comm, "comm", "", "trace files of processes with this command `NAME` (e.g. glance-api)")
	f.IntVar(&o.pid, "pid", 0, "trace files of the process `PID`")
	f.StringVar(&o.cgroup, "cgroup", "", "trace files of processes in the cgroup v2 `DIR`")
	f.StringVarP(&o.output, "output", "o", "", "at the end, write the diagram to `FILE`")
	f.StringVarP(&o.format, "format", "f", "", "diagram `FORMAT` for -o: "+strings.Join(render.Formats, ", "))
	o.addFlags(f)
	f.Lookup("example").Hidden = true
	f.Lookup("strace").Hidden = true
	return cmd
}

func parsePorts(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	var ports []uint16
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil || n == 0 {
			return nil, usageError{fmt.Errorf("--ports: %q is not a port", p)}
		}
		ports = append(ports, uint16(n))
	}
	return ports, nil
}

func runCapture(cmd *cobra.Command, o *captureOptions) error {
	if len(o.interfaces) == 0 {
		return usageError{errors.New("name at least one interface with -i (e.g. -i lo)")}
	}
	ports, err := parsePorts(o.ports)
	if err != nil {
		return err
	}
	format := o.format
	if format == "" {
		format = formatFromPath(o.output)
	}
	if format == "" {
		format = "mermaid"
	}
	if !knownFormat(format) {
		return usageError{fmt.Errorf("unknown format %q", format)}
	}
	aliases, err := parseAliases(o.aliases)
	if err != nil {
		return err
	}
	if err := live.CheckPrivileges(); err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	stderr := cmd.ErrOrStderr()
	if o.write == "" {
		o.write = "authflow-" + time.Now().Format("20060102-150405") + ".pcapng"
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}

	// File tracing is optional: without it, packets are still captured.
	var tracer *filetrace.Tracer
	var fileEvents []fsevent.Event
	var fileWG sync.WaitGroup
	tl := newTimeline(stderr, o.quiet)
	if o.traceFiles {
		if err := filetrace.Check(); err != nil {
			fmt.Fprintln(stderr, "authflow: file tracing off:", err)
		} else if tracer, err = filetrace.Start(ctx, filetrace.Options{PID: o.pid, Comm: o.comm, CgroupPath: o.cgroup, PathPrefix: o.pathPrefix}); err != nil {
			fmt.Fprintln(stderr, "authflow: file tracing off:", err)
			tracer = nil
		} else {
			fileWG.Add(1)
			go func() {
				defer fileWG.Done()
				for ev := range tracer.Events() {
					fileEvents = append(fileEvents, ev)
					tl.file(&ev)
				}
			}()
		}
	}

	c, err := live.Open(ctx, live.Options{Interfaces: o.interfaces, Ports: ports, All: o.all, Count: o.count, RingSize: o.bufferMiB << 20})
	if err != nil {
		if tracer != nil {
			tracer.Close()
		}
		return &exitCodeError{code: exitFailure, err: err}
	}
	defer c.Close()
	w, err := live.NewPcapngWriter(o.write, c.Interfaces())
	if err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "authflow: capturing on %s into %s (Ctrl-C to stop)\n", strings.Join(o.interfaces, ", "), o.write)
	}

	opts := o.decodeOptions()
	opts.Notify = tl.event
	d := decode.New(opts)
	var captureErr error
	packets := 0
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			captureErr = err
			break
		}
		packets++
		if err := w.WritePacket(p); err != nil {
			captureErr = fmt.Errorf("write %s: %w", o.write, err)
			break
		}
		d.Add(p)
	}
	c.Close()
	stats := c.Stats()
	if err := w.WriteStats(stats); err != nil && captureErr == nil {
		captureErr = err
	}
	if err := w.Close(); err != nil && captureErr == nil {
		captureErr = fmt.Errorf("write %s: %w", o.write, err)
	}
	if tracer != nil {
		tracer.Close()
		fileWG.Wait()
		if err := writeSidecar(o.write, tracer.Header(), fileEvents); err != nil && captureErr == nil {
			captureErr = err
		}
		if st := tracer.Stats(); st.Lost > 0 {
			fmt.Fprintf(stderr, "authflow: %d file events lost (ring buffer full)\n", st.Lost)
		}
	}
	events := d.Finish()
	for _, st := range stats {
		fmt.Fprintf(stderr, "authflow: %s: %d packets received by filter, %d dropped by kernel\n", st.Name, st.Received, st.Dropped)
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "authflow: %d packets written to %s", packets, o.write)
		if tracer != nil {
			fmt.Fprintf(stderr, ", %d file events to %s", len(fileEvents), fsevent.SidecarPath(o.write))
		}
		fmt.Fprintln(stderr)
	}
	if o.output != "" {
		for i := range fileEvents {
			fe := &fileEvents[i]
			events = append(events, &event.Event{Kind: event.FileOp, Start: event.Position{Time: fe.Time}, End: fe.Time, Data: fe})
		}
		flow := sequence.Build(events, sequence.Options{
			Aliases: aliases, Inputs: []string{filepath.Base(o.write)}, DetailLevel: o.detail,
			MemcacheSecret: o.memcacheSecret, ShowSecrets: o.showSecrets, Timing: o.timing, Lang: o.lang,
		})
		sel, err := o.selection([]string{o.write})
		if err != nil {
			return err
		}
		flow = sequence.Select(flow, sel)
		if err := writeOutput(cmd, o.output, func(w io.Writer) error {
			return render.Write(w, flow, format, render.Options{Version: versionString()})
		}); err != nil {
			return &exitCodeError{code: exitFailure, err: err}
		}
	}
	if captureErr != nil {
		return &exitCodeError{code: exitPartial, err: captureErr}
	}
	return nil
}

// writeSidecar writes the file events next to the capture, owner-only
// like the capture (they name files and processes).
func writeSidecar(capturePath string, h fsevent.Header, evs []fsevent.Event) error {
	path := fsevent.SidecarPath(capturePath)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write file events: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := fsevent.WriteJSONL(f, h, evs); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
