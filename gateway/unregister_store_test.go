package gateway_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestUnregisterDeletesEverything: after an owner unregisters, no Redis
// key and no sqlite row holds the owner's JID or their platform account's
// id — the README's "What unregistering deletes" says what may remain
// (nothing, today). Another owner's data, used the same way, stays.
func TestUnregisterDeletesEverything(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hub.db")
		st, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testUnregisterDeletesEverything(t, st, func(t *testing.T) []string { return sqliteRows(t, db) })
	})
	t.Run("redis", func(t *testing.T) {
		client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
		st := redisstore.New(client, redisstore.Options{})
		t.Cleanup(func() { st.Close() })
		raw := redis.NewClient(&redis.Options{Addr: client.Options().Addr})
		t.Cleanup(func() { raw.Close() })
		testUnregisterDeletesEverything(t, st, func(t *testing.T) []string { return redisEntries(t, raw) })
	})
}

func testUnregisterDeletesEverything(t *testing.T, st store.Store, dump func(*testing.T) []string) {
	h, _ := newJournalHub(t, st, false)
	ctx := t.Context()
	const (
		alice, alicePhone = ids.Owner("alice@example.test"), "+15550004444"
		bob, bobPhone     = ids.Owner("bob@example.test"), "+15550005555"
	)
	for _, u := range []struct {
		owner ids.Owner
		phone string
	}{{alice, alicePhone}, {bob, bobPhone}} {
		h.link(t, u.owner, u.phone)
		// A message each way (id map, journal) and a roster entry.
		for i := range 2 {
			_, err := h.gw.SendMessage(ctx, u.owner, sb, &event.Message{Meta: event.Meta{Chat: echoChat}, Body: fmt.Sprint("hello ", i)},
				gateway.SendOptions{XMPPIDs: []string{fmt.Sprint("x", i)}})
			if err != nil {
				t.Fatal(err)
			}
		}
		h.fe.wait(t, u.owner, 2, isEchoMessage)
		if err := h.gw.SetSubscribed(ctx, u.owner, sb, ids.UserID(echoChat), true); err != nil {
			t.Fatal(err)
		}
		waitPending(t, st, u.owner, 0) // confirmed, and acknowledged
		// The id map writes behind the sends: wait for its pairs, so that
		// the dump below sees everything of the owner's.
		for i := range 2 {
			if !testutil.Poll(testutil.DefaultTimeout, func() bool {
				_, err := st.PlatformMessageID(ctx, u.owner, delivery.ChatKey(sb, echoChat), fmt.Sprint("x", i))
				return err == nil
			}) {
				t.Fatalf("the id pair of x%d of %s never reached the store", i, u.owner)
			}
		}
	}
	mentions := func(entries []string, needles ...string) []string {
		var out []string
		for _, e := range entries {
			for _, n := range needles {
				if strings.Contains(e, n) {
					out = append(out, e)
					break
				}
			}
		}
		return out
	}
	before := dump(t)
	if len(mentions(before, string(alice), alicePhone)) == 0 || len(mentions(before, string(bob), bobPhone)) == 0 {
		t.Fatalf("the dump does not see the owners' data:\n%s", strings.Join(before, "\n"))
	}

	if err := h.gw.Unregister(ctx, alice, sb); err != nil {
		t.Fatal(err)
	}
	// The last word ("you cancelled your registration") is delivered
	// through the journal; it leaves it once confirmed.
	h.fe.wait(t, alice, 1, func(ev event.Event) bool {
		s, ok := ev.(*event.AccountState)
		return ok && s.State == event.StateUnlinked
	})
	waitPending(t, st, alice, 0)

	after := dump(t)
	if left := mentions(after, string(alice), alicePhone); len(left) > 0 {
		t.Errorf("after unregistering, %d entries still name %s or %s:\n%s", len(left), alice, alicePhone, strings.Join(left, "\n"))
	}
	if len(mentions(after, string(bob), bobPhone)) != len(mentions(before, string(bob), bobPhone)) {
		t.Errorf("bob's data changed:\nbefore:\n%s\nafter:\n%s",
			strings.Join(mentions(before, string(bob), bobPhone), "\n"), strings.Join(mentions(after, string(bob), bobPhone), "\n"))
	}
}

// sqliteRows lists every row of every table as "table: col=value ...".
func sqliteRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	ctx := t.Context()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var out []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(table + ":")
			for i, c := range cols {
				v := vals[i]
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, " %s=%v", c, v)
			}
			out = append(out, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// redisEntries lists every key with its content, one entry per key.
func redisEntries(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ctx := t.Context()
	var keys []string
	iter := c.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	var out []string
	for _, key := range keys {
		typ, err := c.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		var content any
		switch typ {
		case "string":
			content, err = c.Get(ctx, key).Result()
		case "hash":
			content, err = c.HGetAll(ctx, key).Result()
		case "set":
			content, err = c.SMembers(ctx, key).Result()
		case "zset":
			content, err = c.ZRange(ctx, key, 0, -1).Result()
		case "list":
			content, err = c.LRange(ctx, key, 0, -1).Result()
		case "stream":
			content, err = c.XRange(ctx, key, "-", "+").Result()
		default:
			content = "(type " + typ + ")"
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s (%s): %v", key, typ, content))
	}
	return out
}
