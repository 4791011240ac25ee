// Package ratelimit holds the token buckets that the hub uses to bound how
// often one XMPP user, and everybody together, may send messages, register
// and start logins. The buckets are golang.org/x/time/rate limiters; this
// package adds one bucket per key with a bound on how many it keeps, and
// says which bucket refused.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
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
func (r Rate) burst() int {
	if r.Burst < 1 {
		return 1
	}
	return int(min(r.Burst, int64(maxBurst)))
}

// maxBurst bounds Burst so that it fits an int on every platform.
const maxBurst = 1<<31 - 1

// limiter returns a full bucket for r.
func (r Rate) limiter() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(r.PerMinute)/time.Minute.Seconds()), r.burst())
}

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

	// mu makes a Take, which looks at two buckets, one step; the buckets'
	// own locks are then uncontended.
	mu   sync.Mutex
	all  *rate.Limiter // nil when global is unlimited
	keys map[string]*rate.Limiter
}

// New returns a limiter with the given per-key and global rates. now is the
// clock (nil means time.Now); tests inject their own.
func New(perKey, global Rate, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{perKey: perKey, global: global, now: now, maxKeys: DefaultMaxKeys, keys: make(map[string]*rate.Limiter)}
	if !global.Unlimited() {
		l.all = global.limiter()
	}
	return l
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
// by the global bucket takes nothing from the key's bucket, so one user is
// not charged for everybody's traffic.
func (l *Limiter) Take(key string) Verdict {
	if l == nil {
		return Allowed
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *rate.Limiter
	if !l.perKey.Unlimited() {
		b = l.keys[key]
		if b == nil {
			l.sweep(now)
			b = l.perKey.limiter()
			l.keys[key] = b
		}
		// Only look: the token is taken once the global bucket agreed.
		if b.TokensAt(now) < 1 {
			return KeyLimited
		}
	}
	if l.all != nil && !l.all.AllowN(now, 1) {
		return GlobalLimited
	}
	if b != nil {
		b.AllowN(now, 1) // cannot fail: l.mu is held and it has a token
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
	full := float64(l.perKey.burst())
	for k, b := range l.keys {
		if b.TokensAt(now) >= full {
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
