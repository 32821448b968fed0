package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/sequence"
)

// TestOnRequestTokenStorm: the lab's token storm (one token issued, then
// 20 GET /v2/images with it: the first validated by keystone and cached,
// the 19 others cache hits; glance's SQL on lo) comes out as 21 causal
// trees, each whole, and every message of the flow is in exactly one.
func TestOnRequestTokenStorm(t *testing.T) {
	paths, err := filepath.Glob("../testdata/captures/token-storm/*.pcap.gz")
	if err != nil || len(paths) != 2 {
		t.Fatalf("captures: %v %v", paths, err)
	}
	var trees []*sequence.Request
	res, err := Files(paths, FileOptions{}, Options{OnRequest: func(r *sequence.Request) { trees = append(trees, r) }})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	lists, withValidation := 0, 0
	for i, tr := range trees {
		if tr.Messages[0] != tr.Root || tr.Root.Cause != 0 || tr.Root.ReplyTo != 0 {
			t.Errorf("tree %d: root %+v is not a request caused by nothing, first", i, tr.Root)
		}
		if !tr.Complete || tr.Late {
			t.Errorf("tree %d (%s): complete %v late %v, want complete", i, tr.Root.Label, tr.Complete, tr.Late)
		}
		if i > 0 && tr.End.Before(trees[i-1].End) {
			t.Errorf("tree %d ends before tree %d: not in the order they completed", i, i-1)
		}
		kinds := map[sequence.Kind]int{}
		for _, m := range tr.Messages {
			seen[m.Seq]++
			kinds[m.Kind]++
			if m.Time.Before(tr.Start) || m.Time.After(tr.End) {
				t.Errorf("tree %d: message %d at %v outside %v..%v", i, m.Seq, m.Time, tr.Start, tr.End)
			}
		}
		ids := map[string]bool{}
		for _, p := range tr.Participants {
			ids[p.ID] = true
		}
		for _, m := range tr.Messages {
			if !ids[m.From] || !ids[m.To] {
				t.Errorf("tree %d: message %d names %s→%s, not among its participants", i, m.Seq, m.From, m.To)
			}
		}
		if strings.HasPrefix(tr.Root.Label, "GET /v2/images") {
			lists++
			if kinds[sequence.KindMemcachedGet] != 1 || kinds[sequence.KindMySQLQuery] == 0 || kinds[sequence.KindHTTPResponse] != 1 {
				t.Errorf("tree %d (%s): kinds %v, want one cache lookup, SQL and the answer", i, tr.Root.Label, kinds)
			}
			if kinds[sequence.KindTokenValidate] > 0 {
				withValidation++
			}
		}
	}
	if len(trees) != 21 || lists != 20 || withValidation != 1 {
		t.Errorf("%d trees, %d image lists, %d with a validation; want 21, 20, 1", len(trees), lists, withValidation)
	}
	for _, m := range res.Flow.Messages {
		if seen[m.Seq] != 1 {
			t.Errorf("message %d (%s) is in %d trees, want 1", m.Seq, m.Label, seen[m.Seq])
		}
	}
}

// TestOperationsTokenStorm: the per-operation table of the token storm:
// 20 GET /v2/images, one validated by keystone, 19 of 20 lookups hits,
// glance's 3 statements each besides keystone's for the validation; one
// POST /v3/auth/tokens.
func TestOperationsTokenStorm(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/captures/token-storm/*.pcap.gz")
	res, err := Files(paths, FileOptions{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := sequence.Operations(res.Flow)
	if len(ops) != 2 {
		t.Fatalf("operations %+v, want 2", ops)
	}
	list, issue := ops[0], ops[1]
	if list.Request != "GET /v2/images" || list.Count != 20 || list.Unanswered != 0 || len(list.Errors) != 0 ||
		list.Validations != 1 || list.CacheLookups != 20 || list.CacheHits != 19 || list.DBStatements < 60 ||
		!(list.P50MS > 0 && list.P50MS <= list.P95MS && list.P95MS <= list.P99MS && list.P99MS <= list.MaxMS) {
		t.Errorf("GET /v2/images: %+v", list)
	}
	if issue.Request != "POST /v3/auth/tokens" || issue.Count != 1 || issue.Validations != 0 || issue.DBStatements == 0 || issue.DBBusyMS <= 0 {
		t.Errorf("POST /v3/auth/tokens: %+v", issue)
	}
}
