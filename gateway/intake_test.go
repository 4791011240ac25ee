package gateway_test

import (
	"context"
	"os/exec"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// intakeStores opens each store backend (Redis only if redis-server is
// installed and the run is not -short).
func intakeStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	t.Helper()
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store { return openStore(t) },
		"redis": func(t *testing.T) store.Store {
			if _, err := exec.LookPath("redis-server"); err != nil {
				t.Skip("redis-server is not installed")
			}
			st := redisstore.New(redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)}), redisstore.Options{})
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// TestIntakeKeepsUntilDone checks, on both stores, that recorded stanzas
// stay in the store, each sender's in order, until marked done, survive a
// restart of the hub, and are left alone by the journal's replay.
func TestIntakeKeepsUntilDone(t *testing.T) {
	for name, open := range intakeStores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			h, _ := newJournalHub(t, st, false)
			const alice, bob = ids.Owner("alice@example.test"), ids.Owner("bob@remote.test")
			items := []delivery.IntakeItem{
				{Sender: alice, Data: []byte("<message id='a1'/>")},
				{Sender: bob, Data: []byte("<message id='b1'/>")},
				{Sender: alice, Data: []byte("<message id='a2'/>")},
				{Sender: alice, Data: []byte("<message id='a3'/>")},
			}
			seqs, err := h.gw.Intake().Append(t.Context(), items)
			if err != nil || len(seqs) != len(items) {
				t.Fatalf("Append = %v, %v", seqs, err)
			}
			h.gw.Intake().Done(alice, seqs[0])
			h.gw.Intake().Done(bob, seqs[1])
			var left []delivery.IntakeEntry
			testutil.WaitFor(t, "the done stanzas to leave the store", func() bool {
				left, err = h.gw.Intake().Pending(t.Context())
				return err == nil && len(left) == 2
			})
			if err := h.gw.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}

			// The next process finds the rest, in order: its journal's
			// replay (at Start, with a frontend that confirms) left the
			// intake alone, or it would have dropped these as events it
			// cannot read.
			second, _ := newJournalHub(t, st, false)
			left, err = second.gw.Intake().Pending(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range left {
				got = append(got, string(e.Sender)+" "+string(e.Data))
			}
			want := []string{"alice@example.test <message id='a2'/>", "alice@example.test <message id='a3'/>"}
			if !slices.Equal(got, want) {
				t.Errorf("pending after the restart = %q, want %q", got, want)
			}
		})
	}
}

// TestReplayedMessageNotSentTwice checks that a message handled again
// after a restart (its intake record outlived the send) is not sent to the
// platform a second time when the store knows its id (the intake forgets a
// record only after the id map's writes); without Replayed, a new process
// (no memory of the send, no origin-id) sends it again.
func TestReplayedMessageNotSentTwice(t *testing.T) {
	st := openStore(t)
	const owner = ids.Owner("alice@example.test")
	const phone = "+15557654321"
	first := newHub(t, st, true)
	first.link(t, owner, phone)
	msg := func() *event.Message {
		return &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.QuietBot)}, Body: "once"}
	}
	id, err := first.gw.SendMessage(t.Context(), owner, sb, msg(), gateway.SendOptions{XMPPIDs: []string{"x1"}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the id map to write x1", func() bool {
		got, err := st.PlatformMessageID(t.Context(), owner, delivery.ChatKey(sb, ids.ChatID(sandbox.QuietBot)), "x1")
		return err == nil && got == id
	})

	// The process stops before its intake forgets x1; the next one, on
	// the same store and platform, handles it again as a replay.
	if err := first.gw.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := len(first.platform.Messages(phone))
	second, err := gateway.New(gateway.Options{Store: st, Adapters: []gateway.Adapter{sandbox.New(first.platform)}})
	if err != nil {
		t.Fatal(err)
	}
	second.SetFrontend(newFrontend())
	if err := second.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop(context.Background()) })
	testutil.WaitFor(t, "the account to connect again", func() bool {
		a, err := st.AccountByOwner(t.Context(), owner, sb)
		return err == nil && a.State == event.StateConnected
	})
	again, err := second.SendMessage(t.Context(), owner, sb, msg(), gateway.SendOptions{XMPPIDs: []string{"x1"}, Replayed: true})
	if err != nil || again != id {
		t.Fatalf("replayed send = %q, %v; want %q and no error", again, err, id)
	}
	if n := len(first.platform.Messages(phone)) - before; n != 0 {
		t.Errorf("the replay sent the message again (%d more on the platform)", n)
	}
	// The same send not marked as a replay goes out again: what
	// Replayed prevents.
	if _, err := second.SendMessage(t.Context(), owner, sb, msg(), gateway.SendOptions{XMPPIDs: []string{"x1"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(first.platform.Messages(phone)) - before; n != 1 {
		t.Errorf("without Replayed, %d more messages on the platform, want 1 (else the test shows nothing)", n)
	}
}
