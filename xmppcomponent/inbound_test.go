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
// over a 240 KB body took 0.7 s of CPU). Timed against a baseline in the
// same run: one range over the same body, which costs about n either way.
// Linear stripping makes the two a small factor apart; the quadratic one
// made them thousands apart.
func TestBodyWithoutLinear(t *testing.T) {
	const n = 17000
	p := func(i int) *int { return &i }
	body := strings.Repeat("q", n-1) + "!"
	timeOf := func(ranges int) time.Duration {
		rs := make([]xep.FallbackRange, ranges)
		for i := range rs {
			rs[i] = xep.FallbackRange{Start: p(0), End: p(n - 1)}
		}
		in := inbound{fallbacks: []*xep.Fallback{{For: xep.NSReply, Body: rs}}}
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
	one, many := timeOf(1), timeOf(n)
	t.Logf("1 range: %v; %d ranges: %v", one, n, many)
	if many > 50*one {
		t.Errorf("%d ranges took %.0f× the time of one (%v vs %v): not linear", n, float64(many)/float64(one), many, one)
	}
}
