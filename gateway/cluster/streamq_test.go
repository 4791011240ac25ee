package cluster_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

func datas(es []cluster.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Data)
	}
	return out
}

func seqStrings(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("m%02d", i))
	}
	return out
}

// TestStreamQueueTakeoverReadsPendingFirstInOrder: worker A reads ten of
// twenty entries of alice's inbox and acknowledges five, then loses the
// lease. Worker B reads the five A left pending, then the ten A never
// read, in order; A's late acknowledgement is refused by the fence and
// leaves the entries to B; once B acknowledged, the queue has no lag.
func TestStreamQueueTakeoverReadsPendingFirstInOrder(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	const owner = "alice@example.test"
	q := cluster.NewOwnerInbox(c, prefix, owner)
	if lag, err := q.Lag(ctx); err != nil || lag != (cluster.QueueLag{}) {
		t.Fatalf("lag of an inbox never posted to: %+v, %v", lag, err)
	}
	if es, err := q.Reader("gw-a").Read(ctx, 10, 0); err != nil || len(es) != 0 {
		t.Fatalf("read of an inbox never posted to: %v, %v", es, err)
	}
	for _, m := range seqStrings(1, 20) {
		if _, err := q.Post(ctx, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	lease := cluster.NewOwnerLease(c, prefix, owner)
	ga, err := lease.Acquire(ctx, "gw-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fa := ga.Fence(lease)
	ra := q.Reader("gw-a")
	es, err := ra.Read(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := datas(es); !slices.Equal(got, seqStrings(1, 10)) {
		t.Fatalf("gw-a read %v, want m01..m10", got)
	}
	if err := q.Ack(ctx, &fa, es[0].ID, es[1].ID, es[2].ID, es[3].ID, es[4].ID); err != nil {
		t.Fatal(err)
	}
	if lag, err := q.Lag(ctx); err != nil || lag != (cluster.QueueLag{Pending: 5, Unread: 10}) {
		t.Errorf("lag after gw-a: %+v, %v; want 5 pending, 10 unread", lag, err)
	}

	// The lease passes to gw-b (gw-a's expired while it was paused).
	if err := c.Del(ctx, lease.Key()).Err(); err != nil {
		t.Fatal(err)
	}
	gb, err := lease.Acquire(ctx, "gw-b", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	fb := gb.Fence(lease)
	if err := q.Ack(ctx, &fa, es[5].ID); !errors.Is(err, cluster.ErrFenced) {
		t.Errorf("gw-a's acknowledgement after losing the lease: %v, want ErrFenced", err)
	}
	rb := q.Reader("gw-b")
	var got []string
	for {
		es, err := rb.Read(ctx, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		got = append(got, datas(es)...)
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.ID
		}
		if err := q.Ack(ctx, &fb, ids...); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, seqStrings(6, 20)) {
		t.Errorf("gw-b read %v, want m06..m20 in order", got)
	}
	if lag, err := q.Lag(ctx); err != nil || lag != (cluster.QueueLag{}) {
		t.Errorf("lag after gw-b: %+v, %v; want none", lag, err)
	}
}

func TestBellRingsEachOwnerOnce(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	b := cluster.NewBell(c, prefix)
	if got, err := b.Wait(ctx, "gw-a", 10, 0); err != nil || got != nil {
		t.Fatalf("Wait on a silent bell: %v, %v", got, err)
	}
	for _, o := range []string{"a", "b", "a", "c"} {
		if err := b.Ring(ctx, "gw-a", o); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Ring(ctx, "gw-b", "z"); err != nil {
		t.Fatal(err)
	}
	got, err := b.Wait(ctx, "gw-a", 10, time.Second)
	if err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("gw-a's bell: %v, %v; want [a b c]", got, err)
	}
	if err := b.Forget(ctx, "gw-b"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Wait(ctx, "gw-b", 10, 0); err != nil || got != nil {
		t.Errorf("forgotten bell: %v, %v", got, err)
	}
}

// TestStreamQueueReadWaitsOnAStreamNeverPosted: a read that may wait, of
// a queue nothing was posted to yet (the front's outbox in a cluster of
// one process), waits in Redis as asked instead of returning at once, and
// returns the first entry posted meanwhile.
func TestStreamQueueReadWaitsOnAStreamNeverPosted(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	q := cluster.NewFrontOutbox(c, prefix)
	type result struct {
		es  []cluster.Entry
		err error
	}
	done := make(chan result, 1)
	go func() {
		es, err := q.Reader("gw-a").Read(ctx, 10, time.Minute)
		done <- result{es, err}
	}()
	// Wait until the read blocks in Redis; a read that returned (empty)
	// instead fails the test.
	testutil.Eventually(t, 30*time.Second, "the read blocked in Redis", func() bool {
		select {
		case r := <-done:
			t.Fatalf("the read returned %v, %v before anything was posted; want it to wait", datas(r.es), r.err)
		default:
		}
		info, err := c.Info(ctx, "clients").Result()
		return err == nil && strings.Contains(info, "blocked_clients:1\r\n")
	})
	if _, err := q.Post(ctx, []byte("m01")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || !slices.Equal(datas(r.es), []string{"m01"}) {
			t.Errorf("the read returned %v, %v; want m01", datas(r.es), r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the read did not return the entry posted")
	}
	if lag, err := q.Lag(ctx); err != nil || lag != (cluster.QueueLag{Pending: 1}) {
		t.Errorf("lag: %+v, %v; want 1 pending", lag, err)
	}
}

// TestStreamQueuePostBound: a post past PostOptions.Max is refused with
// ErrQueueFull and leaves the queue as it was; an acknowledgement makes
// room again; entries read and not acknowledged count. The admitted mark
// reaches the reader, and only on the entries posted with it.
func TestStreamQueuePostBound(t *testing.T) {
	c := client(t, storetest.StartRedis(t))
	ctx := t.Context()
	q := cluster.NewOwnerInbox(c, prefix, "mallory@example.test")
	post := func(data string, opts cluster.PostOptions) error {
		_, err := q.PostWith(ctx, []byte(data), opts)
		return err
	}
	for i, tc := range []struct {
		data string
		opts cluster.PostOptions
		full bool
	}{
		{"m1", cluster.PostOptions{Max: 3, Admitted: true}, false},
		{"m2", cluster.PostOptions{Max: 3}, false},
		{"m3", cluster.PostOptions{Max: 3, Admitted: true}, false},
		{"m4", cluster.PostOptions{Max: 3, Admitted: true}, true},
		{"m5", cluster.PostOptions{Max: 1}, true},
	} {
		err := post(tc.data, tc.opts)
		if tc.full != errors.Is(err, cluster.ErrQueueFull) || !tc.full && err != nil {
			t.Fatalf("post %d (%s, %+v): %v, want full %v", i, tc.data, tc.opts, err, tc.full)
		}
	}
	r := q.Reader("gw-a")
	es, err := r.Read(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := datas(es); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("read %v, want m1 m2 m3", got)
	}
	for i, want := range []bool{true, false, true} {
		if es[i].Admitted != want {
			t.Errorf("entry %s admitted %v, want %v", es[i].Data, es[i].Admitted, want)
		}
	}
	// Read but not acknowledged: still counted.
	if err := post("m6", cluster.PostOptions{Max: 3}); !errors.Is(err, cluster.ErrQueueFull) {
		t.Fatalf("post to a queue of 3 read and unacknowledged entries: %v, want ErrQueueFull", err)
	}
	if err := q.Ack(ctx, nil, es[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := post("m7", cluster.PostOptions{Max: 3}); err != nil {
		t.Fatalf("post after an acknowledgement: %v", err)
	}
	if err := post("m8", cluster.PostOptions{}); err != nil {
		t.Fatalf("unbounded post: %v", err)
	}
	if lag, err := q.Lag(ctx); err != nil || lag.Pending+lag.Unread != 4 {
		t.Fatalf("lag %+v, %v; want 4 entries", lag, err)
	}
}
