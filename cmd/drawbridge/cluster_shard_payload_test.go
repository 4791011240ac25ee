package main

import (
	"context"
	"encoding/xml"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// wireRecorder is a front connection that keeps the bytes the XEP-0114
// connection would write for each stanza (stream.Marshal) and confirms
// each at once.
type wireRecorder struct {
	mu  sync.Mutex
	out []string
}

func (w *wireRecorder) Send(_ context.Context, p stanza.Packet) error {
	b, err := stream.Marshal(p)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out = append(w.out, string(b))
	return nil
}

func (w *wireRecorder) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	if err := w.Send(ctx, p); err != nil {
		return err
	}
	done()
	return nil
}

func (w *wireRecorder) written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.out...)
}

// TestFrontPumpWritesWhatTheWorkerSent: a stanza a worker posts to the
// front's outbox reaches the wire as the worker's own connection would
// have written it, payloads the XMPP library does not decode included:
// a contact's XEP-0115 caps, XEP-0153 picture hash and XEP-0319 idle
// time, a room occupant's XEP-0421 id in presence and messages. (The front used to decode each
// entry and encode it again, which dropped them: a user served by a
// worker that is not the front saw no contact pictures, no caps, so no
// features, and no "last seen".)
func TestFrontPumpWritesWhatTheWorkerSent(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	outbox := cluster.NewFrontOutbox(client, shardPrefix)
	worker := newShardLink(outbox)
	photo := "f85bbdf756983839acf496f82075e603d4fb1e6d"
	sent := []stanza.Packet{
		stanza.Presence{XMLName: xml.Name{Local: "presence"},
			Attrs:  stanza.Attrs{From: "+15550000001@gw.example.test/drawbridge", To: "alice@example.test"},
			Status: "I repeat what you write",
			Extensions: []stanza.PresExtension{
				&xep.Caps{Hash: "sha-1", Node: "https://github.com/drawbridge-im/drawbridge", Ver: "cEE7NWn4nuQvkld60OgNnj+rJQE="},
				&xep.VCardUpdate{Photo: &photo},
			}},
		stanza.Presence{XMLName: xml.Name{Local: "presence"},
			Attrs:      stanza.Attrs{Type: stanza.PresenceTypeUnavailable, From: "+15550001111@gw.example.test/drawbridge", To: "alice@example.test"},
			Extensions: []stanza.PresExtension{&xep.Idle{Since: "2026-12-07T16:00:00Z"}}},
		stanza.Presence{XMLName: xml.Name{Local: "presence"},
			Attrs: stanza.Attrs{From: "#group-1@gw.example.test/Alice", To: "alice@example.test/phone"},
			Extensions: []stanza.PresExtension{
				&xep.MUCUser{Items: []xep.MUCItem{{Affiliation: "owner", Role: "moderator"}}},
				&xep.OccupantID{ID: "occ-1"},
			}},
		stanza.Message{XMLName: xml.Name{Local: "message"},
			Attrs: stanza.Attrs{Type: stanza.MessageTypeGroupchat, Id: "m1", From: "#group-1@gw.example.test/Bob", To: "alice@example.test/phone"},
			Body:  "hello room",
			Extensions: []stanza.MsgExtension{
				&xep.OccupantID{ID: "occ-2"},
				&xep.StanzaID{ID: "SB42", By: "#group-1@gw.example.test"},
			}},
	}
	var want []string
	for _, p := range sent {
		b, err := stream.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, string(b))
		if err := worker.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	front := &wireRecorder{}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	pump := &frontPump{outbox: outbox, self: "front", log: slog.New(slog.DiscardHandler), Wait: time.Second,
		Conn: func(string) xmppcomponent.ConfirmingSender { return front }}
	go func() { defer close(done); _ = pump.Run(pctx) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "the front writes the outbox", func() bool { return len(front.written()) == len(sent) })
	for i, got := range front.written() {
		if got != want[i] {
			t.Errorf("stanza %d on the wire:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// TestNewFrontWritesItsOwnPostsFirst: a process that becomes the front
// writes the stanzas it posted to the outbox before (as a worker) ahead
// of those it writes to its new connection directly. Before the gate, a
// contact's presence written directly overtook an older one still in the
// outbox, and Profanity showed the contact offline after a SIGTERM moved
// the user to the next front.
func TestNewFrontWritesItsOwnPostsFirst(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: storetest.StartRedis(t)})
	ctx := t.Context()
	outbox := cluster.NewFrontOutbox(client, shardPrefix)
	l := newShardLink(outbox)
	for _, id := range []string{"p1", "p2"} {
		if err := l.Send(ctx, shardMsg(id, "+15550000001@gw.example.test", "alice@example.test")); err != nil {
			t.Fatal(err)
		}
	}
	conn := &linkRecorder{autoOK: true}
	gate := make(chan struct{})
	until := l.SetFront(conn, gate)
	if until == "" {
		t.Fatal("SetFront names no last post")
	}
	sent := make(chan error, 1)
	go func() { sent <- l.Send(ctx, shardMsg("d1", "+15550000001@gw.example.test", "alice@example.test")) }()
	var once sync.Once
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	pump := &frontPump{outbox: outbox, self: "front", log: slog.New(slog.DiscardHandler), Wait: time.Second,
		Conn:  func(string) xmppcomponent.ConfirmingSender { return conn },
		Until: until, CaughtUp: func() { once.Do(func() { close(gate) }) }}
	go func() { defer close(done); _ = pump.Run(pctx) }()
	defer func() { cancel(); <-done }()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got, want := conn.written(), []string{"p1", "p2", "d1"}; !slices.Equal(got, want) {
		t.Errorf("the new front wrote %v, want %v", got, want)
	}
}

// TestStreamIDLess orders Redis stream ids by time, then sequence; ""
// comes first.
func TestStreamIDLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"", "1-0", true},
		{"1-0", "", false},
		{"", "", false},
		{"9-5", "10-0", true}, // not the strings' order
		{"10-0", "9-5", false},
		{"10-1", "10-2", true},
		{"10-2", "10-10", true},
		{"10-2", "10-2", false},
	} {
		if got := streamIDLess(c.a, c.b); got != c.less {
			t.Errorf("streamIDLess(%q, %q) = %v, want %v", c.a, c.b, got, c.less)
		}
	}
}
