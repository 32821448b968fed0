package findings

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/sequence"
)

// FuzzAnalyze feeds Analyze and Write flows decoded from JSON, seeded with
// the flows of the recorded scenarios: they must not panic, and every
// finding must cite messages of the flow.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte(`{"messages":[{"seq":1,"kind":"keystone.token.valid","reply_to":1,"cause":1}]}`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, knobs uint8) {
		var flow sequence.Flow
		if err := json.Unmarshal(data, &flow); err != nil {
			return
		}
		opts := Options{}
		if knobs&1 != 0 {
			opts.Lang = "zh"
		}
		if knobs&2 != 0 {
			opts.ManyQueries, opts.BurstCount, opts.SlowThreshold = 1, 1, 1
		}
		fs := Analyze(&flow, opts)
		seqs := map[int]bool{}
		for _, m := range flow.Messages {
			if m != nil {
				seqs[m.Seq] = true
			}
		}
		for _, fd := range fs {
			for _, s := range fd.Messages {
				if !seqs[s] {
					t.Fatalf("%s cites %d, not in the flow", fd.Kind, s)
				}
			}
		}
		if err := Write(io.Discard, fs); err != nil {
			t.Fatal(err)
		}
	})
}
