package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// ErrFenced is store.ErrFenced: a write whose fencing token is not the
// lease's current one was refused.
var ErrFenced = store.ErrFenced

// Fence is what a fenced write carries: the lease's key and the token of
// the writer's grant.
type Fence struct {
	Key   string
	Token int64
}

// fencePrelude checks the fence and takes it off KEYS and ARGV, so that
// the body of the script it starts sees its own keys and arguments from
// index 1. The write is refused, with an error reply starting with
// "FENCED", unless the lease still carries the token.
const fencePrelude = `
local fence_key = table.remove(KEYS, 1)
local fence_token = table.remove(ARGV, 1)
` + fenceCheck

// fenceCheck refuses the write unless the lease fence_key still carries
// fence_token (both locals set before it).
const fenceCheck = `
local fence_cur = redis.call('HGET', fence_key, 'token')
if fence_cur ~= fence_token then
	if not fence_cur then
		return redis.error_reply('FENCED token ' .. fence_token .. ' of ' .. fence_key .. ': the lease has expired')
	end
	return redis.error_reply('FENCED token ' .. fence_token .. ' of ' .. fence_key .. ': the lease is now at token ' .. fence_cur)
end
`

// FencedScript returns a script that runs body only if the fence given
// as its first key and first argument holds (see Fence.Run). body is
// written as if the fence were not there: KEYS[1] and ARGV[1] are its own.
func FencedScript(body string) *redis.Script {
	return redis.NewScript(fencePrelude + body)
}

// Run runs script, made by FencedScript, with f in front of keys and
// args. A refused write returns an error wrapping ErrFenced.
func (f Fence) Run(ctx context.Context, c redis.Scripter, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	k := make([]string, 0, len(keys)+1)
	k = append(append(k, f.Key), keys...)
	a := make([]any, 0, len(args)+1)
	a = append(append(a, strconv.FormatInt(f.Token, 10)), args...)
	cmd := script.Run(ctx, c, k, a...)
	if err := FencedError(cmd.Err()); err != cmd.Err() {
		cmd.SetErr(err)
	}
	return cmd
}

// FencedError turns the error reply of a refused fenced write into an
// error wrapping ErrFenced, and returns any other error unchanged.
func FencedError(err error) error {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return err
	}
	if rest, ok := strings.CutPrefix(rerr.Error(), "FENCED "); ok {
		return fmt.Errorf("%w: %s", ErrFenced, rest)
	}
	return err
}

// multiFencePrelude checks several fences at once and takes them off
// KEYS and ARGV: ARGV[1] is their number n, KEYS[1..n] the leases' keys
// and ARGV[2..n+1] the tokens. The write is refused, with an error reply
// starting with "FENCED", unless every lease still carries its token.
const multiFencePrelude = `
local fence_n = tonumber(table.remove(ARGV, 1))
for i = 1, fence_n do
	local fence_key = table.remove(KEYS, 1)
	local fence_token = table.remove(ARGV, 1)
` + fenceCheck + `
end
`

// MultiFencedScript returns a script that runs body only if every fence
// given in front of its keys and arguments holds (see RunFences): one
// script for a write that spans several owners, each fenced by its own
// lease. body is written as if the fences were not there.
func MultiFencedScript(body string) *redis.Script {
	return redis.NewScript(multiFencePrelude + body)
}

// RunFences runs script, made by MultiFencedScript, with fences in front
// of keys and args. A refused write returns an error wrapping ErrFenced.
func RunFences(ctx context.Context, c redis.Scripter, fences []Fence, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	k := make([]string, 0, len(keys)+len(fences))
	a := make([]any, 0, len(args)+len(fences)+1)
	a = append(a, len(fences))
	for _, f := range fences {
		k = append(k, f.Key)
		a = append(a, strconv.FormatInt(f.Token, 10))
	}
	k = append(k, keys...)
	a = append(a, args...)
	cmd := script.Run(ctx, c, k, a...)
	if err := FencedError(cmd.Err()); err != cmd.Err() {
		cmd.SetErr(err)
	}
	return cmd
}
