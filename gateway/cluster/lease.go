package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrHeld is returned by Acquire when another holder has the lease.
var ErrHeld = errors.New("cluster: lease held by another instance")

// ErrNotHeld is returned by Renew and Release when the lease is no longer
// the caller's: it expired, or another holder took it since.
var ErrNotHeld = errors.New("cluster: lease not held")

// Grant is one holding of a lease: who holds it and with which fencing
// token. Acquired is the local time just before the acquiring call was
// sent, so that Acquired+TTL is never later than the server's expiry.
type Grant struct {
	Lease    string
	Holder   string
	Token    int64
	Acquired time.Time
}

// Fence is the fence of g, for fenced writes.
func (g Grant) Fence(l *Lease) Fence { return Fence{Key: l.key, Token: g.Token} }

// LeaseState is what Redis holds for a lease now.
type LeaseState struct {
	Name   string
	Holder string // "" when free
	Token  int64  // the holder's token; 0 when free
	// LastToken is the counter: the token of the latest grant.
	LastToken int64
	// TTL is how long the lease lives unless renewed; 0 when free.
	TTL time.Duration
}

// Lease is one named lease in Redis.
type Lease struct {
	client redis.UniversalClient
	name   string
	key    string // the hash {holder, token, acquired}
	seq    string // the counter of fencing tokens
}

// NewLease returns the lease called name. Its keys start with prefix
// and share a hash tag, so that on Redis Cluster the scripts that touch
// both run on one node.
func NewLease(client redis.UniversalClient, prefix, name string) *Lease {
	tag := "{lease:" + name + "}"
	return &Lease{
		client: client,
		name:   name,
		key:    prefix + "cluster:" + tag,
		seq:    prefix + "cluster:" + tag + ":seq",
	}
}

// Name is the lease's name.
func (l *Lease) Name() string { return l.name }

// ReleasedChannel is the pub/sub channel on which Release announces that
// the lease is free (the message is the released token), so that a
// standby need not wait for its next try.
func (l *Lease) ReleasedChannel() string { return l.key + ":released" }

// Key is the Redis key of the lease's hash, which fenced writes check.
func (l *Lease) Key() string { return l.key }

// acquireScript: KEYS[1] the lease hash, KEYS[2] the token counter;
// ARGV[1] the holder, ARGV[2] the TTL in ms. Returns {1, token} when the
// caller holds the lease afterwards, with a new token (also when the lease
// was already the holder's: a previous run under the same name, whose
// writes the new token fences), or {0, holder, token, pttl}.
var acquireScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token')
if cur[1] and cur[1] ~= ARGV[1] then
	return {0, cur[1], tonumber(cur[2]) or 0, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token, 'acquired', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token}
`)

// renewScript: KEYS[1] the lease hash; ARGV[1] holder, ARGV[2] token,
// ARGV[3] TTL in ms. Extends the TTL if the lease is still (holder,
// token): returns 1, else 0.
var renewScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token')
if cur[1] == ARGV[1] and cur[2] == ARGV[2] then
	redis.call('PEXPIRE', KEYS[1], ARGV[3])
	return 1
end
return 0
`)

// releaseScript: KEYS[1] the lease hash; ARGV[1] holder, ARGV[2] token,
// ARGV[3] the channel that announces releases. Deletes the lease if it is
// still (holder, token) and announces it: returns 1, else 0.
var releaseScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token')
if cur[1] == ARGV[1] and cur[2] == ARGV[2] then
	redis.call('DEL', KEYS[1])
	redis.call('PUBLISH', ARGV[3], ARGV[2])
	return 1
