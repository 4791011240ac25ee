package config

import (
	"regexp"
	"time"
)

// ClusterConfig runs several gateway processes on one Redis, one of them
// active (it holds the "front" lease: the XEP-0114 link and every linked
// account) and the others standing by to take over (see README, "Running
// several instances").
type ClusterConfig struct {
	// Enabled turns the active/standby protocol on. It needs the Redis
	// store (standalone or Sentinel).
	Enabled bool `yaml:"enabled"`
	// Mode is how the processes share the work: ClusterStandby (the
	// default: one active process serves every owner) or ClusterSharded
	// (each worker serves the owners whose leases it holds; the holder of
	// the front lease also holds the XEP-0114 link and routes).
	Mode string `yaml:"mode"`
	// InstanceID names this process in the registry and as the lease's
	// holder; empty means hostname-pid. Each process needs its own.
	InstanceID string `yaml:"instance_id"`
	// LeaseTTL is how long the front lease lives without renewal: the
	// longest a standby waits after the active process died without
	// releasing it.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// RenewEvery is how often the active process renews the lease and a
	// standby tries for it; 0 means a third of LeaseTTL.
	RenewEvery Duration `yaml:"renew_every"`
	// Links says, in sharded mode, which processes hold an XEP-0114 link:
	// ClusterLinksOne (the default: the holder of the front lease, as
	// Prosody allows one connection per component) or ClusterLinksEach
	// (every process its own, for servers that spread a component's
	// stanzas over several connections: ejabberd, Openfire).
	Links string `yaml:"links"`
	// MaxMovesPerSecond caps, in sharded mode, how many owners one
	// process claims or hands over per second (each move disconnects and
	// reconnects the owner's platform sessions); 0 means 50.
	MaxMovesPerSecond int64 `yaml:"max_moves_per_second"`
	// MaxInbox bounds, in sharded mode, the stanzas that wait in Redis
	// for one owner's worker (an owner's inbox; also a worker's inbox of
	// users with no linked account): past it the front refuses a user's
	// stanza (wait/resource-constraint) instead of posting it. In bytes
	// the bound is MaxInbox × limits.max_stanza_size. 0 means
	// DefaultMaxInbox.
	MaxInbox int64 `yaml:"max_inbox"`
}

// The values of cluster.mode.
const (
	ClusterStandby = "standby"
	ClusterSharded = "sharded"
)

// The values of cluster.links.
const (
	ClusterLinksOne  = "one"
	ClusterLinksEach = "each"
)

// DefaultMaxInbox is the default of cluster.max_inbox: far above what a
// user sends while its worker is busy or moving it (a login's presence
// probes, one per contact of the roster, come at once), far below what
// would load Redis.
const DefaultMaxInbox = 5000

// ClusterMaxInbox is cluster.max_inbox with its default applied.
func (c Config) ClusterMaxInbox() int64 {
	if c.Cluster.MaxInbox > 0 {
		return c.Cluster.MaxInbox
	}
	return DefaultMaxInbox
}

// DefaultLeaseTTL is the default of cluster.lease_ttl.
const DefaultLeaseTTL = 10 * time.Second

// minLeaseTTL bounds cluster.lease_ttl from below: a shorter lease is
// lost to an ordinary pause (GC, a busy Redis).
const minLeaseTTL = 500 * time.Millisecond

// instanceIDPattern is the syntax of cluster.instance_id: it appears in
// Redis keys (inside a hash tag) and in logs.
var instanceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ClusterRenewEvery is cluster.renew_every with its default applied.
func (c Config) ClusterRenewEvery() time.Duration {
	if c.Cluster.RenewEvery > 0 {
		return time.Duration(c.Cluster.RenewEvery)
	}
	return time.Duration(c.Cluster.LeaseTTL) / 3
}

func (c Config) validateCluster(p *problems) {
	cl := c.Cluster
	switch cl.Mode {
	case "", ClusterStandby:
	case ClusterSharded:
		switch {
		case c.Store.Backend != BackendRedis:
			p.add("cluster.mode", "sharded needs store.backend redis (the %s store belongs to one process)", c.Store.Backend)
		case !cl.Enabled:
			p.add("cluster.mode", "sharded needs cluster.enabled: true")
		}
	default:
		p.add("cluster.mode", "%q is not one of %s, %s", cl.Mode, ClusterStandby, ClusterSharded)
	}
	if !cl.Enabled {
		return
	}
	switch {
	case c.Store.Backend != BackendRedis && cl.Mode == ClusterSharded:
		// Said under cluster.mode.
	case c.Store.Backend != BackendRedis:
		p.add("cluster.enabled", "needs store.backend redis (the %s store belongs to one process)", c.Store.Backend)
	case len(c.Store.Redis.Addrs) > 0 && c.Store.Redis.MasterName == "":
		p.add("cluster.enabled", "needs a standalone or Sentinel Redis (store.redis.url, or store.redis.master_name): fenced writes check the lease in the same script, across hash slots, which Redis Cluster refuses")
	}
	switch cl.Links {
	case "", ClusterLinksOne:
	case ClusterLinksEach:
		if cl.Mode != ClusterSharded {
			p.add("cluster.links", "each needs cluster.mode: sharded (a standby holds no link)")
		}
	default:
		p.add("cluster.links", "%q is not one of %s, %s", cl.Links, ClusterLinksOne, ClusterLinksEach)
	}
	if cl.MaxInbox < 0 {
		p.add("cluster.max_inbox", "must not be negative (0 means the default, %d)", DefaultMaxInbox)
	}
	if cl.MaxMovesPerSecond < 0 {
		p.add("cluster.max_moves_per_second", "must not be negative (0 means the default, 50)")
	}
	if cl.InstanceID != "" && !instanceIDPattern.MatchString(cl.InstanceID) {
		p.add("cluster.instance_id", "%q is not 1-128 letters, digits and . _ : - (starting with a letter or digit)", cl.InstanceID)
	}
	ttl := time.Duration(cl.LeaseTTL)
	if ttl < minLeaseTTL {
		p.add("cluster.lease_ttl", "%v is shorter than %v", ttl, minLeaseTTL)
		return
	}
	switch renew := time.Duration(cl.RenewEvery); {
	case renew < 0:
		p.add("cluster.renew_every", "must not be negative")
	case renew >= ttl:
		p.add("cluster.renew_every", "%v must be shorter than cluster.lease_ttl (%v); a third of it is the default", renew, ttl)
	case renew > 0 && renew < 10*time.Millisecond:
		p.add("cluster.renew_every", "%v is shorter than 10ms", renew)
	}
}
