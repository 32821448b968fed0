package memcached

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The keys keystonemiddleware used in the lab captures.
const (
	keySave     = "tokens/047cf66b077370bed219e18c8c14f4768a07db9ef5180c9bb62c26c642ab5d2f"
	keySame     = "tokens/0d6326c7c1436ab97a684d18cc54c38f7c3b93c0d3dcaf90af68cbd208814665"
	keyRestart1 = "tokens/4069b331c6739f0beb43e109271445fc845d8b1785bccd1c918dd02f90b024d4"
	keyRestart2 = "tokens/8e45ef4ddebb4d29bf7e95825abbfb3c42676f9403ca353f5ee85b20c0138a56"
	keyEnc1     = "tokens/b'sNqPRGRtmb7i4uSQC3azkQ=='"
	keyEnc2     = "tokens/b'ugLNbQxbY+HMRv7PoYesFQ=='"
)

// TestCaptures decodes the memcached conversations of the lab captures
// (testdata/*.txt, extracted by gen_testdata.go) and checks every event,
// with the frame it starts at.
func TestCaptures(t *testing.T) {
	tests := []struct {
		file string
		want [][]string // per connection: "<frame> <event>"
	}{
		{"image-save.txt", [][]string{{
			"267 cmd 1 get " + keySave,
			"269 reply 1 get END miss=" + keySave,
			"1020 cmd 2 set " + keySave + " exp=300 len=1986",
			"1021 reply 2 set STORED stored=true",
			"1065 cmd 3 get " + keySave,
			"1066 reply 3 get END items=" + keySave + ":1986 hit=" + keySave,
			"1074 cmd 4 get " + keySave,
			"1075 reply 4 get END items=" + keySave + ":1986 hit=" + keySave,
		}}},
		{"image-list-same-token.txt", [][]string{{
			"234 cmd 1 get " + keySame,
			"236 reply 1 get END miss=" + keySame,
			"958 cmd 2 set " + keySame + " exp=300 len=1986",
			"959 reply 2 set STORED stored=true",
			"1004 cmd 3 get " + keySame,
			"1005 reply 3 get END items=" + keySame + ":1986 hit=" + keySame,
		}}},
		{"memcached-restart.txt", [][]string{
			// The stale pooled connection: the get is answered by a
			// bare RST, so no reply (and no warning).
			{"231 cmd 1 get " + keyRestart1},
			{"670 cmd 1 set " + keyRestart1 + " exp=300 len=1986", "672 reply 1 set STORED stored=true"},
			{"914 cmd 1 get " + keyRestart2},
			{"1401 cmd 1 set " + keyRestart2 + " exp=300 len=1986", "1403 reply 1 set STORED stored=true"},
		}},
		{"memcache-encrypt.txt", [][]string{{
			"234 cmd 1 get " + keyEnc1,
			"236 reply 1 get END miss=" + keyEnc1,
			"974 cmd 2 set " + keyEnc1 + " exp=300 len=2752",
			"975 reply 2 set STORED stored=true",
			"1252 cmd 3 get " + keyEnc2,
			"1253 reply 3 get END miss=" + keyEnc2,
			"1737 cmd 4 set " + keyEnc2 + " exp=300 len=2752",
			"1738 reply 4 set STORED stored=true",
			"1748 cmd 5 get " + keyEnc2,
			"1749 reply 5 get END items=" + keyEnc2 + ":2752 hit=" + keyEnc2,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			caps := loadCapture(t, filepath.Join("testdata", tt.file))
			if len(caps) != len(tt.want) {
				t.Fatalf("%d connections, want %d", len(caps), len(tt.want))
			}
			for i, cp := range caps {
				events := replay(cp.conn, cp.segs)
				var got []string
				for _, e := range events {
					got = append(got, fmt.Sprintf("%d %s", e.Start.Frame.Number, describe(e)))
					if e.Conn != cp.conn {
						t.Errorf("event %s has conn %v", describe(e), e.Conn)
					}
					// Every message is one segment on lo.
					if !e.End.Equal(e.Start.Time) {
						t.Errorf("event %s: end %v, start %v", describe(e), e.End, e.Start.Time)
					}
				}
				if !slices.Equal(got, tt.want[i]) {
					t.Errorf("connection %d:\ngot:\n%s\nwant:\n%s", i+1, strings.Join(got, "\n"), strings.Join(tt.want[i], "\n"))
				}
			}
		})
	}
}

// TestCapturesSegmentation feeds the real conversations split
// differently: byte by byte and at random; the events must not change.
func TestCapturesSegmentation(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		for _, cp := range loadCapture(t, f) {
			want := describeAll(replay(cp.conn, cp.segs))
			for name, split := range map[string]func(n int) []int{"bytewise": bytewise, "random": randomSplit(newRand(7))} {
				var segs []seg
				for _, sg := range cp.segs {
					if sg.end != "" || len(sg.data) < 2 {
						segs = append(segs, sg)
						continue
					}
					data := sg.data
					for _, n := range split(len(data)) {
						part := sg
						part.data = data[:n]
						data = data[n:]
						segs = append(segs, part)
					}
				}
				got := describeAll(replay(cp.conn, segs))
				if !slices.Equal(got, want) {
					t.Errorf("%s conn %d %s:\ngot:\n%s\nwant:\n%s", f, cp.conn.ID, name, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
	}
}
