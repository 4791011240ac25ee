// Package ratelimit holds the token buckets that the hub uses to bound how
// often one XMPP user, and everybody together, may send messages, register
// and start logins. It depends on the standard library only.
package ratelimit

import (
	"sync"
	"time"
)

// Rate is a sustained rate with a burst: Burst tokens are available at
// once, and they refill at PerMinute tokens a minute. The zero Rate (or
// any Rate with PerMinute <= 0) is no limit.
type Rate struct {
	PerMinute int64
	Burst     int64
}

// Unlimited reports whether r imposes no limit.
func (r Rate) Unlimited() bool { return r.PerMinute <= 0 }

// burst is the bucket's capacity: at least one token.
func (r Rate) burst() float64 {
	if r.Burst < 1 {
		return 1
	}
	return float64(r.Burst)
}

// perNano is the refill rate in tokens per nanosecond.
func (r Rate) perNano() float64 { return float64(r.PerMinute) / float64(time.Minute) }

// bucket is one token bucket. Its zero value is a full bucket (see take).
type bucket struct {
	tokens float64
	last   time.Time
}

// level returns the bucket's tokens at now without changing it.
func (b *bucket) level(r Rate, now time.Time) float64 {
	if b.last.IsZero() {
		return r.burst()
	}
	elapsed := now.Sub(b.last)
	if elapsed < 0 {
		elapsed = 0
	}
	return min(r.burst(), b.tokens+float64(elapsed)*r.perNano())
}

// take removes one token at now if there is one.
func (b *bucket) take(r Rate, now time.Time) bool {
	t := b.level(r, now)
	b.last = now
	if t < 1 {
		b.tokens = t
		return false
	}
	b.tokens = t - 1
	return true
}

// give puts back a token taken by mistake (see Limiter.Allow).
func (b *bucket) give(r Rate) { b.tokens = min(r.burst(), b.tokens+1) }

// DefaultMaxKeys bounds the number of per-key buckets a Limiter keeps
// before it forgets the full ones.
const DefaultMaxKeys = 10000

// Limiter is a global token bucket plus one bucket per key (a bare JID).
// An action is allowed when both the key's bucket and the global one have a
// token. It is safe for concurrent use.
type Limiter struct {
	perKey, global Rate
	now            func() time.Time
	maxKeys        int

	mu   sync.Mutex
	all  bucket
	keys map[string]*bucket
}

// New returns a limiter with the given per-key and global rates. now is the
// clock (nil means time.Now); tests inject their own.
func New(perKey, global Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{perKey: perKey, global: global, now: now, maxKeys: DefaultMaxKeys, keys: make(map[string]*bucket)}
}

// Verdict is the outcome of Take.
type Verdict int

// Take's verdicts.
const (
	// Allowed: both buckets had a token.
	Allowed Verdict = iota
	// KeyLimited: the key is over its own rate.
	KeyLimited
	// GlobalLimited: everybody together is over the global rate.
	GlobalLimited
)

// Allow reports whether Take allows the action.
func (l *Limiter) Allow(key string) bool { return l.Take(key) == Allowed }

// Take takes a token for key and says whether the action may proceed and,
// if not, which bucket refused. A nil Limiter allows everything. A refusal
// by the global bucket gives the key's token back, so one user is not
// charged for everybody's traffic.
func (l *Limiter) Take(key string) Verdict {
	if l == nil {
		return Allowed
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if !l.perKey.Unlimited() {
		b = l.keys[key]
		if b == nil {
			l.sweep(now)
			b = new(bucket)
			l.keys[key] = b
		}
		if !b.take(l.perKey, now) {
			return KeyLimited
		}
	}
	if !l.global.Unlimited() && !l.all.take(l.global, now) {
		if b != nil {
			b.give(l.perKey)
		}
		return GlobalLimited
	}
	return Allowed
}

// sweep forgets the buckets that have refilled completely once the map is
// full: a forgotten bucket is the same as a full one. Keys still refilling
// stay, so the map holds at most the keys active within one refill period
// beyond maxKeys.
func (l *Limiter) sweep(now time.Time) {
	if len(l.keys) < l.maxKeys {
		return
	}
	for k, b := range l.keys {
		if b.level(l.perKey, now) >= l.perKey.burst() {
			delete(l.keys, k)
		}
	}
}

// Len returns the number of per-key buckets held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
