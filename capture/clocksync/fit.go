package clocksync

import (
	"cmp"
	"slices"
	"time"
)

// trimFraction is the share of the most extreme time differences on each
// side that is dropped when the extremes contradict each other: below 200
// segments the extreme itself is used, above that one in 200 is dropped.
const trimFraction = 200

// sample is one TCP segment seen in both inputs A and B of a pair.
type sample struct {
	conn int32         // the connection, as numbered in input A
	dir  uint8         // the direction within the connection, 0 or 1
	d    time.Duration // its timestamp in B minus its timestamp in A
}

// fit is the clock offset of one pair of inputs.
type fit struct {
	// offset is B's clock minus A's clock.
	offset time.Duration
	// uncertainty is half the width of the interval that causality leaves
	// for offset.
	uncertainty time.Duration
	// forward and backward count the segments used that were seen first
	// in A and first in B.
	forward, backward int
	// oneWay is set when no connection had segments in both directions in
	// both inputs: the one-way delay could not be cancelled.
	oneWay bool
}

func (f fit) segments() int { return f.forward + f.backward }

// fitOffset estimates B's clock minus A's clock from the segments the two
// inputs share.
//
// A segment travelling from A's side to B's side is seen first at A, so its
// d = t_B − t_A = offset + delay ≥ offset; one travelling the other way has
// d = offset − delay ≤ offset. Within one TCP connection the two directions
// travel opposite ways, so the direction with the larger median d is the
// one seen first at A. The offset then lies between the largest d of the
// segments seen first at B and the smallest d of those seen first at A
// (queueing only moves values away from this interval); the estimate is
// its middle, which is exact when the smallest delays of the two directions
// are equal, and its half-width is the uncertainty. If the two bounds
// contradict each other (a wrong value, clock drift), the most extreme
// 1/trimFraction of each side is ignored once there are enough segments.
//
// Connections seen in one direction only tell nothing about the delay and
// are left out, unless no connection has both: then the offset is the
// median d, the uncertainty is the distance from it to the farther extreme
// of d (the one-way delay is not in it), and oneWay is set. ok is false with fewer than
// minSegments segments.
func fitOffset(samples []sample, minSegments int) (f fit, ok bool) {
	if len(samples) == 0 || len(samples) < minSegments {
		return fit{}, false
	}
	s := slices.Clone(samples)
	slices.SortFunc(s, func(a, b sample) int {
		if c := cmp.Compare(a.conn, b.conn); c != 0 {
			return c
		}
		if c := cmp.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return cmp.Compare(a.d, b.d)
	})
	var first, second []time.Duration // seen first at A, first at B
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].conn == s[i].conn {
			j++
		}
		split := i
		for split < j && s[split].dir == s[i].dir {
			split++
		}
		if split < j { // both directions
			d0, d1 := durations(s[i:split]), durations(s[split:j])
			if median(d0) >= median(d1) {
				first, second = append(first, d0...), append(second, d1...)
			} else {
				first, second = append(first, d1...), append(second, d0...)
			}
		}
		i = j
	}
	if len(first)+len(second) == 0 {
		// No connection seen both ways.
		all := durations(s)
		slices.Sort(all)
		m := median(all)
		lo, hi := trimmed(all)
		return fit{
			offset:      m,
			uncertainty: max(m-lo, hi-m),
			forward:     len(all),
			oneWay:      true,
		}, true
	}
	if len(first)+len(second) < minSegments {
		return fit{}, false
	}
	slices.Sort(first)
	slices.Sort(second)
	// The smallest d seen first at A and the largest seen first at B:
	// lo ≤ offset ≤ hi. If they contradict each other, a few values are
	// wrong (or the clocks drifted), and the extremes are trimmed.
	hi, lo := first[0], second[len(second)-1]
	if lo > hi {
		hi, _ = trimmed(first)
		_, lo = trimmed(second)
	}
	unc := hi - lo
	if unc < 0 {
		unc = -unc // the two sides overlap: measurements disagree by that much
	}
	return fit{
		offset:      lo + (hi-lo)/2,
		uncertainty: unc / 2,
		forward:     len(first),
		backward:    len(second),
	}, true
}

func durations(s []sample) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = x.d
	}
	return out
}

// median of sorted values; the lower middle for an even count.
func median(sorted []time.Duration) time.Duration {
	return sorted[(len(sorted)-1)/2]
}

// trimmed returns the smallest and largest of sorted values, ignoring
// 1/trimFraction of them at each end.
func trimmed(sorted []time.Duration) (lo, hi time.Duration) {
	k := len(sorted) / trimFraction
	return sorted[k], sorted[len(sorted)-1-k]
}
