package redisstore

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	addr := storetest.StartRedis(b)
	storetest.Bench(b, func(b *testing.B) store.Store {
		return New(redis.NewClient(&redis.Options{Addr: addr}), Options{KeyPrefix: freshPrefix()})
	})
}
