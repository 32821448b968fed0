package main

import (
	"bytes"
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

	"github.com/authflow/authflow/capture"
	"github.com/authflow/authflow/capture/filetrace"
	"github.com/authflow/authflow/capture/fsevent"
	"github.com/authflow/authflow/capture/live"
	"github.com/authflow/authflow/decode/tls"
	"github.com/authflow/authflow/pipeline"
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
	bufferSize mibSize

	traceFiles bool
	comm       string
	pid        int
	cgroup     string

	output string
	format string
	otlp   otlpOptions
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
  authflow analyze save.pcapng -o save.mmd      # file events included automatically
  sudo authflow capture -i eth0 -i lo --otlp-endpoint grpc://jaeger.example:4317   # a trace per request, as it completes`,
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
	o.bufferSize = 64 << 20
	f.Var(&o.bufferSize, "buffer-size", "kernel ring per interface, `SIZE` in MiB without a unit (like tcpdump -B; e.g. 64, 256MiB, 1GiB; rounded up to whole MiB); raise it if drops are reported")
	f.BoolVar(&o.traceFiles, "trace-files", false, "trace file opens, reads and writes with eBPF")
	f.StringVar(&o.comm, "comm", "", "trace files of processes with this command `NAME` (e.g. glance-api)")
	f.IntVar(&o.pid, "pid", 0, "trace files of the process `PID`")
	f.StringVar(&o.cgroup, "cgroup", "", "trace files of processes in the cgroup v2 `DIR`")
	f.StringVarP(&o.output, "output", "o", "", "at the end, write the diagram to `FILE`")
	f.StringVarP(&o.format, "format", "f", "", "diagram `FORMAT` for -o: "+strings.Join(render.Formats, ", "))
	o.addFlags(f)
	o.otlp.addFlags(f)
	f.Lookup("example").Hidden = true
	f.Lookup("strace").Hidden = true
	registerCompletions(cmd)
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
	format, err := outputFormat(o.format, o.output)
	if err != nil {
		return err
	}
	aliases, err := parseAliases(o.aliases)
	if err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.validateFileTrace(cmd.ErrOrStderr()); err != nil {
		return err
	}
	if o.otlp.endpoint != "" {
		if _, err := o.otlp.config(); err != nil {
			return err
		}
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

	build := o.pipelineOptions(aliases).Build
	build.Inputs = []string{filepath.Base(o.write)}
	tl := newTimeline(stderr, o.quiet, build, o.pathPrefix)
	// File tracing is optional: without it, packets are still captured.
	var files *fileTrace
	if o.traceFiles {
		files = startFileTrace(ctx, o, tl, stderr)
		defer files.close()
	}
	c, err := live.Open(ctx, live.Options{Interfaces: o.interfaces, Ports: ports, All: o.all, Count: o.count, RingSize: int(o.bufferSize)})
	if err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	defer c.Close()
	w, err := live.NewPcapngWriter(o.write, c.Interfaces())
	if err != nil {
		return &exitCodeError{code: exitFailure, err: err}
	}
	defer w.Close()
	if !o.quiet {
		fmt.Fprintf(stderr, "authflow: capturing on %s into %s (Ctrl-C to stop)\n", strings.Join(o.interfaces, ", "), o.write)
	}
	return recordLive(cmd, o, format, aliases, recording{src: c, stats: c.Stats, pcapng: w, files: files, timeline: tl})
}

// recording is what a capture reads from and writes to.
type recording struct {
	// src yields the packets (the live capture); recordLive closes it.
	src capture.Source
	// stats are the interfaces' counts once src is closed.
	stats func() []live.InterfaceStats
	// pcapng is where the packets go; recordLive closes it.
	pcapng *live.PcapngWriter
	// files traces file calls, or is nil.
	files    *fileTrace
	timeline *timeline
}

// recordLive writes the packets of r.src to the capture file while the
// pipeline decodes them (showing the timeline), then writes the file
// events beside the capture and, with -o, the flow.
func recordLive(cmd *cobra.Command, o *captureOptions, format string, aliases map[string]string, r recording) error {
	stderr := cmd.ErrOrStderr()
	tee := &teeSource{Source: r.src, w: r.pcapng, stats: r.stats, timeline: r.timeline, warn: stderr}
	opts := o.pipelineOptions(aliases)
	for _, path := range o.tlsKeylogs {
		k := &keylogTail{path: path}
		defer k.close()
		tee.keylogs = append(tee.keylogs, k)
	}
	if len(tee.keylogs) > 0 && opts.Decode.TLSKeys == nil {
		// The pipeline reads the key logs as they are at the start; the
		// lines added while capturing are added by tee, on the decoding
		// goroutine (decode.Run reads the source), before the packets
		// they decrypt are decoded.
		opts.Decode.TLSKeys = &tls.KeyLog{}
	}
	tee.keys = opts.Decode.TLSKeys
	opts.Decode.Notify = r.timeline.event
	if o.output != "" {
		opts.Selection = func() (sequence.Selection, error) { return o.selection([]string{o.write}) }
	}
	var traces *traceSender
	if o.otlp.endpoint != "" {
		var err error
		if traces, err = o.otlp.startSender(stderr, true); err != nil {
			return err
		}
		opts.OnRequest = traces.request
	}
	var traced int
	res, err := pipeline.Run(pipeline.Packets{
		Source: tee,
		Names:  []string{filepath.Base(o.write)},
		FileEvents: func() ([]fsevent.Event, []error) {
			// Every packet is read: finish the capture file (with the
			// kernel's counts) and the file trace.
			var errs []error
			r.src.Close()
			stats := r.stats()
			if err := r.pcapng.WriteStats(stats); err != nil {
				errs = append(errs, err)
			}
			if err := r.pcapng.Close(); err != nil {
				errs = append(errs, err)
			}
			for _, st := range stats {
				fmt.Fprintf(stderr, "authflow: %s: %d packets received by filter, %d dropped by kernel\n", st.Name, st.Received, st.Dropped)
			}
			if r.files == nil {
				r.timeline.flush()
				return nil, errs
			}
			evs, err := r.files.finish(o.write, stderr)
			if err != nil {
				errs = append(errs, err)
			}
			traced = len(evs)
			r.timeline.flush()
			return evs, errs
		},
	}, opts)
	var sendErr error
	if traces != nil {
		sendErr = traces.finish(stderr, o.quiet)
	}
	if err != nil {
		return err
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "authflow: %d packets written to %s", tee.packets, o.write)
		if r.files != nil {
			fmt.Fprintf(stderr, ", %d file events to %s", traced, fsevent.SidecarPath(o.write))
		}
		fmt.Fprintln(stderr)
	}
	if r.files != nil && traced == 0 {
		fmt.Fprintf(stderr, "authflow: warning: file tracing saw no file event (%s): no file step will be drawn\n", o.fileFilters())
	}
	// The packets are written: a selection that matches nothing is only a
	// warning here.
	for _, u := range res.Unmatched {
		res.Flow.Warnings = append(res.Flow.Warnings, unmatchedText(u))
	}
	if o.output != "" {
		if err := writeFlow(cmd, res.Flow, outputOptions{output: o.output, format: format, showSecrets: o.showSecrets}); err != nil {
			return err
		}
	}
	if err := (&loaded{flow: res.Flow, inputErrs: res.InputErrors, dropped: res.Dropped, secrets: opts.Build.Secrets}).finish(cmd, o.quiet); err != nil {
		if sendErr != nil {
			fmt.Fprintln(stderr, "authflow:", sendErr)
		}
		return err
	}
	return sendErr
}

