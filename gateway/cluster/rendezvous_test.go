package cluster_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
)

func owners(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user%03d@example.test", i)
	}
	return out
}

func TestPreferredSpreadsOwners(t *testing.T) {
	workers := []string{"gw-a", "gw-b", "gw-c"}
	count := map[string]int{}
	for _, o := range owners(300) {
		count[cluster.Preferred(o, workers)]++
	}
	for _, w := range workers {
		// 100 expected; a binomial(300, 1/3) is within 60..140 with
		// overwhelming odds, and the hash is fixed, so this never flakes.
		if c := count[w]; c < 60 || c > 140 {
			t.Errorf("worker %s prefers %d of 300 owners, want about 100 (all: %v)", w, c, count)
		}
	}
	if got := cluster.Preferred("x@example.test", nil); got != "" {
		t.Errorf("Preferred among no worker = %q, want empty", got)
	}
}

func TestPreferredMovesOnlyWhatItMust(t *testing.T) {
	three := []string{"gw-a", "gw-b", "gw-c"}
	tests := []struct {
		name  string
		after []string
		// moves reports whether an owner preferring before may move to
		// after.
		mayMove func(before, after string) bool
	}{
		{"a worker joins", []string{"gw-a", "gw-b", "gw-c", "gw-d"}, func(_, after string) bool { return after == "gw-d" }},
		{"a worker leaves", []string{"gw-a", "gw-c"}, func(before, _ string) bool { return before == "gw-b" }},
		{"same workers in another order", []string{"gw-c", "gw-a", "gw-b"}, func(string, string) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			moved := 0
			for _, o := range owners(300) {
				before, after := cluster.Preferred(o, three), cluster.Preferred(o, tc.after)
				if before == after {
					continue
				}
				moved++
				if !tc.mayMove(before, after) {
					t.Errorf("owner %s moved from %s to %s", o, before, after)
				}
				if !slices.Contains(tc.after, after) {
					t.Errorf("owner %s moved to %s, not a live worker", o, after)
				}
			}
			t.Logf("%d of 300 owners moved", moved)
		})
	}
}

func TestOwnerLeaseSharesTheOwnersHashTag(t *testing.T) {
	tests := []struct{ owner, tag string }{
		{"alice@example.org", "{alice@example.org}"},
		{"a{b}:c%d@example.org", "{a%7Bb%7D%3Ac%25d@example.org}"},
	}
	for _, tc := range tests {
		if got := cluster.OwnerTag(tc.owner); got != tc.tag {
			t.Errorf("OwnerTag(%q) = %q, want %q", tc.owner, got, tc.tag)
		}
		l := cluster.NewOwnerLease(nil, "gw{1}:", tc.owner)
		if want := "gw%7B1%7D:cluster:owner:" + tc.tag; l.Key() != want {
			t.Errorf("owner lease key of %q = %q, want %q", tc.owner, l.Key(), want)
		}
		if l.Name() != "owner:"+tc.owner {
			t.Errorf("owner lease name = %q", l.Name())
		}
	}
}
