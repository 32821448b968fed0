package clocksync

import (
	"math/rand/v2"
	"testing"
	"time"
)

// link describes the traffic of one synthetic connection between the
// capture points A and B.
type link struct {
	// aFirst says direction 0 travels from A to B (A's host opened the
	// connection, say); otherwise direction 0 travels from B to A.
	aFirst bool
	// n0, n1 are the segments of each direction seen in both captures.
	n0, n1 int
}

// simParams describes a synthetic pair of captures.
type simParams struct {
	offset     time.Duration // B's clock minus A's
	delayAB    time.Duration // smallest travel time A → B
	delayBA    time.Duration // smallest travel time B → A
	queue      time.Duration // queueing: up to this much extra, skewed towards 0
	links      []link
	seed       uint64
	outlierAt  int           // with outlier != 0: index of the sample made an outlier
	outlier    time.Duration // added to that sample's d
	extraConns []sample      // added as they are
}

// simulate returns the time differences t_B − t_A the pair would show.
func simulate(p simParams) []sample {
	rng := rand.New(rand.NewPCG(p.seed, 1))
	var out []sample
	for c, l := range p.links {
		for dir, n := range []int{l.n0, l.n1} {
			fromA := (dir == 0) == l.aFirst
			for range n {
				q := time.Duration(0)
				if p.queue > 0 {
					u := rng.Float64()
					q = time.Duration(u * u * u * float64(p.queue))
				}
				var d time.Duration
				if fromA {
					d = p.offset + p.delayAB + q
				} else {
					d = p.offset - p.delayBA - q
				}
				out = append(out, sample{conn: int32(c), dir: uint8(dir), d: d})
			}
		}
	}
	if p.outlier != 0 {
		out[p.outlierAt].d += p.outlier
	}
	return append(out, p.extraConns...)
}

