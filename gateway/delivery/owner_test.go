package delivery

import (
	"slices"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestIntakePendingOf checks that PendingOf returns one sender's recorded
// stanzas not marked done, in order, and none of the other senders'.
func TestIntakePendingOf(t *testing.T) {
	in := NewIntake(IntakeConfig{Store: openStore(t)})
	in.Start(t.Context())
	const alice, bob = ids.Owner("alice@example.test"), ids.Owner("bob@example.test")
	seqs, err := in.Append(t.Context(), []IntakeItem{
		{Sender: alice, Data: []byte("a1")},
		{Sender: bob, Data: []byte("b1")},
		{Sender: alice, Data: []byte("a2")},
		{Sender: alice, Data: []byte("a3")},
	})
	if err != nil {
		t.Fatal(err)
	}
	in.Done(alice, seqs[0])
	pending := func(sender ids.Owner) []string {
		entries, err := in.PendingOf(t.Context(), sender)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if e.Sender != sender {
				t.Errorf("PendingOf(%s) returned an entry of %s", sender, e.Sender)
			}
			out = append(out, string(e.Data))
		}
		return out
	}
	testutil.WaitFor(t, "the stanza marked done to leave the intake", func() bool {
		return slices.Equal(pending(alice), []string{"a2", "a3"})
	})
	if got := pending(bob); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("PendingOf(bob) = %q, want [b1]", got)
	}
	if got := pending("carol@example.test"); len(got) != 0 {
		t.Errorf("PendingOf(carol) = %q, want none", got)
	}
}