// teeSource writes every packet it reads to a capture file, and has the
// timeline report the kernel's drops as they grow.
type teeSource struct {
	capture.Source
	w        *live.PcapngWriter
	stats    func() []live.InterfaceStats
	timeline *timeline
	// keylogs are the --tls-keylog files, whose new lines are embedded in
	// the capture file before the packets they decrypt.
	keylogs []*keylogTail
	// keys, when set, learn the key logs' new lines as they are embedded,
	// to decrypt the packets live.
	keys *tls.KeyLog
	// warn says what goes wrong with a key log.
	warn    io.Writer
	packets int
	// checked is the capture time the drop counts were last looked at.
	checked time.Time
}

// Next reads a packet and writes it; a write error ends the reading.
func (t *teeSource) Next() (*capture.Packet, error) {
	p, err := t.Source.Next()
	if err != nil {
		return nil, err
	}
	for _, k := range t.keylogs {
		lines, err := k.next(p.Info.Timestamp)
		if err != nil {
			fmt.Fprintln(t.warn, "authflow:", err)
		}
		if len(lines) > 0 {
			if err := t.w.WriteDecryptionSecrets(live.SecretsTLSKeyLog, lines); err != nil {
				return nil, err
			}
			if t.keys != nil {
				if err := t.keys.Read(bytes.NewReader(lines), k.path); err != nil {
					fmt.Fprintln(t.warn, "authflow:", err)
				}
			}
		}
	}
	if err := t.w.WritePacket(p); err != nil {
		return nil, err
	}
	t.packets++
	// The kernel's counters are refreshed about once a second.
	if at := p.Info.Timestamp; at.Sub(t.checked) >= time.Second {
		t.checked = at
		t.timeline.drops(at, t.stats())
	}
	return p, nil
}

