package xmppcomponent

import (
	"testing"

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
		{"range clamped", "abc", []*xep.Fallback{{For: xep.NSReply, Body: []xep.FallbackRange{{Start: p(1), End: p(99)}}}}, "a"},
	} {
		in := inbound{fallbacks: tc.fallbacks}
		if got := in.bodyWithout(tc.body, xep.NSReply); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
