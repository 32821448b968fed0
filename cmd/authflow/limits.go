package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag value holding a size in bytes, written as a number
// with an optional unit: 1048576, 64KiB, 512MiB, 2GiB, 500MB, 1GB.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// parseSize reads a size: a positive number with an optional unit (KiB,
// MiB, GiB, TiB, KB, MB, GB, TB, K, M, G, B; any case). A number without a
// unit counts in bare units (1 for bytes). Every size flag reads sizes
// with it, so they all take the same syntax.
func parseSize(s string, bare int64) (int64, error) {
	num, factor := strings.TrimSpace(s), bare
	for _, u := range sizeUnits {
		if strings.HasSuffix(strings.ToUpper(num), strings.ToUpper(u.suffix)) && len(num) > len(u.suffix) {
			num, factor = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.factor
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0) || n*float64(factor) > 1<<62 || n*float64(factor) < 1 {
		return 0, fmt.Errorf("%q is not a size (e.g. 65536, 64KiB, 512MiB, 2GiB)", s)
	}
	return int64(n * float64(factor)), nil
}

// Set parses a size.
func (b *byteSize) Set(s string) error {
	n, err := parseSize(s, 1)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// String writes the size with the largest binary unit that divides it.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.factor && n%u.factor == 0 {
			return fmt.Sprintf("%d%s", n/u.factor, u.suffix)
		}
	}
	return strconv.FormatInt(n, 10)
}

// Type names the flag's value in the help.
func (b *byteSize) Type() string { return "size" }

// mibSize is a size flag whose bare numbers count MiB (--buffer-size 64,
// like tcpdump -B); with a unit it reads like every other size.
type mibSize int64

// Set parses a size; a bare number is in MiB.
func (m *mibSize) Set(s string) error {
	n, err := parseSize(s, 1<<20)
	if err != nil {
		return err
	}
	*m = mibSize(n)
	return nil
}

// String writes the size as byteSize does.
func (m *mibSize) String() string { b := byteSize(*m); return b.String() }

// Type names the flag's value in the help.
func (m *mibSize) Type() string { return "size" }
