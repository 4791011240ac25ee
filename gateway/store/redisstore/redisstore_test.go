package redisstore

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// prefixes gives every store of a test binary its own key space.
var prefixes atomic.Int64

func freshPrefix() string { return fmt.Sprintf("test%d:", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	addr := storetest.StartRedis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return New(redis.NewClient(&redis.Options{Addr: addr}), Options{KeyPrefix: freshPrefix()})
	})
}

// TestConformanceCluster runs the suite on a one-node Redis Cluster through
// a ClusterClient: the node rejects any command or transaction whose keys
// span slots (CROSSSLOT), so this proves the hash tags are right.
func TestConformanceCluster(t *testing.T) {
	addr := startCluster(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), Config{Addrs: []string{addr}, KeyPrefix: freshPrefix()})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// startCluster runs a redis-server in cluster mode that serves every slot.
func startCluster(t *testing.T) string {
	t.Helper()
	addr := storetest.StartRedis(t, "--cluster-enabled", "yes")
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := t.Context()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	var info string
	if !testutil.Poll(testutil.DefaultTimeout, func() bool {
		var err error
		if info, err = c.ClusterInfo(ctx).Result(); err != nil {
			t.Fatalf("CLUSTER INFO: %v", err)
		}
		return strings.Contains(info, "cluster_state:ok")
	}) {
		t.Fatalf("cluster not ok after %v:\n%s", testutil.DefaultTimeout, info)
	}
	return addr
}

func TestOpenURL(t *testing.T) {
	addr := storetest.StartRedis(t)
	s, err := Open(t.Context(), Config{URL: "redis://" + addr + "/3", KeyPrefix: "x:"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.SetKV(t.Context(), "p", "a", "k", []byte("v")); err != nil {
		t.Fatalf("SetKV: %v", err)
	}
	// The data went to DB 3 under the prefix.
	c := redis.NewClient(&redis.Options{Addr: addr, DB: 3})
	defer c.Close()
	if v, err := c.HGet(t.Context(), "x:kv:{p:a}", "k").Result(); err != nil || v != "v" {
		t.Fatalf("HGET in DB 3 = %q, %v; want v", v, err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "neither URL nor Addrs"},
		{"URL and Addrs", Config{URL: "redis://127.0.0.1:1", Addrs: []string{"127.0.0.1:1"}}, "sets URL and Addrs"},
		{"bad URL", Config{URL: "http://127.0.0.1:1"}, "parsing the redis URL"},
		{"cluster DB", Config{Addrs: []string{"127.0.0.1:1"}, DB: 2}, "only has DB 0"},
		{"unreachable", Config{URL: "redis://:secret@127.0.0.1:1/0"}, "127.0.0.1:1 (db 0) does not answer PING"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open error %q shows the password", err)
			}
		})
	}
}

func TestDefaultMessageIDTTL(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	s := New(client, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	if err := s.PutMessageID(ctx, "o", "c", "x", "p", 0); err != nil {
		t.Fatalf("PutMessageID: %v", err)
	}
	for _, key := range []string{"drawbridge:mid:{o}:c:x:x", "drawbridge:mid:{o}:c:p:p"} {
		ttl, err := client.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", key, err)
		}
		if ttl <= store.DefaultMessageIDTTL-time.Minute || ttl > store.DefaultMessageIDTTL {
			t.Errorf("PTTL %s = %v, want about %v", key, ttl, store.DefaultMessageIDTTL)
		}
	}
	ttl, err := client.PTTL(ctx, "drawbridge:mids:{o}").Result()
	if err != nil || ttl < store.DefaultMessageIDTTL || ttl > store.DefaultMessageIDTTL+indexSlack {
		t.Errorf("PTTL of the index = %v, %v; want just over %v", ttl, err, store.DefaultMessageIDTTL)
	}
}

