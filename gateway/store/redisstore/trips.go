package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// RoundTrips returns how many round trips the store's client has made
// since New: each command sent alone and each pipeline (or MULTI/EXEC)
// counts one, whatever it carries. It is for metrics and benchmarks
// (drawbridge_store_round_trips_total).
func (s *Store) RoundTrips() uint64 { return s.trips.Load() }

// tripHook counts the client's round trips into s.trips.
type tripHook struct{ s *Store }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.s.trips.Add(1)
		return next(ctx, cmd)
	}
}

func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.s.trips.Add(1)
		return next(ctx, cmds)
	}
}

var _ redis.Hook = tripHook{}
