package redisstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// TestSchemaVersion: Open records the key layout's version in a new store
// and in one written before the schema key existed (data kept), opens a
// store of the current version again, and refuses one a newer program has
// used, naming both versions, the store and what to do — without changing
// its data or its version.
func TestSchemaVersion(t *testing.T) {
	addr := storetest.StartRedis(t)
	raw := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	ctx := t.Context()
	open := func(prefix string) (*Store, error) {
		return Open(ctx, Config{URL: "redis://" + addr, KeyPrefix: prefix})
	}

	t.Run("new store", func(t *testing.T) {
		s, err := open("new:")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if v, err := raw.Get(ctx, "new:schema").Int(); err != nil || v != SchemaVersion() {
			t.Errorf("schema key = %d, %v; want %d", v, err, SchemaVersion())
		}
		s, err = open("new:")
		if err != nil {
			t.Fatalf("reopening a store of the current version: %v", err)
		}
		s.Close()
	})

	t.Run("store from before the schema key", func(t *testing.T) {
		old := New(redis.NewClient(&redis.Options{Addr: addr}), Options{KeyPrefix: "old:"})
		if err := old.PutAccount(ctx, store.Account{Owner: "alice@example.org", Platform: "sandbox", ID: "A"}); err != nil {
			t.Fatal(err)
		}
		old.Close()
		s, err := open("old:")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, err := raw.Get(ctx, "old:schema").Int(); err != nil || v != SchemaVersion() {
			t.Errorf("schema key = %d, %v; want %d", v, err, SchemaVersion())
		}
		if a, err := s.AccountByID(ctx, "sandbox", "A"); err != nil || a.Owner != "alice@example.org" {
			t.Errorf("AccountByID after Open = %+v, %v", a, err)
		}
	})

	t.Run("newer schema", func(t *testing.T) {
		if err := raw.Set(ctx, "newer:schema", SchemaVersion()+1, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := raw.HSet(ctx, "newer:future", "f", "v").Err(); err != nil {
			t.Fatal(err)
		}
		s, err := open("newer:")
		if err == nil {
			s.Close()
			t.Fatal("Open of a store with a newer schema succeeded")
		}
		tooNew, ok := errors.AsType[*store.SchemaTooNewError](err)
		if !ok || tooNew.Found != SchemaVersion()+1 || tooNew.Known != SchemaVersion() {
			t.Fatalf("Open error = %v (%#v), want a SchemaTooNewError %d > %d", err, tooNew, SchemaVersion()+1, SchemaVersion())
		}
		for _, want := range []string{addr, "newer:schema", "schema version 2", "up to 1", "newer drawbridge", "restore the backup"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open error %q does not say %q", err, want)
			}
		}
		if v, _ := raw.Get(ctx, "newer:schema").Int(); v != SchemaVersion()+1 {
			t.Errorf("the refused store's version became %d", v)
		}
		if n, _ := raw.Exists(ctx, "newer:future").Result(); n != 1 {
			t.Error("the refused store's data was touched")
		}
	})
}
