package storetest_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

func TestRedisProcessSurvivesKillWithAOF(t *testing.T) {
	p := storetest.StartRedisProcess(t, "--appendonly", "yes", "--appendfsync", "always")
	client := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { client.Close() })
	ctx := t.Context()
	if err := client.Set(ctx, "k", "before crash", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	p.Kill()
	if err := client.Ping(ctx).Err(); err == nil {
		t.Fatalf("PING succeeded after Kill")
	}
	p.Restart()
	got, err := client.Get(ctx, "k").Result()
	if err != nil || got != "before crash" {
		t.Fatalf("GET after restart = %q, %v; want %q", got, err, "before crash")
	}

	p.Stop()
	p.Stop() // stopping twice is harmless
	p.Restart()
	if got, err := client.Get(ctx, "k").Result(); err != nil || got != "before crash" {
		t.Fatalf("GET after stop and restart = %q, %v", got, err)
	}
}

func TestRedisWithoutPersistenceLosesData(t *testing.T) {
	p := storetest.StartRedisProcess(t)
	client := redis.NewClient(&redis.Options{Addr: p.Addr()})
	t.Cleanup(func() { client.Close() })
	ctx := t.Context()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	p.Kill()
	p.Restart()
	if err := client.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("GET after restart without persistence: %v, want redis.Nil", err)
	}
}
