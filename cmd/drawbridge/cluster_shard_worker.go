package main

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// ownerServer is what a shard worker needs of the hub: start and stop
// serving one owner (*gateway.Gateway with Options.Sharded).
type ownerServer interface {
	StartOwner(ctx context.Context, owner ids.Owner) error
	StopOwner(ctx context.Context, owner ids.Owner) error
}

// newShardWorker is the worker of a sharded process: its Assigner's
// Start and Stop are the hub's StartOwner and StopOwner, and it feeds
// each stanza of its owners' inboxes to the component of the domain the
// stanza is addressed to (feed, see shardHandler). opts.Start, Stop and
// Handle are set here. leave, when set, runs before the hub stops an
// owner: the components tell the owner's resources in rooms that they
// are out of them (the next process does not know who joined).
func newShardWorker(opts cluster.WorkerOptions, hub ownerServer, feed func(domain string) shardFeed, leave func(ctx context.Context, owner ids.Owner)) (*cluster.Worker, error) {
	log := opts.Logger
	opts.Start = func(ctx context.Context, owner string, _ cluster.Grant) error {
		return hub.StartOwner(ctx, ids.Owner(owner))
	}
	opts.Stop = func(ctx context.Context, owner string) {
		if leave != nil {
			leave(ctx, ids.Owner(owner))
		}
		if err := hub.StopOwner(ctx, ids.Owner(owner)); err != nil && log != nil {
			log.Warn("cluster: stopping an owner", "owner", owner, "err", err)
		}
	}
	opts.Handle = shardHandler(feed)
	return cluster.NewWorker(opts)
}
