package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

const shardPrefix = "shardtest:"

func shardMsg(id, from, to string) stanza.Message {
	return stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: id, From: from, To: to}, Body: "body of " + id}
}

func stanzaID(p stanza.Packet) string {
	if e, ok := p.(stream.Encoded); ok {
		p = e.Packet
	}
	switch s := p.(type) {
	case stanza.Message:
		return s.Id
	case stanza.Presence:
		return s.Id
	case *stanza.IQ:
		return s.Id
	}
	return "?"
}

// readInbox reads every entry of owner's inbox as worker and returns the
// stanzas' ids in order.
func readInbox(t *testing.T, client redis.UniversalClient, owner string) []string {
	t.Helper()
	es, err := cluster.NewOwnerInbox(client, shardPrefix, owner).Reader("reader").Read(t.Context(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		p, err := xmppcomponent.DecodeStanza(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, stanzaID(p))
	}
	return got
}

// TestShardRouterRoutesByOwner: the front handles here what has no owner
// (a server), posts to the inbox of the live worker rendezvous hashing
// prefers what a user with no linked account sends, and to the owner's
// inbox what a worker holds (its own worker's too) or what a linked owner
// held by nobody sends (a move in progress), in order; when it cannot
// tell, it handles the stanza here (the hub answers it).
func TestShardRouterRoutesByOwner(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	for owner, holder := range map[string]string{"alice@example.test": "alpha", "bob@example.test": "beta"} {
		if _, err := cluster.NewOwnerLease(client, shardPrefix, owner).Acquire(ctx, holder, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// beta is the one live worker: the users with no linked account go to it.
	if err := cluster.NewWorkerRegistry(client, shardPrefix).Heartbeat(ctx, cluster.Instance{ID: "beta", Role: cluster.RoleWorker}, time.Minute); err != nil {
		t.Fatal(err)
	}
	var local []string
	linkedErr := errors.New("store down")
	r := newShardRouter(client, shardPrefix, "alpha",
		func(_ context.Context, p stanza.Packet) { local = append(local, stanzaID(p)) },
		func(_ context.Context, owner string) (bool, error) {
			switch owner {
			case "carol@example.test":
				return true, nil
			case "erin@example.test":
				return false, linkedErr
			}
			return false, nil
		}, slog.New(slog.DiscardHandler))

	disco := &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeGet, Id: "b2", From: "bob@example.test/phone", To: "gw.example.test"},
		Payload: &xep.DiscoInfo{XMLName: xml.Name{Space: xep.NSDiscoInfo, Local: "query"}}}
	for _, p := range []stanza.Packet{
		shardMsg("a1", "alice@example.test/phone", "+15550000001@gw.example.test"),
		shardMsg("b1", "bob@example.test/phone", "+15550000001@gw.example.test"),
		disco,
		shardMsg("c1", "carol@example.test/laptop", "+15550000002@gw.example.test"),
		shardMsg("d1", "dave@example.test/phone", "gw.example.test"),
		shardMsg("s1", "example.test", "gw.example.test"),
		shardMsg("e1", "erin@example.test/phone", "+15550000003@gw.example.test"),
		&stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: stanza.Attrs{Id: "b3", From: "bob@example.test/phone", To: "gw.example.test"}},
		// The reply to beta's ping, which the server gave to this link.
		&stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: "r1", From: "example.test", To: "gw.example.test/link.beta"}},
		// A result to the link resource of no live process: dropped
		// (no inbox made for it).
		&stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: "r2", From: "example.test", To: "gw.example.test/link.nobody"}},
		// A user's result to a link resource: routed by its owner.
		&stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: "b4", From: "bob@example.test/phone", To: "gw.example.test/link.beta"}},
	} {
		r.Handle(ctx, p)
	}
	if want := []string{"s1", "e1"}; !slices.Equal(local, want) {
		t.Errorf("handled here: %v, want %v", local, want)
	}
	es, err := cluster.NewWorkerInbox(client, shardPrefix, "beta").Reader("beta").Read(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, e := range es {
		p, err := xmppcomponent.DecodeStanza(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, stanzaID(p))
	}
	if want := []string{"d1", "r1"}; !slices.Equal(own, want) {
		t.Errorf("beta's own inbox: %v, want %v", own, want)
	}
	if n, err := client.Exists(ctx, cluster.NewWorkerInbox(client, shardPrefix, "nobody").Key()).Result(); err != nil || n != 0 {
		t.Errorf("an inbox was made for a process that does not exist: %d, %v", n, err)
	}
	for owner, want := range map[string][]string{
		"bob@example.test":   {"b1", "b2", "b3", "b4"},
		"carol@example.test": {"c1"},
		"alice@example.test": {"a1"},
		"dave@example.test":  nil,
	} {
		if got := readInbox(t, client, owner); !slices.Equal(got, want) {
			t.Errorf("inbox of %s: %v, want %v", owner, got, want)
		}
	}
}

