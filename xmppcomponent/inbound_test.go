package xmppcomponent

import (
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

func TestBodyWithoutFallback(t *testing.T) {
	p := func(i int) *int { return &i }
	for _, tc := range []struct {
		name      string
		body      string
		fallbacks []*xep.Fallback
		want      string
	}{
		{"no fallback", "hello", nil, "hello"},
		{"reply quote", "> Alice wrote:\n> hi\nhello", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(0), End: p(20)}}}}, "hello"},
		{"code points, not bytes", "> ünï\nok", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(0), End: p(6)}}}}, "ok"},
		{"other namespace kept", "> q\nok", []*xep.Fallback{{For: "urn:other", Body: []xep.FallbackRange{{Start: p(0), End: p(4)}}}}, "> q\nok"},
		{"whole body", "/me retracted", []*xep.Fallback{{For: xep.NSReply}}, ""},
		{"overlapping ranges", "abcdefgh", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(1), End: p(4)}, {Start: p(2), End: p(3)}, {Start: p(3), End: p(6)}}}}, "agh"},
		{"empty and reversed ranges", "abcd", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(2), End: p(2)}, {Start: p(3), End: p(1)}}}}, "abcd"},
		{"range clamped", "abc", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(1), End: p(99)}}}}, "a"},
	} {
		in := inbound{fallbacks: tc.fallbacks}
		if got := in.bodyWithout(tc.body, xep.NSReply); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestBodyWithoutLinear: stripping n ranges that each cover the whole
// body of n code points costs about n, not n² (the attack: 17 000 ranges
// over a 240 KB body took 0.7 s of CPU). Timed against itself in the same
// run: 4× the input must cost well under 16× the time.
func TestBodyWithoutLinear(t *testing.T) {
	p := func(i int) *int { return &i }
	run := func(n int) time.Duration {
		body := strings.Repeat("q", n-1) + "!"
		ranges := make([]xep.FallbackRange, n)
		for i := range ranges {
			ranges[i] = xep.FallbackRange{Start: p(0), End: p(n - 1)}
		}
		in := inbound{fallbacks: []*xep.Fallback{{For: xep.NSReply, Body: ranges}}}
		best := time.Duration(1 << 62)
		for range 5 {
			t0 := time.Now()
			got := in.bodyWithout(body, xep.NSReply)
			best = min(best, time.Since(t0))
			if got != "!" {
				t.Fatalf("bodyWithout = %q, want !", got)
			}
		}
		return best
	}
	const n = 17000 / 4
	small, large := run(n), run(4*n)
	t.Logf("%d ranges: %v; %d ranges: %v", n, small, 4*n, large)
	if large > 8*small {
		t.Errorf("4× the ranges took %.1f× the time (%v vs %v): not linear", float64(large)/float64(small), large, small)
	}
}