end
return 0
`)

// ttlMillis converts a TTL for PEXPIRE, refusing what is not at least 1 ms.
func ttlMillis(ttl time.Duration) (int64, error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		return 0, fmt.Errorf("cluster: lease TTL %v is shorter than 1ms", ttl)
	}
	return ms, nil
}

// Acquire takes the lease for holder for ttl, with a new fencing token,
// if it is free or already holder's (a previous run of the same instance:
// its grant is fenced off from then on). When another holder has it, the
// error wraps ErrHeld and names that holder.
func (l *Lease) Acquire(ctx context.Context, holder string, ttl time.Duration) (Grant, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return Grant{}, err
	}
	if holder == "" {
		return Grant{}, errors.New("cluster: acquiring a lease needs a holder name")
	}
	start := time.Now()
	res, err := acquireScript.Run(ctx, l.client, []string{l.key, l.seq}, holder, ms).Slice()
	if err != nil {
		return Grant{}, fmt.Errorf("cluster: acquiring lease %s: %w", l.name, err)
	}
	if ok, _ := res[0].(int64); ok == 1 && len(res) == 2 {
		token, _ := res[1].(int64)
		return Grant{Lease: l.name, Holder: holder, Token: token, Acquired: start}, nil
	}
	if len(res) != 4 {
		return Grant{}, fmt.Errorf("cluster: acquiring lease %s: unexpected reply %v", l.name, res)
	}
	other, _ := res[1].(string)
	token, _ := res[2].(int64)
	pttl, _ := res[3].(int64)
	return Grant{}, fmt.Errorf("%w: lease %s is %s's (token %d) for %v more", ErrHeld, l.name, other, token, time.Duration(pttl)*time.Millisecond)
}

// Renew extends g's lease to ttl from now. If the lease is not g's any
// more the error wraps ErrNotHeld.
func (l *Lease) Renew(ctx context.Context, g Grant, ttl time.Duration) error {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return err
	}
	ok, err := renewScript.Run(ctx, l.client, []string{l.key}, g.Holder, strconv.FormatInt(g.Token, 10), ms).Int()
	if err != nil {
		return fmt.Errorf("cluster: renewing lease %s: %w", l.name, err)
	}
	if ok != 1 {
		return fmt.Errorf("%w: lease %s with token %d is no longer %s's", ErrNotHeld, l.name, g.Token, g.Holder)
	}
	return nil
}

// Release gives g's lease up, so that another instance may take it at
// once. If the lease is not g's any more the error wraps ErrNotHeld.
func (l *Lease) Release(ctx context.Context, g Grant) error {
	n, err := releaseScript.Run(ctx, l.client, []string{l.key}, g.Holder, strconv.FormatInt(g.Token, 10), l.ReleasedChannel()).Int()
	if err != nil {
		return fmt.Errorf("cluster: releasing lease %s: %w", l.name, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: lease %s with token %d is no longer %s's", ErrNotHeld, l.name, g.Token, g.Holder)
	}
	return nil
}

// State reads the lease as Redis holds it now.
func (l *Lease) State(ctx context.Context) (LeaseState, error) {
	st := LeaseState{Name: l.name}
	var (
		hm   *redis.SliceCmd
		pttl *redis.DurationCmd
		seq  *redis.StringCmd
	)
	// Errors are read from each command below.
	_, _ = l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		hm = p.HMGet(ctx, l.key, "holder", "token")
		pttl = p.PTTL(ctx, l.key)
		seq = p.Get(ctx, l.seq)
		return nil
	})
	vals, err := hm.Result()
	if err != nil {
		return st, fmt.Errorf("cluster: reading lease %s: %w", l.name, err)
	}
	st.Holder, _ = vals[0].(string)
	if tok, _ := vals[1].(string); tok != "" {
		if st.Token, err = strconv.ParseInt(tok, 10, 64); err != nil {
			return st, fmt.Errorf("cluster: lease %s has a malformed token %q", l.name, tok)
		}
	}
	if d, err := pttl.Result(); err == nil && d > 0 {
		st.TTL = d
	}
	if s, err := seq.Result(); err == nil {
		st.LastToken, _ = strconv.ParseInt(s, 10, 64)
	} else if !errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("cluster: reading the token counter of lease %s: %w", l.name, err)
	}
	return st, nil
}

// RenewAll renews many grants in one pipeline (one round trip instead of
// one per lease), each as Renew does: errs[i] is nil, wraps ErrNotHeld, or
// is the failure of grants[i]'s renewal. leases[i] is grants[i]'s lease;
// all share client.
func RenewAll(ctx context.Context, client redis.UniversalClient, leases []*Lease, grants []Grant, ttl time.Duration) []error {
	errs := make([]error, len(grants))
	ms, err := ttlMillis(ttl)
	if err == nil {
		err = renewScript.Load(ctx, client).Err()
	}
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("cluster: renewing lease %s: %w", leases[i].name, err)
		}
		return errs
	}
	cmds := make([]*redis.Cmd, len(grants))
	// Errors are read from each command below.
	_, _ = client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range grants {
			cmds[i] = renewScript.EvalSha(ctx, p, []string{leases[i].key}, g.Holder, strconv.FormatInt(g.Token, 10), ms)
		}
		return nil
	})
	for i, cmd := range cmds {
		ok, err := cmd.Int()
		switch {
		case redis.HasErrorPrefix(err, "NOSCRIPT"): // the script cache was flushed since Load
			errs[i] = leases[i].Renew(ctx, grants[i], ttl)
		case err != nil:
			errs[i] = fmt.Errorf("cluster: renewing lease %s: %w", leases[i].name, err)
		case ok != 1:
			errs[i] = fmt.Errorf("%w: lease %s with token %d is no longer %s's", ErrNotHeld, leases[i].name, grants[i].Token, grants[i].Holder)
		}
	}
	return errs
}
