package xmppcomponent

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestMentionRefs(t *testing.T) {
	jidOf := func(u ids.UserID) string { return string(u) + "@gw.example.test" }
	for _, tc := range []struct {
		name       string
		body       string
		mention    ids.UserID
		begin, end int
		ranged     bool
	}{
		{"with plus", "hi @+15550001111!", "+15550001111", 3, 16, true},
		{"without plus", "hi @15550001111!", "+15550001111", 3, 15, true},
		{"code points", "ça va @15550001111", "+15550001111", 6, 18, true},
		{"not in the text", "hello all", "+15550001111", 0, 0, false},
	} {
		refs := mentionRefs(tc.body, []ids.UserID{tc.mention}, jidOf)
		if len(refs) != 1 || refs[0].Type != "mention" || refs[0].URI != "xmpp:"+jidOf(tc.mention) {
			t.Fatalf("%s: %+v", tc.name, refs)
		}
		r := refs[0]
		if !tc.ranged {
			if r.Begin != nil || r.End != nil {
				t.Errorf("%s: range %v-%v for a mention not in the text", tc.name, *r.Begin, *r.End)
			}
			continue
		}
		if r.Begin == nil || *r.Begin != tc.begin || *r.End != tc.end {
			t.Errorf("%s: range %v, want %d-%d", tc.name, r, tc.begin, tc.end)
		}
	}
}
