package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
)

// exitLeaseLost is the exit status of a process that lost the front
// lease: a supervisor restarts it, and it comes back as a standby.
const exitLeaseLost = 3

// resignTimeout bounds the release of the lease on a clean shutdown.
const resignTimeout = 5 * time.Second

// appCluster is the active/standby side of one process (cluster.enabled):
// the elector on the front lease and the store it fences.
type appCluster struct {
	elector *cluster.Elector
	id      string
	client  redis.UniversalClient
	// fenced is the Redis store whose durable writes carry the token.
	fenced *redisstore.Store
	log    *slog.Logger
	// keyPrefix starts the cluster's keys (the store's prefix); started
	// is when the process began.
	keyPrefix string
	started   time.Time
}

// redisConfig is the store's Redis configuration as redisstore takes it.
func redisConfig(r config.RedisConfig) redisstore.Config {
	return redisstore.Config{
		URL: r.URL, Addrs: r.Addrs, MasterName: r.MasterName,
		Username: r.Username, Password: r.Password, KeyPrefix: r.KeyPrefix,
	}
}

// instanceID is cluster.instance_id, or hostname-pid.
func instanceID(cfg config.Config) string {
	if cfg.Cluster.InstanceID != "" {
		return cfg.Cluster.InstanceID
	}
	host, _ := os.Hostname()
	return cluster.DefaultInstanceID(host, os.Getpid())
}

// newAppCluster prepares the elector for cfg (no I/O). fenced is the
// store the active process fences; the configuration guarantees Redis.
func newAppCluster(cfg config.Config, fenced *redisstore.Store, log *slog.Logger) (*appCluster, error) {
	if fenced == nil {
		return nil, errors.New("cluster.enabled: needs store.backend redis")
	}
	rc := redisConfig(cfg.Store.Redis)
	client, err := redisstore.NewClient(rc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	host, _ := os.Hostname()
	id := instanceID(cfg)
	started := time.Now()
	e, err := cluster.NewElector(cluster.ElectorOptions{
		Client: client,
		Prefix: rc.EffectiveKeyPrefix(),
		Instance: cluster.Instance{
			ID: id, Host: host, PID: os.Getpid(), Started: started, Version: version(),
		},
		TTL:        time.Duration(cfg.Cluster.LeaseTTL),
		RenewEvery: cfg.ClusterRenewEvery(),
		Logger:     log,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &appCluster{elector: e, id: id, client: client, fenced: fenced, log: log, keyPrefix: rc.EffectiveKeyPrefix(), started: started}, nil
}

// ready is /readyz's answer about the role: a standby is alive but takes
// no traffic.
func (c *appCluster) ready(ctx context.Context) error {
	if role := c.elector.Role(); role != cluster.RoleActive {
		holder := "nobody"
		if st, err := c.elector.Lease().State(ctx); err == nil && st.Holder != "" {
			holder = fmt.Sprintf("%s (token %d)", st.Holder, st.Token)
		}
		return fmt.Errorf("%s: instance %s; the front lease is held by %s", role, c.id, holder)
	}
	return nil
}

// mayConnect lets the XEP-0114 link (re)connect only while Redis says
// this process holds the front lease with its token: a process that wakes
// up from a pause, and whose link the server replaced by the new active
// process's, must not take it back before it notices the loss. Without a
// cluster (c nil) it always allows.
func (c *appCluster) mayConnect(ctx context.Context) error {
	if c == nil {
		return nil
	}
	g := c.elector.Grant()
	if g.Token == 0 {
		return fmt.Errorf("instance %s does not hold the front lease", c.id)
	}
	st, err := c.elector.Lease().State(ctx)
	if err != nil {
		return err
	}
	if st.Holder != g.Holder || st.Token != g.Token {
		return fmt.Errorf("%w: the front lease is %s's (token %d), not %s's (token %d)", cluster.ErrLeaseLost, st.Holder, st.Token, g.Holder, g.Token)
	}
	return nil
}

// runClustered runs a as one process of a cluster: it serves /healthz and
// /readyz ("standby") while it waits for the front lease, then fences the
// store with its token and runs as a single process does. If the lease is
// lost it stops the link and the sessions at once and returns an error
// wrapping cluster.ErrLeaseLost (exit status 3): the process exits rather
// than going back to standby, so that nothing of its term (sessions on the
// platform, timers, queued stanzas) carries into the next one; a
// supervisor restarts it as a standby. On a clean stop it releases the
// lease once the link is closed, so that a standby takes over at once.
func (a *app) runClustered(ctx context.Context) error {
	c := a.cluster
	defer c.client.Close()
	if err := a.mgmt.startOps(); err != nil {
		return errors.Join(err, a.store.Close())
	}
	g, err := c.elector.Campaign(ctx)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
		defer cancel()
		err = errors.Join(ignoreCanceled(err), c.elector.Resign(rctx, cluster.Grant{}), a.mgmt.stopOps(rctx), a.store.Close())
		a.log.Info("drawbridge stopped (standby)")
		return err
	}
	fence := g.Fence(c.elector.Lease())
	c.fenced.SetFence(&fence)
	holdCtx, stopHold := context.WithCancel(context.WithoutCancel(ctx))
	lost := make(chan error, 1)
	held := make(chan struct{})
	go func() {
		defer close(held)
		if err := c.elector.Hold(holdCtx, g); err != nil {
			lost <- err
		}
	}()
	runErr := a.runUntilLost(ctx, lost)
	stopHold()
	<-held
	if errors.Is(runErr, cluster.ErrLeaseLost) {
		return runErr
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resignTimeout)
	defer cancel()
	if err := c.elector.Resign(rctx, g); err != nil {
		a.log.Warn("cluster: releasing the front lease", "err", err)
	} else {
		a.log.Info("cluster: released the front lease", "token", g.Token)
	}
	return runErr
}
