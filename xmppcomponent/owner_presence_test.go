package xmppcomponent

import (
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestOwnerResourcesBounded: an owner's resources beyond the bound are
// not tracked, and the owner stays available until the tracked ones left.
func TestOwnerResourcesBounded(t *testing.T) {
	var r ownerResources
	const owner = ids.Owner("alice@example.test")
	for i := range maxOwnerResources + 10 {
		if changed := r.set(owner, fmt.Sprint("r", i), true); changed != (i == 0) {
			t.Fatalf("resource %d: changed = %v", i, changed)
		}
	}
	if n := len(r.res[owner]); n != maxOwnerResources {
		t.Fatalf("tracked %d resources, want %d", n, maxOwnerResources)
	}
	for i := range maxOwnerResources {
		changed := r.set(owner, fmt.Sprint("r", i), false)
		if last := i == maxOwnerResources-1; changed != last {
			t.Fatalf("leaving %d: changed = %v, want %v", i, changed, last)
		}
	}
	if r.has(owner) || len(r.res) != 0 {
		t.Errorf("state after every resource left: %v", r.res)
	}
}
