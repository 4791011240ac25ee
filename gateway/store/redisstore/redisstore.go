package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// DefaultKeyPrefix starts every key unless Options say otherwise.
const DefaultKeyPrefix = "drawbridge:"

// maxTxAttempts bounds the retries of an optimistic (WATCH) transaction
// that keeps losing to concurrent writers of the same owner.
const maxTxAttempts = 100

// Options configure a Store.
type Options struct {
	// KeyPrefix starts every key; empty means DefaultKeyPrefix. Braces in it
	// are escaped (see the package comment).
	KeyPrefix string
}

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	keys   keys
	// fence, when set, fences the journal's and the id map's writes
	// (fence.go).
	fence atomic.Pointer[cluster.Fence]
	// onFenced, when set, is told of each write the fence refused
	// (fence_writes.go).
	onFenced atomic.Pointer[func(error)]
	// ownerFences, when set, fences each owner's writes by the owner's
	// lease (owner_fence.go); it takes precedence over fence.
	ownerFences atomic.Pointer[OwnerFences]
	// trips counts the client's round trips (trips.go).
	trips atomic.Uint64
}

var _ store.Store = (*Store)(nil)

// New returns a Store on client. The Store takes ownership of client:
// Close closes it.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = DefaultKeyPrefix
	}
	s := &Store{client: client, keys: newKeys(opts.KeyPrefix)}
	client.AddHook(tripHook{s})
	return s
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// retry runs fn until it does not fail with redis.TxFailedErr (a WATCHed key
// changed), backing off a little between attempts.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if attempt == maxTxAttempts {
			return fmt.Errorf("gave up after %d concurrent modifications: %w", attempt, err)
		}
		backoff := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(100*time.Microsecond)))
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}