// fileTrace collects the file calls the eBPF tracer sees, showing each on
// the timeline.
type fileTrace struct {
	tracer *filetrace.Tracer
	wg     sync.WaitGroup
	events []fsevent.Event
}

// startFileTrace starts tracing file calls, or says why it cannot and
// returns nil: packets are captured without it.
func startFileTrace(ctx context.Context, o *captureOptions, tl *timeline, stderr io.Writer) *fileTrace {
	if err := filetrace.Check(); err != nil {
		fmt.Fprintln(stderr, "authflow: file tracing off:", err)
		return nil
	}
	tracer, err := filetrace.Start(ctx, o.fileTraceOptions())
	if err != nil {
		fmt.Fprintln(stderr, "authflow: file tracing off:", err)
		return nil
	}
	f := &fileTrace{tracer: tracer}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for ev := range tracer.Events() {
			f.events = append(f.events, ev)
			tl.file(&ev)
		}
	}()
	return f
}

// close stops the tracer; it may be called more than once, and on nil.
func (f *fileTrace) close() {
	if f == nil {
		return
	}
	f.tracer.Close()
	f.wg.Wait()
}

// finish stops the tracer, writes what it traced beside the capture and
// returns it.
func (f *fileTrace) finish(capturePath string, stderr io.Writer) ([]fsevent.Event, error) {
	f.close()
	if st := f.tracer.Stats(); st.Lost > 0 {
		fmt.Fprintf(stderr, "authflow: %d file events lost (ring buffer full)\n", st.Lost)
	}
	return f.events, writeSidecar(capturePath, f.tracer.Header(), f.events)
}

// writeSidecar writes the file events next to the capture, owner-only
// like the capture (they name files and processes).
func writeSidecar(capturePath string, h fsevent.Header, evs []fsevent.Event) error {
	path := fsevent.SidecarPath(capturePath)
	f, err := live.CreateFile(path)
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

// fileTraceOptions are the tracer's options the flags ask for.
func (o *captureOptions) fileTraceOptions() filetrace.Options {
	return filetrace.Options{PID: o.pid, Comm: o.comm, CgroupPath: o.cgroup, PathPrefix: o.pathPrefix}
}

// fileFilters describes the file tracing filters in use, for messages.
func (o *captureOptions) fileFilters() string {
	var f []string
	if o.pid != 0 {
		f = append(f, fmt.Sprintf("--pid %d and its children", o.pid))
	}
	if o.comm != "" {
		f = append(f, "--comm "+o.comm)
	}
	if o.cgroup != "" {
		f = append(f, "--cgroup "+o.cgroup)
	}
	if o.pathPrefix != "" {
		f = append(f, "--path-prefix "+o.pathPrefix)
	}
	if len(f) == 0 {
		return "no filter"
	}
	return strings.Join(f, ", ")
}

// validateFileTrace rejects file tracing filters that cannot match (a pid
// no process has, a negative pid, a missing cgroup) before anything is
// captured, and warns about a command name no running process has, naming
// the close ones.
func (o *captureOptions) validateFileTrace(stderr io.Writer) error {
	set := o.pid != 0 || o.comm != "" || o.cgroup != ""
	if !o.traceFiles {
		if set {
			return usageError{errors.New("--pid, --comm and --cgroup select what --trace-files traces: add --trace-files")}
		}
		return nil
	}
	opts := o.fileTraceOptions()
	if err := opts.Validate(); err != nil {
		flag := "--cgroup"
		if o.pid != 0 && !strings.HasPrefix(err.Error(), "cgroup") {
			flag = "--pid"
		}
		return usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	if o.comm != "" {
		if ok, close := filetrace.CommMatches(o.comm); !ok {
			hint := ""
			if len(close) > 0 {
				hint = fmt.Sprintf("; did you mean %s?", strings.Join(close, " or "))
			}
			fmt.Fprintf(stderr, "authflow: warning: --comm %s: no running process has this command name (the kernel compares its first 15 bytes exactly)%s\n", o.comm, hint)
		}
	}
	return nil
}
