package ids

import "testing"

func TestPartIDs(t *testing.T) {
	for _, tc := range []struct {
		id   MessageID
		n    int
		want MessageID
	}{
		{"W1", 0, "W1"},
		{"W1", 1, "W1~1"},
		{"W1", 12, "W1~12"},
		{"", 3, ""},
		{"a~b", 2, "a~b~2"},
	} {
		got := PartID(tc.id, tc.n)
		if got != tc.want {
			t.Errorf("PartID(%q, %d) = %q, want %q", tc.id, tc.n, got, tc.want)
		}
		if base, n := SplitPart(got); tc.id != "" && (base != tc.id || n != tc.n) {
			t.Errorf("SplitPart(%q) = %q, %d; want %q, %d", got, base, n, tc.id, tc.n)
		}
	}
}

func TestSplitPartLeavesOtherIDs(t *testing.T) {
	for _, id := range []MessageID{"", "~1", "W1~", "W1~0", "W1~01", "W1~x", "W1~-1", "W1~1000", "W1~99999999999999999999", "plain"} {
		if base, n := SplitPart(id); base != id || n != 0 {
			t.Errorf("SplitPart(%q) = %q, %d; want it unchanged", id, base, n)
		}
	}
}
