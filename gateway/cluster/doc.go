// Package cluster coordinates several drawbridge processes that share one
// Redis: a registry of live instances (a heartbeat with a TTL) and leases
// with fencing tokens.
//
// A lease (Lease) is a Redis hash {holder, token, acquired} with a TTL in
// milliseconds. Acquire, Renew and Release are Lua scripts, so each is one
// atomic step on the server: Acquire succeeds only when the lease is free
// (or already the caller's), and then takes a new fencing token from a
// counter beside it (INCR: every grant has a larger token than any before
// it); Renew and Release succeed only for the holder with its token. Time
// is Redis's: the TTL runs on the server, the holder's own clock only
// serves to give up early (Elector).
//
// A holder that was paused (GC, SIGSTOP, a VM migration) may wake up after
// its lease expired and someone else took it, still believing it leads.
// Fencing keeps such a holder from doing harm: each write it makes carries
// its token, and a Lua check on the server refuses the write unless the
// lease still carries that token (Fence, FencedScript). The refusal is
// store.ErrFenced.
//
// The Elector runs the active/standby protocol of one process: register,
// campaign for the lease as a standby, hold it (renewing) while active,
// and report its loss at once.
//
// For sharding, each owner (the XMPP bare JID that linked accounts) has
// its own lease (NewOwnerLease), hash-tagged like the owner's data in the
// store (OwnerTag), so that a fenced write of that data and the check of
// the lease run in one Redis Cluster slot. The Assigner of each worker
// claims the owners it prefers among the live workers of the worker
// registry by rendezvous hashing (Preferred), renews them, hands over
// those it no longer prefers, gives up at once those it lost, and drains
// on a clean exit; moves are capped per second.
//
// Routing: each owner has an inbox (StreamQueue on a Redis Stream with
// one consumer group) and each worker a Bell. The front's Router posts a
// stanza to the owner's inbox and rings the holder; a Worker (its
// Assigner plus a loop on its bell) reads the inboxes of its owners,
// claiming first what a previous holder left unacknowledged, and
// acknowledges each entry fenced by the owner's lease. The front reads
// the workers' stanzas for XMPP from its outbox (NewFrontOutbox).
// docs/cluster.md gives the reasons and what is left to wire.
package cluster
