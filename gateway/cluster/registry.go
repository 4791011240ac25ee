package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Roles an instance reports in the registry.
const (
	RoleStandby  = "standby"  // waits for the front lease
	RoleActive   = "active"   // holds the front lease: the XEP-0114 link and every account
	RoleStopping = "stopping" // shutting down
)

// Instance is one process as the registry lists it.
type Instance struct {
	ID      string
	Host    string
	PID     int
	Role    string
	Started time.Time
	Version string
	// TTL is how long the entry lives without another heartbeat (List
	// fills it in).
	TTL time.Duration
}

// Registry is the set of live instances: each heartbeat writes the
// instance's hash with a TTL, so that a dead instance drops out on its own.
type Registry struct {
	client redis.UniversalClient
	prefix string
	// kind names the entries: "instance" (every process) or "worker"
	// (the processes that own accounts, in sharded mode).
	kind string
}

// NewRegistry returns the registry of instances whose keys start with
// prefix.
func NewRegistry(client redis.UniversalClient, prefix string) *Registry {
	return &Registry{client: client, prefix: prefix, kind: "instance"}
}

// NewWorkerRegistry returns the registry of workers (RoleWorker,
// RoleDraining) whose keys start with prefix: the live workers among
// which owners are spread (Assigner).
func NewWorkerRegistry(client redis.UniversalClient, prefix string) *Registry {
	return &Registry{client: client, prefix: prefix, kind: "worker"}
}

func (r *Registry) index() string          { return r.prefix + "cluster:" + r.kind + "s" }
func (r *Registry) entry(id string) string { return r.prefix + "cluster:" + r.kind + ":{" + id + "}" }

// Heartbeat writes inst with a TTL of ttl and lists it.
func (r *Registry) Heartbeat(ctx context.Context, inst Instance, ttl time.Duration) error {
	if inst.ID == "" {
		return errors.New("cluster: heartbeat of an instance without an id")
	}
	key := r.entry(inst.ID)
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key,
			"host", inst.Host, "pid", inst.PID, "role", inst.Role,
			"started", inst.Started.UTC().Format(time.RFC3339Nano), "version", inst.Version)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err == nil {
		err = r.client.SAdd(ctx, r.index(), inst.ID).Err()
	}
	if err != nil {
		return fmt.Errorf("cluster: heartbeat of %s: %w", inst.ID, err)
	}
	return nil
}

// Remove takes inst off the registry (on a clean shutdown).
func (r *Registry) Remove(ctx context.Context, id string) error {
	if err := r.client.Del(ctx, r.entry(id)).Err(); err != nil {
		return fmt.Errorf("cluster: removing %s: %w", id, err)
	}
	if err := r.client.SRem(ctx, r.index(), id).Err(); err != nil {
		return fmt.Errorf("cluster: removing %s: %w", id, err)
	}
	return nil
}

// List returns the live instances, sorted by id, and forgets those whose
// entry has expired.
func (r *Registry) List(ctx context.Context) ([]Instance, error) {
	ids, err := r.client.SMembers(ctx, r.index()).Result()
	if err != nil {
		return nil, fmt.Errorf("cluster: listing instances: %w", err)
	}
	slices.Sort(ids)
	out := make([]Instance, 0, len(ids))
	for _, id := range ids {
		vals, err := r.client.HGetAll(ctx, r.entry(id)).Result()
		if err != nil {
			return nil, fmt.Errorf("cluster: reading instance %s: %w", id, err)
		}
		if len(vals) == 0 {
			// Expired: no heartbeat within its TTL.
			if err := r.client.SRem(ctx, r.index(), id).Err(); err != nil {
				return nil, fmt.Errorf("cluster: forgetting instance %s: %w", id, err)
			}
			continue
		}
		inst := Instance{ID: id, Host: vals["host"], Role: vals["role"], Version: vals["version"]}
		inst.PID, _ = strconv.Atoi(vals["pid"])
		inst.Started, _ = time.Parse(time.RFC3339Nano, vals["started"])
		if d, err := r.client.PTTL(ctx, r.entry(id)).Result(); err == nil && d > 0 {
			inst.TTL = d
		}
		out = append(out, inst)
	}
	return out, nil
}

// DefaultInstanceID is hostname-pid, the default of cluster.instance_id.
func DefaultInstanceID(hostname string, pid int) string {
	h := strings.TrimSpace(hostname)
	if h == "" {
		h = "localhost"
	}
	return h + "-" + strconv.Itoa(pid)
}
