package cluster

import (
	"context"
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

// OwnersByWorker counts the owner leases held now, by holder. It scans
// the owner leases' keys (on Redis Cluster, on every master), so it costs
// one pass over them: for status, not for a hot path.
func OwnersByWorker(ctx context.Context, client redis.UniversalClient, prefix string) (map[string]int, error) {
	counts := map[string]int{}
	match := globEscaper.Replace(ownerLeasePrefix(prefix)) + "{*}"
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, scanBatch).Result()
			if err != nil {
				return fmt.Errorf("cluster: scanning owner leases: %w", err)
			}
			if err := countHolders(ctx, c, keys, counts); err != nil {
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
// keys end in ":seq", are skipped) and counts them.
func countHolders(ctx context.Context, c redis.UniversalClient, keys []string, counts map[string]int) error {
	var cmds []*redis.StringCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			if strings.HasSuffix(k, ":seq") {
				continue
			}
			cmds = append(cmds, p.HGet(ctx, k, "holder"))
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return fmt.Errorf("cluster: reading owner leases: %w", err)
	}
	for _, cmd := range cmds {
		if h, err := cmd.Result(); err == nil && h != "" {
			counts[h]++
		}
	}
	return nil
}
