package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
)

// cmdCluster is `drawbridge cluster status --config FILE [--json]`: it
// reads the registry and the front lease from the configured Redis, so it
// works whether or not any instance runs.
func cmdCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		return errors.New("cluster: usage: drawbridge cluster status --config FILE [--json]")
	}
	fs := flag.NewFlagSet("cluster status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the configuration file of the instances (its store.redis section is read)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("cluster status: unexpected arguments %q", fs.Args())
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Store.Backend != config.BackendRedis {
		return fmt.Errorf("cluster status: store.backend is %s; instances share state only on redis", cfg.Store.Backend)
	}
	rc := redisConfig(cfg.Store.Redis)
	client, err := redisstore.NewClient(rc)
	if err != nil {
		return fmt.Errorf("cluster status: %w", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := cluster.ReadStatus(ctx, client, rc.EffectiveKeyPrefix())
	if err != nil {
		return fmt.Errorf("cluster status: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statusJSON(st))
	}
	return printClusterStatus(stdout, st)
}

// clusterStatusJSON is the JSON form of cluster status.
type clusterStatusJSON struct {
	Instances []instanceJSON `json:"instances"`
	Front     leaseJSON      `json:"front"`
	// Workers and their owners (sharded mode); a holder of owner leases
	// that is not in the worker registry any more (dead, its leases not
	// yet expired) is listed with role "gone".
	Workers []workerJSON `json:"workers"`
	// Outbox is the lag of the front's outbox (stanzas for XMPP).
	Outbox lagJSON `json:"outbox"`
}

// lagJSON is a queue's lag: entries read and not acknowledged, and
// entries not read yet.
type lagJSON struct {
	Pending int64 `json:"pending"`
	Unread  int64 `json:"unread"`
}

type workerJSON struct {
	ID     string `json:"id"`
	Role   string `json:"role"`
	Owners int    `json:"owners"`
	TTLMs  int64  `json:"ttl_ms"`
	// Inbox sums the lag of the inboxes of the worker's owners.
	Inbox lagJSON `json:"inbox"`
}

type instanceJSON struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Role    string    `json:"role"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	TTLMs   int64     `json:"ttl_ms"`
}

type leaseJSON struct {
	Holder    string `json:"holder,omitempty"`
	Token     int64  `json:"token,omitempty"`
	LastToken int64  `json:"last_token"`
	TTLMs     int64  `json:"ttl_ms"`
}

func statusJSON(st cluster.Status) clusterStatusJSON {
	out := clusterStatusJSON{Instances: []instanceJSON{}, Front: leaseJSON{
		Holder: st.Front.Holder, Token: st.Front.Token, LastToken: st.Front.LastToken, TTLMs: st.Front.TTL.Milliseconds(),
	}}
	for _, in := range st.Instances {
		out.Instances = append(out.Instances, instanceJSON{
			ID: in.ID, Host: in.Host, PID: in.PID, Role: in.Role, Version: in.Version, Started: in.Started, TTLMs: in.TTL.Milliseconds(),
		})
	}
	out.Workers = workerRows(st)
	out.Outbox = lagJSON{Pending: st.Outbox.Pending, Unread: st.Outbox.Unread}
	return out
}

// roleGone is the role shown for a holder of owner leases that is not in
// the worker registry.
const roleGone = "gone"

// workerRows are the registered workers, then the other holders of owner
// leases, each with the count of owners it holds.
func workerRows(st cluster.Status) []workerJSON {
	rows := []workerJSON{}
	seen := map[string]bool{}
	for _, w := range st.Workers {
		seen[w.ID] = true
		l := st.Owners[w.ID]
		rows = append(rows, workerJSON{ID: w.ID, Role: w.Role, Owners: l.Owners, TTLMs: w.TTL.Milliseconds(),
			Inbox: lagJSON{Pending: l.Inbox.Pending, Unread: l.Inbox.Unread}})
	}
	for _, id := range slices.Sorted(maps.Keys(st.Owners)) {
		if !seen[id] {
			l := st.Owners[id]
			rows = append(rows, workerJSON{ID: id, Role: roleGone, Owners: l.Owners,
				Inbox: lagJSON{Pending: l.Inbox.Pending, Unread: l.Inbox.Unread}})
		}
	}
	return rows
}

func printClusterStatus(w io.Writer, st cluster.Status) error {
	if st.Front.Holder == "" {
		fmt.Fprintf(w, "front lease: free (last token %d)\n", st.Front.LastToken)
	} else {
		fmt.Fprintf(w, "front lease: %s, token %d, %v left\n", st.Front.Holder, st.Front.Token, st.Front.TTL.Round(time.Millisecond))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tROLE\tHOST\tPID\tVERSION\tSTARTED\tHEARTBEAT TTL")
	for _, in := range st.Instances {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%v\n", in.ID, in.Role, in.Host, in.PID, in.Version,
			in.Started.UTC().Format(time.RFC3339), in.TTL.Round(time.Millisecond))
	}
	if len(st.Instances) == 0 {
		fmt.Fprintln(tw, "(no live instance)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rows := workerRows(st)
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tROLE\tOWNERS\tINBOX PENDING\tINBOX UNREAD\tHEARTBEAT TTL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%v\n", r.ID, r.Role, r.Owners, r.Inbox.Pending, r.Inbox.Unread, (time.Duration(r.TTLMs) * time.Millisecond).Round(time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "front outbox: %d pending, %d unread\n", st.Outbox.Pending, st.Outbox.Unread)
	return err
}