func TestFitOffset(t *testing.T) {
	const offset = 2500 * time.Millisecond
	both := func(n int) []link {
		var ls []link
		for i := range n {
			ls = append(ls, link{aFirst: i%3 != 0, n0: 6 + i%5, n1: 4 + i%7})
		}
		return ls
	}
	tests := []struct {
		name string
		p    simParams
		min  int
		// want is the exact estimate when the data allow one; otherwise
		// the estimate must be within tol of the offset.
		want    time.Duration
		exact   bool
		tol     time.Duration
		wantUnc time.Duration // checked when exact
		oneWay  bool
		fail    bool
	}{
		{
			name: "symmetric delay",
			p:    simParams{offset: offset, delayAB: 50 * time.Microsecond, delayBA: 50 * time.Microsecond, links: both(5)},
			want: offset, exact: true, wantUnc: 50 * time.Microsecond,
		},
		{
			// The estimate is off by half the asymmetry, and the
			// uncertainty covers it.
			name: "asymmetric delay",
			p:    simParams{offset: offset, delayAB: 30 * time.Microsecond, delayBA: 200 * time.Microsecond, links: both(5)},
			want: offset - 85*time.Microsecond, exact: true, wantUnc: 115 * time.Microsecond,
		},
		{
			name: "negative offset",
			p:    simParams{offset: -offset, delayAB: 10 * time.Microsecond, delayBA: 10 * time.Microsecond, links: both(2)},
			want: -offset, exact: true, wantUnc: 10 * time.Microsecond,
		},
		{
			name: "same clock, same capture point",
			p:    simParams{links: both(3)},
			want: 0, exact: true, wantUnc: 0,
		},
		{
			// Queueing of up to 20 ms; the fastest segments still bound
			// the offset closely.
			name: "jitter",
			p:    simParams{offset: offset, delayAB: 80 * time.Microsecond, delayBA: 120 * time.Microsecond, queue: 20 * time.Millisecond, links: both(40), seed: 7},
			tol:  time.Millisecond,
		},
		{
			name: "jitter, few segments",
			p: simParams{offset: -offset, delayAB: 100 * time.Microsecond, delayBA: 100 * time.Microsecond, queue: 2 * time.Millisecond, seed: 3,
				links: []link{{aFirst: true, n0: 2, n1: 2}}},
			tol: time.Millisecond,
		},
		{
			// Connections with segments of one direction only (the other
			// direction lost to a capture filter) are left out: their
			// queued values would not fit the other side.
			name: "missing directions",
			p: simParams{offset: offset, delayAB: 40 * time.Microsecond, delayBA: 40 * time.Microsecond, links: both(3),
				extraConns: []sample{{conn: 90, d: offset - 5*time.Millisecond}, {conn: 91, dir: 1, d: offset + 7*time.Millisecond}}},
			want: offset, exact: true, wantUnc: 40 * time.Microsecond,
		},
		{
			// One wrong value among 1000 is trimmed away.
			name: "outlier",
			p: simParams{offset: offset, delayAB: 40 * time.Microsecond, delayBA: 40 * time.Microsecond, queue: time.Millisecond, seed: 5,
				links: []link{{aFirst: true, n0: 600, n1: 600}}, outlierAt: 3, outlier: -time.Second},
			tol: 200 * time.Microsecond,
		},
		{
			name: "one direction only",
			p:    simParams{offset: offset, delayAB: 40 * time.Microsecond, links: []link{{aFirst: true, n0: 5}, {aFirst: false, n1: 4}}},
			want: offset + 40*time.Microsecond, exact: true, wantUnc: 0, oneWay: true,
		},
		{
			name: "no shared segments",
			p:    simParams{},
			fail: true,
		},
		{
			name: "too few segments",
			p:    simParams{offset: offset, links: []link{{aFirst: true, n0: 1, n1: 1}}},
			min:  3,
			fail: true,
		},
		{
			name: "too few both ways",
			p:    simParams{offset: offset, links: []link{{aFirst: true, n0: 1, n1: 1}, {aFirst: true, n0: 5}}},
			min:  3,
			fail: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			min := tt.min
			if min == 0 {
				min = 1
			}
			f, ok := fitOffset(simulate(tt.p), min)
			if tt.fail {
				if ok {
					t.Fatalf("fitOffset = %+v, want no estimate", f)
				}
				return
			}
			if !ok {
				t.Fatal("no estimate")
			}
			if f.oneWay != tt.oneWay {
				t.Errorf("oneWay = %v, want %v", f.oneWay, tt.oneWay)
			}
			if tt.exact {
				if f.offset != tt.want || f.uncertainty != tt.wantUnc {
					t.Errorf("offset %v ± %v, want %v ± %v", f.offset, f.uncertainty, tt.want, tt.wantUnc)
				}
			} else if err := (f.offset - tt.p.offset).Abs(); err > tt.tol {
				t.Errorf("offset %v, off by %v (more than %v)", f.offset, err, tt.tol)
			}
			if !tt.oneWay {
				// Causality: the true offset is within the uncertainty.
				if err := (f.offset - tt.p.offset).Abs(); err > f.uncertainty {
					t.Errorf("offset %v ± %v does not cover the truth %v", f.offset, f.uncertainty, tt.p.offset)
				}
				n := 0
				for _, l := range tt.p.links {
					if l.n0 > 0 && l.n1 > 0 {
						n += l.n0 + l.n1
					}
				}
				if f.segments() != n {
					t.Errorf("%d segments used, want %d", f.segments(), n)
				}
			}
		})
	}
}

// TestFitOrientation checks that each connection is oriented on its own:
// connections opened from either side give the same estimate.
func TestFitOrientation(t *testing.T) {
	const offset = -750 * time.Millisecond
	base := simParams{offset: offset, delayAB: 25 * time.Microsecond, delayBA: 25 * time.Microsecond}
	for _, links := range [][]link{
		{{aFirst: true, n0: 3, n1: 3}},
		{{aFirst: false, n0: 3, n1: 3}},
		{{aFirst: true, n0: 3, n1: 3}, {aFirst: false, n0: 2, n1: 8}},
	} {
		p := base
		p.links = links
		f, ok := fitOffset(simulate(p), 1)
		if !ok || f.offset != offset || f.uncertainty != 25*time.Microsecond {
			t.Errorf("links %+v: offset %v ± %v (ok %v), want %v ± 25µs", links, f.offset, f.uncertainty, ok, offset)
		}
		fwd := 0
		for _, l := range links {
			if l.aFirst {
				fwd += l.n0
			} else {
				fwd += l.n1
			}
		}
		if f.forward != fwd {
			t.Errorf("links %+v: forward = %d, want %d", links, f.forward, fwd)
		}
	}
}