// linkRecorder is a Link that records what it is given and holds the
// confirmations until confirm.
type linkRecorder struct {
	mu       sync.Mutex
	ids      []string
	dones    []func()
	connects uint64
	autoOK   bool
}

func (l *linkRecorder) Send(_ context.Context, p stanza.Packet) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, stanzaID(p))
	return nil
}

func (l *linkRecorder) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	_ = l.Send(ctx, p)
	l.mu.Lock()
	auto := l.autoOK
	if !auto {
		l.dones = append(l.dones, done)
	}
	l.mu.Unlock()
	if auto {
		done()
	}
	return nil
}

func (l *linkRecorder) SendIQ(context.Context, *stanza.IQ) (*stanza.IQ, error) {
	return nil, errors.New("not here")
}

func (l *linkRecorder) Connects() uint64 { return l.connects }

func (l *linkRecorder) written() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

// TestShardLinkWritesToFrontOrOutbox: a worker's component writes to the
// front's outbox (a confirmation once posted; no IQ round trip), and to
// the XEP-0114 connection itself while its process is the front.
func TestShardLinkWritesToFrontOrOutbox(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	outbox := cluster.NewFrontOutbox(client, shardPrefix)
	l := newShardLink(outbox)
	if err := l.Send(ctx, shardMsg("m1", "+15550000001@gw.example.test", "alice@example.test")); err != nil {
		t.Fatal(err)
	}
	confirmed := false
	if err := l.SendConfirmed(ctx, shardMsg("m2", "+15550000001@gw.example.test", "alice@example.test"), func() { confirmed = true }); err != nil {
		t.Fatal(err)
	}
	if !confirmed {
		t.Error("a stanza posted to the outbox was not confirmed")
	}
	if _, err := l.SendIQ(ctx, &stanza.IQ{}); !errors.Is(err, errIQNeedsFront) {
		t.Errorf("SendIQ on a worker = %v, want errIQNeedsFront", err)
	}
	if n := l.Connects(); n != 0 {
		t.Errorf("Connects on a worker = %d", n)
	}

	front := &linkRecorder{connects: 3, autoOK: true}
	l.SetFront(front, nil)
	if err := l.Send(ctx, shardMsg("m3", "+15550000001@gw.example.test", "alice@example.test")); err != nil {
		t.Fatal(err)
	}
	if n := l.Connects(); n != 3 {
		t.Errorf("Connects on the front = %d, want 3", n)
	}
	l.SetFront(nil, nil)
	if err := l.Send(ctx, shardMsg("m4", "+15550000001@gw.example.test", "alice@example.test")); err != nil {
		t.Fatal(err)
	}
	if got := front.written(); !slices.Equal(got, []string{"m3"}) {
		t.Errorf("written to the front's connection: %v, want [m3]", got)
	}
	es, err := outbox.Reader("front").Read(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		p, _, err := decodeOutboxEntry(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, stanzaID(p))
	}
	if want := []string{"m1", "m2", "m4"}; !slices.Equal(got, want) {
		t.Errorf("outbox: %v, want %v", got, want)
	}
}

