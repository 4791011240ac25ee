package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bell wakes a worker when an owner's inbox has new entries: the front
// rings the owner's worker after it posts; the worker reads the owners
// rung. A ring is a hint only: a lost one (its worker died) costs nothing,
// since the next owner reads the whole inbox when it claims the owner; a
// repeated one reads nothing new.
type Bell struct {
	client redis.UniversalClient
	prefix string
}

// NewBell returns the bells whose keys start with prefix.
func NewBell(client redis.UniversalClient, prefix string) *Bell {
	return &Bell{client: client, prefix: prefixEscaper.Replace(prefix)}
}

func (b *Bell) key(worker string) string { return b.prefix + "cluster:bell:{" + worker + "}" }

// Ring tells worker that owner's inbox has new entries.
func (b *Bell) Ring(ctx context.Context, worker, owner string) error {
	if err := b.client.RPush(ctx, b.key(worker), owner).Err(); err != nil {
		return fmt.Errorf("cluster: ringing %s: %w", worker, err)
	}
	return nil
}

// Wait returns the owners rung for worker, each once, in the order first
// rung, up to count of them, waiting up to timeout for the first (nil
// when none came). The wait is counted in whole seconds (BLMPOP as
// go-redis sends it); under a second Wait does not wait.
func (b *Bell) Wait(ctx context.Context, worker string, count int, timeout time.Duration) ([]string, error) {
	var cmd *redis.KeyValuesCmd
	if timeout < time.Second {
		cmd = b.client.LMPop(ctx, "left", int64(count), b.key(worker))
	} else {
		cmd = b.client.BLMPop(ctx, timeout, "left", int64(count), b.key(worker))
	}
	_, owners, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: waiting for %s's bell: %w", worker, err)
	}
	seen := make(map[string]bool, len(owners))
	out := owners[:0]
	for _, o := range owners {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// Forget deletes worker's bell (a drained worker's, which nobody reads).
func (b *Bell) Forget(ctx context.Context, worker string) error {
	if err := b.client.Del(ctx, b.key(worker)).Err(); err != nil {
		return fmt.Errorf("cluster: forgetting %s's bell: %w", worker, err)
	}
	return nil
}
