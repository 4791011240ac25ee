package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// globEscaper escapes the characters SCAN's MATCH pattern treats as
// special, so that a key prefix matches itself only.
var globEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`)

// scanBatch is how many keys one SCAN call asks for, and how many lease
// reads go in one pipeline.
const scanBatch = 1000

// WorkerLoad is what one worker holds: owners, and the entries of their
// inboxes still to handle.
type WorkerLoad struct {
	Owners int
	// Inbox sums the lag of the owners' inboxes.
	Inbox QueueLag
}

// OwnersByWorker counts the owner leases held now, by holder. It scans
// the owner leases' keys (on Redis Cluster, on every master), so it costs
// one pass over them: for status, not for a hot path.
func OwnersByWorker(ctx context.Context, client redis.UniversalClient, prefix string) (map[string]int, error) {
	loads, err := LoadByWorker(ctx, client, prefix)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(loads))
	for w, l := range loads {
		counts[w] = l.Owners
	}
	return counts, nil
}

// LoadByWorker is OwnersByWorker with the lag of the owners' inboxes
// (XPENDING and XLEN of each), by the worker that holds the owner.
func LoadByWorker(ctx context.Context, client redis.UniversalClient, prefix string) (map[string]WorkerLoad, error) {
	counts := map[string]WorkerLoad{}
	inboxPrefix := prefixEscaper.Replace(prefix) + "cluster:in:"
	leasePrefix := ownerLeasePrefix(prefix)
	match := globEscaper.Replace(ownerLeasePrefix(prefix)) + "{*}"
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, scanBatch).Result()
			if err != nil {
				return fmt.Errorf("cluster: scanning owner leases: %w", err)
			}
			if err := countHolders(ctx, c, keys, leasePrefix, inboxPrefix, counts); err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		// Counted one master at a time: the map is not shared concurrently.
		masters := []*redis.Client{}
		if err := cc.ForEachMaster(ctx, func(_ context.Context, m *redis.Client) error {
			masters = append(masters, m)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("cluster: listing masters: %w", err)
		}
		for _, m := range masters {
			if err := scan(ctx, m); err != nil {
				return nil, err
			}
		}
		return counts, nil
	}
	if err := scan(ctx, client); err != nil {
		return nil, err
	}
	return counts, nil
}

// countHolders reads the holder of each lease key (the counters, whose
// keys end in ":seq", are skipped) and the lag of the owner's inbox (the
// same tag under inboxPrefix), and adds them up by holder.
func countHolders(ctx context.Context, c redis.UniversalClient, keys []string, leasePrefix, inboxPrefix string, counts map[string]WorkerLoad) error {
	type row struct {
		holder  *redis.StringCmd
		length  *redis.IntCmd
		pending *redis.XPendingCmd
	}
	var rows []row
	// Errors are read from each command below (a missing inbox or group
	// is no lag).
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			if strings.HasSuffix(k, ":seq") {
				continue
			}
			inbox := inboxPrefix + strings.TrimPrefix(k, leasePrefix)
			rows = append(rows, row{p.HGet(ctx, k, "holder"), p.XLen(ctx, inbox), p.XPending(ctx, inbox, streamGroup)})
		}
		return nil
	})
	for _, r := range rows {
		h, err := r.holder.Result()
		if errors.Is(err, redis.Nil) || (err == nil && h == "") {
			continue // expired between SCAN and HGET
		}
		if err != nil {
			return fmt.Errorf("cluster: reading owner leases: %w", err)
		}
		l := counts[h]
		l.Owners++
		if n, err := r.length.Result(); err == nil && n > 0 {
			var pending int64
			if pe, err := r.pending.Result(); err == nil {
				pending = pe.Count
			}
			l.Inbox.Pending += pending
			l.Inbox.Unread += n - pending
		}
		counts[h] = l
	}
	return nil
}