// TestPutMessageIDsAfterScriptFlush checks that message id writes recover
// when the server has lost its script cache (a restart, SCRIPT FLUSH): the
// single call and a pipelined batch of several owners.
func TestPutMessageIDsAfterScriptFlush(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	s := New(client, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	pairs := []store.MessageIDPair{
		{Owner: "a", Chat: "c", XMPPID: "x1", PlatformID: "p1"},
		{Owner: "b", Chat: "c", XMPPID: "x2", PlatformID: "p2"},
		{Owner: "a", Chat: "c", XMPPID: "x3", PlatformID: "p3"},
	}
	for i := range 2 {
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
		if err := s.PutMessageID(ctx, "o", "c", fmt.Sprint("x", i), "p", 0); err != nil {
			t.Fatalf("PutMessageID after SCRIPT FLUSH: %v", err)
		}
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
		if err := s.PutMessageIDs(ctx, pairs); err != nil {
			t.Fatalf("PutMessageIDs after SCRIPT FLUSH: %v", err)
		}
		for _, p := range pairs {
			if got, err := s.XMPPMessageID(ctx, p.Owner, p.Chat, p.PlatformID); err != nil || got != p.XMPPID {
				t.Errorf("XMPPMessageID(%s, %s) = %q, %v; want %q", p.Owner, p.PlatformID, got, err, p.XMPPID)
			}
		}
	}
}

// TestSetAccountStateRecord checks the record the server-side script
// writes: Go reads it back field for field, the revision counts the
// write, an empty detail is left out as Go's encoding leaves it out, and
// text that JSON escapes survives.
func TestSetAccountStateRecord(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	s := New(client, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	const owner, platform = ids.Owner("o@example.test"), ids.PlatformID("sandbox")
	registered := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	if err := s.PutAccount(ctx, store.Account{Owner: owner, Platform: platform, ID: "+15550001111", State: event.StateConnecting, Registered: registered}); err != nil {
		t.Fatal(err)
	}
	raw := func() accountRecord {
		t.Helper()
		data, err := client.HGet(ctx, s.keys.accounts(owner), string(platform)).Result()
		if err != nil {
			t.Fatal(err)
		}
		_, r, err := decodeAccount(owner, platform, data)
		if err != nil {
			t.Fatalf("%v in %s", err, data)
		}
		return r
	}
	before := raw()
	detail := "stream replaced: \"<phone>\" & ünïcode\n/→"
	t0 := time.Now().UTC()
	if err := s.SetAccountState(ctx, owner, platform, event.StateDisconnected, detail); err != nil {
		t.Fatal(err)
	}
	after := raw()
	if after.ID != before.ID || !after.Registered.Equal(registered) || after.State != event.StateDisconnected || after.Detail != detail || after.Rev != before.Rev+1 {
		t.Errorf("record after SetAccountState = %+v (before %+v)", after, before)
	}
	if after.Updated.Before(t0.Add(-time.Second)) || after.Updated.After(time.Now().Add(time.Second)) {
		t.Errorf("updated = %v, want about %v", after.Updated, t0)
	}
	if err := s.SetAccountState(ctx, owner, platform, event.StateConnected, ""); err != nil {
		t.Fatal(err)
	}
	data, err := client.HGet(ctx, s.keys.accounts(owner), string(platform)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(data, `"detail"`) {
		t.Errorf("an empty detail is stored: %s", data)
	}
	if r := raw(); r.State != event.StateConnected || r.Detail != "" || r.Rev != before.Rev+2 {
		t.Errorf("record = %+v", r)
	}
	// The record still takes part in compare-and-set writes.
	if err := s.PutAccount(ctx, store.Account{Owner: owner, Platform: platform, ID: "+15550001111", State: event.StateLoggedOut, Registered: registered}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAccountState(ctx, "nobody@example.test", platform, event.StateConnected, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("state of a missing record: %v, want ErrNotFound", err)
	}
}

// TestQueueOfAFormerOwnerIsDeleted: an owner without an account record
// keeps no queue once it is empty, whichever comes last (the last Ack or
// DeleteAccount), and leaves the queues set; an owner with a record keeps
// their empty stream. Enqueue after that works as before.
func TestQueueOfAFormerOwnerIsDeleted(t *testing.T) {
	addr := storetest.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	s := New(client, Options{})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	exists := func(owner ids.Owner) (stream, member bool) {
		t.Helper()
		n, err := client.Exists(ctx, s.keys.queue(owner)).Result()
		if err != nil {
			t.Fatal(err)
		}
		m, err := client.SIsMember(ctx, s.keys.queueOwners(), string(owner)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1, m
	}
	enqueue := func(owner ids.Owner) string {
		t.Helper()
		seq, err := s.Enqueue(ctx, owner, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	if err := s.PutAccount(ctx, store.Account{Owner: "kept", Platform: "p", ID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAccount(ctx, store.Account{Owner: "gone", Platform: "p", ID: "g"}); err != nil {
		t.Fatal(err)
	}

	// The last Ack comes after DeleteAccount.
	seqKept, seqGone := enqueue("kept"), enqueue("gone")
	if err := s.DeleteAccount(ctx, "gone", "p"); err != nil {
		t.Fatal(err)
	}
	if stream, member := exists("gone"); !stream || !member {
		t.Fatalf("a queue with an item was deleted (stream %v, in the set %v)", stream, member)
	}
	if err := s.AckAll(ctx, []store.QueueRef{{Owner: "kept", Seq: seqKept}, {Owner: "gone", Seq: seqGone}}); err != nil {
		t.Fatal(err)
	}
	if stream, member := exists("gone"); stream || member {
		t.Errorf("after the last Ack: stream %v, in the set %v; want neither", stream, member)
	}
	if stream, member := exists("kept"); !stream || !member {
		t.Errorf("an owner with an account lost the empty queue (stream %v, in the set %v)", stream, member)
	}

	// DeleteAccount comes after the last Ack; script cache flushed on the way.
	if err := s.PutAccount(ctx, store.Account{Owner: "gone", Platform: "p", ID: "g"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, "gone", enqueue("gone")); err != nil {
		t.Fatal(err)
	}
	if stream, _ := exists("gone"); !stream {
		t.Fatal("an owner with an account lost the empty queue")
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount(ctx, "gone", "p"); err != nil {
		t.Fatal(err)
	}
	if stream, member := exists("gone"); stream || member {
		t.Errorf("after DeleteAccount: stream %v, in the set %v; want neither", stream, member)
	}

	// A new item is queued and listed as before.
	enqueue("gone")
	owners, err := s.PendingOwners(ctx)
	if err != nil || len(owners) != 1 || owners[0] != "gone" {
		t.Errorf("PendingOwners = %v, %v; want [gone]", owners, err)
	}
}