// TestFrontPumpConfirmsBeforeAck: the front writes the outbox to its
// connection in order and acknowledges an entry only once the
// connection confirmed it; a new front writes again, in order, what the
// old one left unconfirmed; entries no front can write are logged and
// acknowledged.
func TestFrontPumpConfirmsBeforeAck(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	outbox := cluster.NewFrontOutbox(client, shardPrefix)
	l := newShardLink(outbox)
	for _, m := range []stanza.Message{
		shardMsg("m1", "+15550000001@gw.example.test", "alice@example.test"),
		shardMsg("x1", "+15550000001@other.test", "alice@example.test"),
		shardMsg("m2", "+15550000002@gw.example.test", "bob@example.test"),
	} {
		if err := l.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := outbox.Post(ctx, []byte("<handshake>x</handshake>")); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(ctx, shardMsg("m3", "+15550000001@gw.example.test", "alice@example.test")); err != nil {
		t.Fatal(err)
	}
	lag := func() cluster.QueueLag {
		lg, err := outbox.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return lg
	}
	run := func(self string, conn *linkRecorder) context.CancelFunc {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		p := &frontPump{outbox: outbox, self: self, log: slog.New(slog.DiscardHandler), Wait: time.Second,
			Conn: func(domain string) xmppcomponent.ConfirmingSender {
				if domain == "gw.example.test" {
					return conn
				}
				return nil
			}}
		go func() { defer close(done); _ = p.Run(pctx) }()
		return func() { cancel(); <-done }
	}

	old := &linkRecorder{}
	stop := run("alpha", old)
	want := []string{"m1", "m2", "m3"}
	testutil.WaitFor(t, "the first front writes the outbox", func() bool { return len(old.written()) == 3 })
	stop()
	if got := old.written(); !slices.Equal(got, want) {
		t.Errorf("first front wrote %v, want %v", got, want)
	}
	if lg := lag(); lg.Pending != 3 || lg.Unread != 0 {
		t.Errorf("outbox after writes not confirmed: %+v, want the 3 pending (the 2 unwritable acknowledged)", lg)
	}

	next := &linkRecorder{autoOK: true}
	stop = run("beta", next)
	defer stop()
	testutil.WaitFor(t, "the next front writes and acknowledges what was left", func() bool { return lag() == cluster.QueueLag{} })
	if got := next.written(); !slices.Equal(got, want) {
		t.Errorf("next front wrote %v, want %v", got, want)
	}
}

// TestShardHandlerFeedsTheComponent: a worker feeds each inbox entry to
// the component of the domain it is addressed to; an entry for no
// component here, or one that is no stanza, is an error (the worker logs
// it).
func TestShardHandlerFeedsTheComponent(t *testing.T) {
	var fed []string
	h := shardHandler(func(domain string) shardFeed {
		if domain != "gw.example.test" {
			return nil
		}
		return func(ctx context.Context, p stanza.Packet, opts xmppcomponent.FeedOptions) bool {
			if ctx.Err() != nil {
				return false // stopped before handled
			}
			fed = append(fed, fmt.Sprintf("%s replayed=%v admitted=%v", stanzaID(p), opts.Replayed, opts.Admitted))
			return true
		}
	})
	entry := func(m stanza.Message) cluster.Entry {
		b, err := xmppcomponent.EncodeStanza(m)
		if err != nil {
			t.Fatal(err)
		}
		return cluster.Entry{ID: "1-0", Data: b}
	}
	ctx := t.Context()
	if err := h(ctx, "alice@example.test", entry(shardMsg("m1", "alice@example.test/phone", "+15550000001@gw.example.test"))); err != nil {
		t.Errorf("entry for the component: %v", err)
	}
	again := entry(shardMsg("m3", "alice@example.test/phone", "+15550000001@gw.example.test"))
	again.Redelivered = true
	if err := h(ctx, "alice@example.test", again); err != nil {
		t.Errorf("entry left by an earlier reader: %v", err)
	}
	admitted := entry(shardMsg("m5", "alice@example.test/phone", "+15550000001@gw.example.test"))
	admitted.Admitted = true
	if err := h(ctx, "alice@example.test", admitted); err != nil {
		t.Errorf("entry the front admitted: %v", err)
	}
	stopped, stop := context.WithCancel(ctx)
	stop()
	if err := h(stopped, "alice@example.test", entry(shardMsg("m4", "alice@example.test/phone", "+15550000001@gw.example.test"))); !errors.Is(err, errNotHandled) {
		t.Errorf("entry whose handling stopped: %v, want errNotHandled (left in the inbox)", err)
	}
	if err := h(ctx, "alice@example.test", entry(shardMsg("m2", "alice@example.test/phone", "+15550000001@other.test"))); err == nil {
		t.Error("entry for a domain with no component here: no error")
	}
	if err := h(ctx, "alice@example.test", cluster.Entry{ID: "2-0", Data: []byte("<nonsense/>")}); err == nil {
		t.Error("entry that is no stanza: no error")
	}
	if want := []string{"m1 replayed=false admitted=false", "m3 replayed=true admitted=false", "m5 replayed=false admitted=true"}; !slices.Equal(fed, want) {
		t.Errorf("fed %v, want %v", fed, want)
	}
}

// ownerRecorder records StartOwner and StopOwner calls.
type ownerRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (o *ownerRecorder) StartOwner(_ context.Context, owner ids.Owner) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, "start "+string(owner))
	return nil
}

