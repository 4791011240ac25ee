package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
)

// calls is INFO commandstats's count of cmd's calls.
func calls(t *testing.T, c *redis.Client, cmd string) int64 {
	t.Helper()
	text, err := c.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.Split(rest, ",")[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 0
}

// TestRouteIfHeld: a stanza of an owner held by a worker is posted and
// its holder rung, with no lease read by the caller; one of a free owner
// is not posted (RouteIfHeld) or posted and rung to nobody (RouteWith);
// a full inbox refuses the post and rings nobody.
func TestRouteIfHeld(t *testing.T) {
	tests := []struct {
		name     string
		holder   string // "" for a free lease
		ifHeld   bool
		max      int64
		queued   int // entries in the inbox before
		wantErr  error
		wantHeld bool
		wantLen  int64
		wantRung []string
	}{
		{name: "held", holder: "gw-a", ifHeld: true, wantHeld: true, wantLen: 1, wantRung: []string{"owner@example.test"}},
		{name: "free", ifHeld: true, wantLen: 0},
		{name: "free, RouteWith", wantLen: 1},
		{name: "held, RouteWith", holder: "gw-a", wantLen: 1, wantRung: []string{"owner@example.test"}},
		{name: "held, full", holder: "gw-a", ifHeld: true, max: 2, queued: 2, wantErr: cluster.ErrQueueFull, wantLen: 2},
		{name: "held, under the bound", holder: "gw-a", ifHeld: true, max: 2, queued: 1, wantHeld: true, wantLen: 2, wantRung: []string{"owner@example.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client(t, storetest.StartRedis(t))
			ctx := t.Context()
			const owner = "owner@example.test"
			if tt.holder != "" {
				if _, err := cluster.NewOwnerLease(c, prefix, owner).Acquire(ctx, tt.holder, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			inbox := cluster.NewOwnerInbox(c, prefix, owner)
			for i := range tt.queued {
				if _, err := inbox.Post(ctx, fmt.Appendf(nil, "q%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			r := cluster.NewRouter(c, prefix)
			reads := calls(t, c, "hmget") + calls(t, c, "pttl")
			opts := cluster.PostOptions{Max: tt.max, Admitted: true}
			var (
				held bool
				err  error
			)
			if tt.ifHeld {
				_, held, err = r.RouteIfHeld(ctx, owner, []byte("m"), opts)
			} else {
				_, err = r.RouteWith(ctx, owner, []byte("m"), opts)
			}
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if tt.ifHeld && held != tt.wantHeld {
				t.Errorf("held %v, want %v", held, tt.wantHeld)
			}
			if n := calls(t, c, "hmget") + calls(t, c, "pttl") - reads; n != 0 {
				t.Errorf("%d lease reads besides the post, want 0", n)
			}
			if n, err := c.XLen(ctx, inbox.Key()).Result(); err != nil || n != tt.wantLen {
				t.Errorf("inbox length %d, %v; want %d", n, err, tt.wantLen)
			}
			rung, err := cluster.NewBell(c, prefix).Wait(ctx, "gw-a", 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rung, tt.wantRung) {
				t.Errorf("gw-a rung for %v, want %v", rung, tt.wantRung)
			}
			if tt.wantLen > int64(tt.queued) {
				es, err := inbox.Reader("gw-a").Read(ctx, 100, 0)
				if err != nil {
					t.Fatal(err)
				}
				if last := es[len(es)-1]; string(last.Data) != "m" || !last.Admitted {
					t.Errorf("last entry %q admitted %v, want \"m\" admitted", last.Data, last.Admitted)
				}
			}
		})
	}
}

// TestDrainReadsOncePerShortBatch: a drain that reads fewer new entries
// than a batch handles and acknowledges them and ends with no further
// read (the next post rings again); a full batch is followed by another
// read. A new reader first looks at the pending entries once.
func TestDrainReadsOncePerShortBatch(t *testing.T) {
	tests := []struct {
		name      string
		batch     int
		pending   int     // entries a previous reader read and left pending
		first     int     // entries before the first drain (a new reader)
		then      int     // entries before the second drain
		wantReads []int64 // XREADGROUP calls of each drain
	}{
		{name: "short batches", batch: 10, first: 3, then: 2, wantReads: []int64{2, 1}},
		{name: "a full batch, then a short one", batch: 2, first: 3, then: 2, wantReads: []int64{3, 2}},
		{name: "nothing new", batch: 10, first: 1, then: 0, wantReads: []int64{2, 1}},
		{name: "pending, then new", batch: 10, pending: 2, first: 3, then: 1, wantReads: []int64{2, 1}},
		{name: "a full batch of pending", batch: 2, pending: 2, first: 1, then: 1, wantReads: []int64{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client(t, storetest.StartRedis(t))
			ctx := t.Context()
			var got []string
			w, err := cluster.NewWorker(cluster.WorkerOptions{
				AssignerOptions: cluster.AssignerOptions{
					Client: c, Prefix: prefix, Instance: cluster.Instance{ID: "gw-a"},
					TTL: 3 * time.Second, RenewEvery: 300 * time.Millisecond, MaxMovesPerSecond: 100,
					Owners: func(context.Context) ([]string, error) { return nil, nil },
					Start:  func(context.Context, string, cluster.Grant) error { return nil },
					Stop:   func(context.Context, string) {},
				},
				Handle: func(_ context.Context, _ string, e cluster.Entry) error {
					got = append(got, string(e.Data))
					return nil
				},
				Batch: tt.batch,
			})
			if err != nil {
				t.Fatal(err)
			}
			q := cluster.NewWorkerInbox(c, prefix, "gw-a")
			r := q.Reader("gw-a")
			var want []string
			n := 0
			for range tt.pending {
				data := fmt.Sprintf("e%d", n)
				n++
				if _, err := q.Post(ctx, []byte(data)); err != nil {
					t.Fatal(err)
				}
				want = append(want, data)
			}
			if es, err := q.Reader("gw-old").Read(ctx, 100, 0); err != nil || len(es) != tt.pending {
				t.Fatalf("the previous reader read %d, %v; want %d", len(es), err, tt.pending)
			}
			for i, count := range []int{tt.first, tt.then} {
				for range count {
					data := fmt.Sprintf("e%d", n)
					n++
					if _, err := q.Post(ctx, []byte(data)); err != nil {
						t.Fatal(err)
					}
					want = append(want, data)
				}
				before := calls(t, c, "xreadgroup")
				cluster.DrainQueue(w, ctx, q, r, "", nil)
				if reads := calls(t, c, "xreadgroup") - before; reads != tt.wantReads[i] {
					t.Errorf("drain %d: %d reads, want %d", i+1, reads, tt.wantReads[i])
				}
				if !slices.Equal(got, want) {
					t.Errorf("drain %d: handled %v, want %v", i+1, got, want)
				}
				if lag, err := q.Lag(ctx); err != nil || lag != (cluster.QueueLag{}) {
					t.Errorf("drain %d: left %+v, %v; want nothing", i+1, lag, err)
				}
			}
		})
	}
}

// TestPostMakesGroupFirstThenOneAppend: the first post makes the stream
// with its consumer group (what it appended is read through the group);
// a post to a stream that exists runs one XADD (and XLEN with a bound),
// no existence check.
func TestPostMakesGroupFirstThenOneAppend(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	q := cluster.NewFrontOutbox(c, prefix)
	if _, err := q.Post(ctx, []byte("first")); err != nil {
		t.Fatal(err)
	}
	groups, err := c.XInfoGroups(ctx, q.Key()).Result()
	if err != nil || len(groups) != 1 || groups[0].Lag != 1 {
		t.Fatalf("groups after the first post: %+v, %v; want one, with the entry unread", groups, err)
	}
	for _, tt := range []struct {
		name string
		opts cluster.PostOptions
		want map[string]int64
	}{
		{"unbounded", cluster.PostOptions{}, map[string]int64{"xadd": 1, "exists": 0, "xlen": 0, "xgroup|create": 0}},
		{"bounded", cluster.PostOptions{Max: 10}, map[string]int64{"xadd": 1, "exists": 0, "xlen": 1, "xgroup|create": 0}},
	} {
		before := map[string]int64{}
		for cmd := range tt.want {
			before[cmd] = calls(t, c, cmd)
		}
		if _, err := q.PostWith(ctx, []byte(tt.name), tt.opts); err != nil {
			t.Fatal(err)
		}
		for cmd, want := range tt.want {
			if n := calls(t, c, cmd) - before[cmd]; n != want {
				t.Errorf("%s post: %d %s, want %d", tt.name, n, cmd, want)
			}
		}
	}
	es, err := q.Reader("front").Read(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := datas(es), []string{"first", "unbounded", "bounded"}; !slices.Equal(got, want) {
		t.Errorf("read %v, want %v", got, want)
	}
}
