package redisstore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestFencedRemainingWritesOfAStaleHolder: after the store's holder lost
// the lease, each of its writes outside the journal and the id map —
// account records (put, state, delete), adapter KV (set, delete),
// contacts, and acks of queue entries (one and several) — is refused
// with store.ErrFenced, told to the OnFenced hook (metrics), and Redis
// holds exactly what it held before.
func TestFencedRemainingWritesOfAStaleHolder(t *testing.T) {
	addr := storetest.StartRedis(t)
	ctx := t.Context()
	prefix := freshPrefix()
	oldClient := redis.NewClient(&redis.Options{Addr: addr})
	old := New(oldClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { old.Close() })
	l := cluster.NewLease(oldClient, prefix, cluster.FrontLease)
	const (
		owner    ids.Owner      = "alice@example.org"
		platform ids.PlatformID = "sandbox"
		account  ids.AccountID  = "+15550001111"
	)
	g, err := l.Acquire(ctx, "old", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := g.Fence(l)
	old.SetFence(&f)

	// What the holder wrote while it held the lease.
	if err := old.PutAccount(ctx, store.Account{Owner: owner, Platform: platform, ID: account, State: event.StateConnected}); err != nil {
		t.Fatalf("the holder's account write: %v", err)
	}
	if err := old.SetKV(ctx, platform, account, "k", []byte("v1")); err != nil {
		t.Fatalf("the holder's KV write: %v", err)
	}
	if err := old.PutContact(ctx, owner, store.Contact{Platform: platform, User: "+15550002222", Name: "Bob"}); err != nil {
		t.Fatalf("the holder's contact write: %v", err)
	}
	seqs, err := old.EnqueueAll(ctx, []store.QueueAppend{{Owner: owner, Data: []byte("a")}, {Owner: owner, Data: []byte("b")}})
	if err != nil {
		t.Fatalf("the holder's appends: %v", err)
	}

	// The lease passes to another instance behind the holder's back.
	if err := oldClient.Del(ctx, l.Key()).Err(); err != nil {
		t.Fatal(err)
	}
	newClient := redis.NewClient(&redis.Options{Addr: addr})
	fresh := New(newClient, Options{KeyPrefix: prefix})
	t.Cleanup(func() { fresh.Close() })
	g2, err := cluster.NewLease(newClient, prefix, cluster.FrontLease).Acquire(ctx, "new", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f2 := g2.Fence(l)
	fresh.SetFence(&f2)
	before := dump(t, newClient, prefix)
	var refusals atomic.Int64
	old.OnFenced(func(error) { refusals.Add(1) })

	writes := []struct {
		name  string
		write func() error
	}{
		{"PutAccount", func() error {
			return old.PutAccount(ctx, store.Account{Owner: owner, Platform: platform, ID: "+15559999999"})
		}},
		{"PutAccount of a new owner", func() error {
			return old.PutAccount(ctx, store.Account{Owner: "carol@example.org", Platform: platform})
		}},
		{"SetAccountState", func() error {
			return old.SetAccountState(ctx, owner, platform, event.StateLoggedOut, "stale")
		}},
		{"DeleteAccount", func() error { return old.DeleteAccount(ctx, owner, platform) }},
		{"SetKV", func() error { return old.SetKV(ctx, platform, account, "k", []byte("stale")) }},
		{"DeleteKV", func() error { return old.DeleteKV(ctx, platform, account, "k") }},
		{"PutContact", func() error {
			return old.PutContact(ctx, owner, store.Contact{Platform: platform, User: "+15550002222", Name: "stale"})
		}},
		{"Ack", func() error { return old.Ack(ctx, owner, seqs[0]) }},
		{"AckAll", func() error {
			return old.AckAll(ctx, []store.QueueRef{{Owner: owner, Seq: seqs[0]}, {Owner: owner, Seq: seqs[1]}})
		}},
		{"AckAll of several owners", func() error {
			return old.AckAll(ctx, []store.QueueRef{{Owner: owner, Seq: seqs[1]}, {Owner: "bob@example.org", Seq: "1-1"}})
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			n := refusals.Load()
			err := w.write()
			if refusals.Load() == n {
				t.Errorf("%s: the OnFenced hook was not told", w.name)
			}
			if !errors.Is(err, store.ErrFenced) {
				t.Fatalf("%s by the stale holder: %v, want store.ErrFenced", w.name, err)
			}
			if after := dump(t, newClient, prefix); !reflect.DeepEqual(before, after) {
				t.Errorf("%s by the stale holder changed Redis:\nbefore %v\nafter  %v", w.name, before, after)
			}
		})
	}

	// The new holder writes as usual.
	if err := fresh.SetAccountState(ctx, owner, platform, event.StateConnecting, ""); err != nil {
		t.Errorf("the new holder's state write: %v", err)
	}
	if err := fresh.AckAll(ctx, []store.QueueRef{{Owner: owner, Seq: seqs[0]}, {Owner: owner, Seq: seqs[1]}}); err != nil {
		t.Errorf("the new holder's acks: %v", err)
	}
	if err := fresh.DeleteAccount(ctx, owner, platform); err != nil {
		t.Errorf("the new holder's delete: %v", err)
	}
}

// dump reads every key under prefix but the leases' into comparable
// strings (type and content).
func dump(t *testing.T, c *redis.Client, prefix string) map[string]string {
	t.Helper()
	ctx := t.Context()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, k := range keys {
		if strings.HasPrefix(k, prefix+"cluster:") {
			continue
		}
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "set":
			v, err = c.SMembers(ctx, k).Result()
		case "stream":
			v, err = c.XRange(ctx, k, "-", "+").Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		default:
			v, err = c.Dump(ctx, k).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = typ + ":" + fmtValue(v)
	}
	return out
}

func fmtValue(v any) string {
	if s, ok := v.([]string); ok {
		s = slices.Clone(s)
		slices.Sort(s)
		return fmt.Sprint(s)
	}
	return fmt.Sprint(v)
}