func (o *ownerRecorder) StopOwner(_ context.Context, owner ids.Owner) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, "stop "+string(owner))
	return nil
}

func (o *ownerRecorder) taken() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

// TestShardWorkerServesRoutedStanzas: a shard worker claims the owners it
// prefers and starts them on the hub; the stanzas the front routes to
// such an owner (posted before and after the claim) reach the component,
// in order; draining stops the owner on the hub.
func TestShardWorkerServesRoutedStanzas(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	router := cluster.NewRouter(client, shardPrefix)
	route := func(id string) {
		b, err := xmppcomponent.EncodeStanza(shardMsg(id, "alice@example.test/phone", "+15550000001@gw.example.test"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := router.Route(ctx, "alice@example.test", b); err != nil {
			t.Fatal(err)
		}
	}
	route("m1") // before any worker holds alice

	var mu sync.Mutex
	var fed []string
	hub := &ownerRecorder{}
	w, err := newShardWorker(cluster.WorkerOptions{AssignerOptions: cluster.AssignerOptions{
		Client: client, Prefix: shardPrefix, Instance: cluster.Instance{ID: "alpha"},
		TTL: 3 * time.Second, RenewEvery: 100 * time.Millisecond, MaxMovesPerSecond: 100,
		Owners: func(context.Context) ([]string, error) { return []string{"alice@example.test"}, nil },
		Logger: slog.New(slog.DiscardHandler),
	}}, hub, func(domain string) shardFeed {
		return func(_ context.Context, p stanza.Packet, _ xmppcomponent.FeedOptions) bool {
			mu.Lock()
			fed = append(fed, domain+" "+stanzaID(p))
			mu.Unlock()
			return true
		}
	}, func(_ context.Context, owner ids.Owner) {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		hub.calls = append(hub.calls, "leave rooms "+string(owner))
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(wctx) }()
	testutil.WaitFor(t, "the worker claims alice", func() bool { return slices.Contains(w.Assigner().Owned(), "alice@example.test") })
	route("m2")
	want := []string{"gw.example.test m1", "gw.example.test m2"}
	testutil.WaitFor(t, "both stanzas fed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(fed) >= 2
	})
	cancel()
	<-done
	if err := w.Drain(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := slices.Clone(fed)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("fed %v, want %v", got, want)
	}
	// The rooms are left before the hub stops the owner.
	if calls, want := hub.taken(), []string{"start alice@example.test", "leave rooms alice@example.test", "stop alice@example.test"}; !slices.Equal(calls, want) {
		t.Errorf("hub calls %v, want %v", calls, want)
	}
}
