package cluster

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// inboxPostScript posts to an owner's inbox and reads the owner's lease
// holder in the same step: KEYS[1] the inbox, KEYS[2] the owner's lease
// (both carry the owner's hash tag: one slot); ARGV[1..4] as postLua's,
// ARGV[5] "1" to post only when the lease is held. Returns {1, holder,
// id} when posted, {0, holder} when the inbox is full, {2, ""} when the
// lease is free and ARGV[5] is "1" (nothing posted). holder is "" when
// the lease is free.
//
// Read in the same step as the post, the holder is the worker to ring: a
// worker that claims the owner later claims it after the entry was
// appended, and reads the inbox when it claims (Worker.start rings its own
// bell). A holder read before the post could lose the owner in between
// to a worker that had read the inbox already, and the entry would wait
// for the owner's next ring.
var inboxPostScript = redis.NewScript(`
local holder = redis.call('HGET', KEYS[2], 'holder')
if not holder then
	holder = ''
end
if ARGV[5] == '1' and holder == '' then
	return {2, ''}
end
local function post()
` + postLua + `
end
local id = post()
if not id then
	return {0, holder}
end
return {1, holder, id}
`)

// inboxPostStatus is the first element of inboxPostScript's reply.
const (
	inboxFull    = 0
	inboxPosted  = 1
	inboxNotHeld = 2
)

// postInbox runs inboxPostScript for owner: it returns the entry's id and
// the lease holder read with the post ("" for none), or posted false when
// ifHeld is set and the lease is free. A full inbox is ErrQueueFull.
func (r *Router) postInbox(ctx context.Context, owner string, data []byte, opts PostOptions, ifHeld bool) (id, holder string, posted bool, err error) {
	q := NewOwnerInbox(r.client, r.prefix, owner)
	lease := NewOwnerLease(r.client, r.prefix, owner)
	only := "0"
	if ifHeld {
		only = "1"
	}
	args := append(postArgs(data, opts), only)
	res, err := inboxPostScript.Run(ctx, r.client, []string{q.key, lease.key}, args...).Slice()
	if err != nil {
		return "", "", false, fmt.Errorf("cluster: appending to %s: %w", q.key, err)
	}
	status, _ := res[0].(int64)
	if len(res) > 1 {
		holder, _ = res[1].(string)
	}
	switch {
	case status == inboxNotHeld:
		return "", "", false, nil
	case status == inboxFull:
		return "", holder, false, fmt.Errorf("cluster: appending to %s, which holds %d entries: %w", q.key, opts.Max, ErrQueueFull)
	case status == inboxPosted && len(res) == 3:
		id, _ = res[2].(string)
		return id, holder, true, nil
	}
	return "", "", false, fmt.Errorf("cluster: appending to %s: unexpected reply %v", q.key, res)
}
