// Command gen writes realistic OpenStack captures for authflow's benchmark.
//
// It synthesises them with gopacket, modelled on (and partly spliced from)
// the real image-save capture embedded in authflow:
//
//	go run ./bench/gen -kind download    -size 1GiB -o ens.pcap   # veth side: the image download
//	go run ./bench/gen -kind lo          -o lo.pcap               # loopback side of the same run
//	go run ./bench/gen -kind both        -size 1GiB -o both.pcap  # both in one file (.pcapng: two interfaces)
//	go run ./bench/gen -kind validations -n 20000   -o val.pcap   # N token validations on N connections
//
// Output is streamed (memory does not grow with -size) and deterministic for
// a given -seed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// config is what the flags ask for.
type config struct {
	kind      string
	out       string
	size      int64
	n         int
	seed      uint64
	rate      float64 // body bytes per second on the wire
	ackEvery  int
	lossEvery int
	interval  time.Duration
	full      bool // full TCP checksums instead of offloaded (partial) ones
	cache     bool // memcached get/set around each validation
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	c := config{}
	size := fs.String("size", "1GiB", "image size for download/both (e.g. 4MiB, 1GB, 4GiB, 123456)")
	rate := fs.String("rate", "200MB", "download speed on the wire per second (e.g. 200MB, 1GiB)")
	checksums := fs.String("checksums", "partial", "TCP checksums: partial (offloaded, as captured on this host) or full")
	fs.StringVar(&c.kind, "kind", "download", "download, lo, both or validations")
	fs.StringVar(&c.out, "o", "", "output `FILE` (.pcap or .pcapng)")
	fs.IntVar(&c.n, "n", 20000, "number of validations (kind validations)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed")
	fs.IntVar(&c.ackEvery, "ack-every", 2, "the client ACKs every N data segments")
	fs.IntVar(&c.lossEvery, "loss-every", 20000, "one data segment in N is lost after the capture point and retransmitted (0: none)")
	fs.BoolVar(&c.cache, "cache", true, "validations: glance's memcached get (miss) before and set after each")
	fs.DurationVar(&c.interval, "interval", 20*time.Millisecond, "time between the starts of two validations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.out == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: gen -kind KIND [-size SIZE] [-n N] -o FILE")
	}
	var err error
	if c.size, err = parseSize(*size); err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	r, err := parseSize(*rate)
	if err != nil || r <= 0 {
		return fmt.Errorf("-rate %q: want a positive size per second", *rate)
	}
	c.rate = float64(r)
	switch *checksums {
	case "partial":
	case "full":
		c.full = true
	default:
		return fmt.Errorf("-checksums %q: want partial or full", *checksums)
	}
	if c.ackEvery < 1 {
		return fmt.Errorf("-ack-every must be at least 1")
	}
	if c.n < 1 && c.kind == "validations" {
		return fmt.Errorf("-n must be at least 1")
	}

	start := time.Now()
	st, err := generate(&c)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %s: %d packets, %d bytes (%s) in %.1f s\n",
		c.out, st.packets, st.bytes, st.note, time.Since(start).Seconds())
	return nil
}

// genStats is what a generator reports.
type genStats struct {
	packets int64
	bytes   int64
	note    string
}

func generate(c *config) (genStats, error) {
	tpl, err := loadTemplate()
	if err != nil {
		return genStats{}, err
	}
	ng := strings.HasSuffix(c.out, ".pcapng")
	ifaces := []string{"veth-ctl"}
	if c.kind == "lo" || c.kind == "validations" {
		ifaces = []string{"lo"}
	} else if c.kind == "both" {
		ifaces = []string{"veth-ctl", "lo"}
	}
	w, err := createWriter(c.out, ng, ifaces)
	if err != nil {
		return genStats{}, err
	}
	var note string
	switch c.kind {
	case "download":
		note, err = genDownload(c, tpl, w.emit(0))
	case "lo":
		err = copyPackets(tpl.lo, w.emit(0))
		note = "the real loopback capture of image-save"
	case "both":
		m := &merger{rest: tpl.lo, iface: 1, out: w.emit(0), other: w.emit(1)}
		note, err = genDownload(c, tpl, m.emit)
		if err == nil {
			err = m.flush()
		}
	case "validations":
		note, err = genValidations(c, tpl, w.emit(0))
	default:
		err = fmt.Errorf("unknown -kind %q (want download, lo, both or validations)", c.kind)
	}
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(c.out)
		return genStats{}, err
	}
	return genStats{packets: w.packets, bytes: w.size(), note: note}, nil
}

// parseSize reads sizes like 4MB, 1GiB, 512k or a plain number of bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			mult = u.mult
			s = s[:len(s)-len(u.suffix)]
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if v := f * float64(mult); err != nil || !(v >= 0 && v < 1<<62) { // also NaN, Inf
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}
