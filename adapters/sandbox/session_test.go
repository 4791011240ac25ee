package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestConnectPrelude(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	if got := e.h.States(acct); len(got) != 2 || got[0] != event.StateConnecting || got[1] != event.StateConnected {
		t.Fatalf("states %v", got)
	}
	evs := e.h.WaitEvents(t, 8, func(event.Event) bool { return true })
	want := []ids.UserID{sandbox.EchoBot, sandbox.QuietBot, sandbox.Alice, sandbox.Bob}
	names := []string{"Echo Bot", "Quiet Bot", "Alice Sandbox", "Bob Sandbox"}
	for i, u := range want {
		ci, ok := evs[i].(*event.ContactInfo)
		if !ok || ci.Sender != u || ci.Chat != ids.DirectChat(u) || ci.Name != names[i] || ci.Phone != string(u) || ci.Account != acct {
			t.Errorf("event %d = %s, want contact %s", i, gatewaytest.Describe(evs[i]), u)
		}
		pr, ok := evs[4+i].(*event.Presence)
		if !ok || pr.Sender != u || !pr.Available {
			t.Errorf("event %d = %s, want presence of %s", 4+i, gatewaytest.Describe(evs[4+i]), u)
		}
	}
}

func TestTwoAccounts(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a, b := e.link(t, phoneA), e.link(t, phoneB)
	sa, sb := e.connect(t, a), e.connect(t, b)

	id := send(t, sa, ids.UserID(b), "hello B")
	// B learns A as a contact, then gets the message.
	evs := e.h.WaitEvents(t, 2, gatewaytest.All(gatewaytest.InChat(b, ids.DirectChat(ids.UserID(a))), func(ev event.Event) bool {
		_, presence := ev.(*event.Presence)
		return !presence
	}))
	if ci, ok := evs[0].(*event.ContactInfo); !ok || ci.Sender != ids.UserID(a) {
		t.Errorf("B's first event = %s, want A's contact info", gatewaytest.Describe(evs[0]))
	}
	if m, ok := evs[1].(*event.Message); !ok || m.ID != id || m.Body != "hello B" || m.Sender != ids.UserID(a) || m.FromMe {
		t.Errorf("B's second event = %s", gatewaytest.Describe(evs[1]))
	}
	// A hears that B's device got it.
	r := e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Receipt], gatewaytest.InChat(a, ids.DirectChat(ids.UserID(b)))))
	wantReceipt(t, r, ids.UserID(b), event.Delivered, id)

	// B reads it and answers; typing first.
	if err := sb.SendChatState(ctx(t), &event.ChatState{Meta: event.Meta{Account: b, Chat: ids.DirectChat(ids.UserID(a))}, State: event.Composing}); err != nil {
		t.Fatal(err)
	}
	if err := sb.SendReceipt(ctx(t), &event.Receipt{Meta: event.Meta{Account: b, Chat: ids.DirectChat(ids.UserID(a))}, Kind: event.Displayed, Targets: []ids.MessageID{id}}); err != nil {
		t.Fatal(err)
	}
	reply := send(t, sb, ids.UserID(a), "hi A")
	got := e.h.WaitEvents(t, 4, traffic(a, ids.UserID(b)))
	wantReceipt(t, got[0], ids.UserID(b), event.Delivered, id)
	if cs, ok := got[1].(*event.ChatState); !ok || cs.State != event.Composing {
		t.Errorf("A's event 1 = %s", gatewaytest.Describe(got[1]))
	}
	wantReceipt(t, got[2], ids.UserID(b), event.Displayed, id)
	if m, ok := got[3].(*event.Message); !ok || m.ID != reply || m.Body != "hi A" {
		t.Errorf("A's event 3 = %s", gatewaytest.Describe(got[3]))
	}
	// A knew B already (A wrote first): no contact info for B on A's side.
	if n := len(e.h.EventsFor(gatewaytest.All(gatewaytest.Is[*event.ContactInfo], gatewaytest.InChat(a, ids.DirectChat(ids.UserID(b)))))); n != 0 {
		t.Errorf("A got %d contact infos for B", n)
	}
	contacts, err := sa.ListContacts(ctx(t))
	if err != nil || len(contacts) != 5 || contacts[4].Sender != ids.UserID(b) {
		t.Errorf("A's contacts = %d, %v; want the seeded four then B", len(contacts), err)
	}
	if m := e.p.Messages(a); len(m) != 1 || m[0].Body != "hello B" {
		t.Errorf("Messages(A) = %+v", m)
	}
	if r := e.p.Receipts(b); len(r) != 1 || r[0].Kind != event.Displayed || r[0].To != ids.UserID(a) {
		t.Errorf("Receipts(B) = %+v", r)
	}
	if s := e.p.ChatStates(b); len(s) != 1 || s[0].State != event.Composing {
		t.Errorf("ChatStates(B) = %+v", s)
	}
	// B is A's contact now: A sees B go offline.
	sb.Disconnect()
	pr := e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Presence], gatewaytest.InChat(a, ids.DirectChat(ids.UserID(b))))).(*event.Presence)
	if pr.Available || pr.LastSeen.IsZero() {
		t.Errorf("B's presence = %s", gatewaytest.Describe(pr))
	}
	if u, _ := e.p.User(ids.UserID(b)); u.Available {
		t.Errorf("User(B) = %+v after disconnecting", u)
	}
}

func TestOfflineQueue(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a, b := e.link(t, phoneA), e.link(t, phoneB)
	sa := e.connect(t, a)
	sb := e.session(t, b) // linked, not connected

	// Typing is live only: it is dropped while B is offline.
	if err := e.p.Typing(sandbox.Alice, b, event.Composing); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, body := range []string{"one", "two", "three"} {
		if _, err := e.p.SendAs(ctx(t), sandbox.Alice, b, body); err != nil {
			t.Fatal(err)
		}
		want = append(want, body)
	}
	id := send(t, sa, ids.UserID(b), "four")
	want = append(want, "four")
	if n := len(e.h.EventsFor(func(ev event.Event) bool { return ev.EventMeta().Account == b })); n != 0 {
		t.Fatalf("%d events for B while it was offline", n)
	}

	sb.Connect(ctx(t))
	connected := e.h.WaitState(t, b, event.StateConnected)
	msgs := e.h.WaitEvents(t, 4, messagesTo(b))
	for i, m := range msgs {
		if body := m.(*event.Message).Body; body != want[i] {
			t.Errorf("message %d = %q, want %q", i, body, want[i])
		}
		if idx := indexOf(e.h, m); idx < connected.Seq+8 {
			t.Errorf("message %d at %d, before the end of the prelude (%d)", i, idx, connected.Seq+8)
		}
	}
	if n := len(e.h.EventsFor(gatewaytest.All(gatewaytest.Is[*event.ChatState], gatewaytest.InChat(b, ids.DirectChat(sandbox.Alice))))); n != 0 {
		t.Errorf("B got %d chat states sent while offline", n)
	}
	// A learns of the delivery once B's device has it.
	r := e.h.WaitEvent(t, gatewaytest.All(gatewaytest.Is[*event.Receipt], gatewaytest.InChat(a, ids.DirectChat(ids.UserID(b)))))
	wantReceipt(t, r, ids.UserID(b), event.Delivered, id)
}

func TestDisconnectAndReconnect(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	e.h.WaitEvents(t, 8, gatewaytest.Is[event.Event]) // the prelude
	s.Disconnect()
	s.Disconnect()
	if got := e.h.States(acct); len(got) != 3 || got[2] != event.StateDisconnected {
		t.Fatalf("states %v", got)
	}
	if _, err := s.SendMessage(ctx(t), &event.Message{Meta: event.Meta{Chat: ids.DirectChat(sandbox.Alice)}, Body: "x"}); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("SendMessage while disconnected = %v", err)
	}
	if _, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, "while you were away"); err != nil {
		t.Fatal(err)
	}
	if err := e.p.SetPresence(sandbox.Bob, false, "gone"); err != nil {
		t.Fatal(err)
	}
	before := len(e.h.Events())

	s.Connect(ctx(t))
	s.Connect(ctx(t)) // already connected: nothing happens
	m := e.h.WaitEvent(t, gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(sandbox.Alice))))
	changes := e.h.StateChanges()
	last := changes[len(changes)-1]
	if last.State != event.StateConnected || len(changes) != 5 {
		t.Fatalf("state changes %+v", changes)
	}
	if idx := indexOf(e.h, m); idx < last.Seq || last.Seq != before {
		t.Errorf("message at %d, reconnected at %d, %d events before", idx, last.Seq, before)
	}
	// The new prelude shows Bob's presence as it is now.
	p := e.h.WaitEvents(t, 2, gatewaytest.All(gatewaytest.Is[*event.Presence], gatewaytest.InChat(acct, ids.DirectChat(sandbox.Bob))))
	if pr := p[1].(*event.Presence); pr.Available || pr.Status != "gone" {
		t.Errorf("Bob's presence after reconnecting: %s", gatewaytest.Describe(pr))
	}
}

func TestSendMessageErrors(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.connect(t, acct)
	to := ids.DirectChat(sandbox.Alice)
	for _, tc := range []struct {
		name string
		msg  *event.Message
		want error
	}{
		{"nil", nil, gateway.ErrBadRequest},
		{"empty", &event.Message{Meta: event.Meta{Chat: to}}, gateway.ErrBadRequest},
		{"not utf-8", &event.Message{Meta: event.Meta{Chat: to}, Body: "\xff\xfe"}, gateway.ErrBadRequest},
		{"no chat", &event.Message{Body: "x"}, gateway.ErrBadRequest},
		{"other account", &event.Message{Meta: event.Meta{Account: phoneB, Chat: to}, Body: "x"}, gateway.ErrBadRequest},
		{"too long", &event.Message{Meta: event.Meta{Chat: to}, Body: strings.Repeat("é", sandbox.MaxBodyLength/2+1)}, gateway.ErrNotSupported},
		{"unknown number", &event.Message{Meta: event.Meta{Chat: "+15559999999"}, Body: "x"}, gateway.ErrUnknownChat},
		{"not a number", &event.Message{Meta: event.Meta{Chat: "alice"}, Body: "x"}, gateway.ErrUnknownChat},
		{"longest", &event.Message{Meta: event.Meta{Chat: to}, Body: strings.Repeat("a", sandbox.MaxBodyLength)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := s.SendMessage(ctx(t), tc.msg)
			if tc.want == nil {
				if err != nil || id == "" {
					t.Fatalf("SendMessage = %q, %v", id, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || id != "" {
				t.Fatalf("SendMessage = %q, %v; want %v", id, err, tc.want)
			}
		})
	}
	if got := e.p.Received(sandbox.Alice); len(got) != 1 {
		t.Errorf("Alice received %d messages, want only the longest one", len(got))
	}
	caps := s.Capabilities(to)
	want := gateway.Capabilities{
		MaxBodyLength: 4096, Receipts: true, ReadMarkers: true, ChatStates: true,
		Edits: true, EditWindow: 15 * time.Minute, Retractions: true, RetractWindow: 48 * time.Hour,
		Reactions: true, MaxReactionsPerUser: 1, Replies: true, MaxFileSize: 1 << 20,
		MediaTypes: []string{"image/*", "video/*", "audio/*", "application/pdf", "text/plain"},
	}
	if !reflect.DeepEqual(caps, want) {
		t.Errorf("Capabilities = %+v\nwant %+v", caps, want)
	}
	// Groups have no receipts, read markers or typing on the sandbox:
	// promising them would make rooms advertise what is dropped.
	want.Receipts, want.ReadMarkers, want.ChatStates = false, false, false
	if caps := s.Capabilities(sandbox.Lounge); !reflect.DeepEqual(caps, want) {
		t.Errorf("Capabilities(Lounge) = %+v\nwant %+v", caps, want)
	}
}

func TestReceiptAndChatStateErrors(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.session(t, acct)
	alice := event.Meta{Chat: ids.DirectChat(sandbox.Alice)}
	if err := s.SendReceipt(ctx(t), &event.Receipt{Meta: alice, Kind: event.Displayed, Targets: []ids.MessageID{"SB1"}}); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("SendReceipt offline = %v", err)
	}
	s.Connect(ctx(t))
	e.h.WaitState(t, acct, event.StateConnected)
	for _, tc := range []struct {
		name string
		r    *event.Receipt
		want error
	}{
		{"nil", nil, gateway.ErrBadRequest},
		{"no targets", &event.Receipt{Meta: alice, Kind: event.Displayed}, gateway.ErrBadRequest},
		{"bad kind", &event.Receipt{Meta: alice, Targets: []ids.MessageID{"SB1"}}, gateway.ErrBadRequest},
		{"unknown chat", &event.Receipt{Meta: event.Meta{Chat: "+15559999999"}, Kind: event.Delivered, Targets: []ids.MessageID{"SB1"}}, gateway.ErrUnknownChat},
		{"ok", &event.Receipt{Meta: alice, Kind: event.Displayed, Targets: []ids.MessageID{"SB1", "SB2"}}, nil},
	} {
		if err := s.SendReceipt(ctx(t), tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s: SendReceipt = %v, want %v", tc.name, err, tc.want)
		}
	}
	if r := e.p.Receipts(acct); len(r) != 1 || len(r[0].Targets) != 2 || r[0].To != sandbox.Alice {
		t.Errorf("Receipts = %+v", r)
	}
	for _, tc := range []struct {
		name string
		cs   *event.ChatState
		want error
	}{
		{"nil", nil, gateway.ErrBadRequest},
		{"bad state", &event.ChatState{Meta: alice, State: "dancing"}, gateway.ErrBadRequest},
		{"unknown chat", &event.ChatState{Meta: event.Meta{Chat: "+15559999999"}, State: event.Paused}, gateway.ErrUnknownChat},
		{"ok", &event.ChatState{Meta: alice, State: event.Composing}, nil},
	} {
		if err := s.SendChatState(ctx(t), tc.cs); !errors.Is(err, tc.want) {
			t.Errorf("%s: SendChatState = %v, want %v", tc.name, err, tc.want)
		}
	}
	if cs := e.p.ChatStates(acct); len(cs) != 1 || cs[0].State != event.Composing || cs[0].To != sandbox.Alice {
		t.Errorf("ChatStates = %+v", cs)
	}
}

func TestResolveUser(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	acct := e.link(t, phoneA)
	s := e.session(t, acct)
	if _, err := s.ResolveUser(ctx(t), string(sandbox.Alice)); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("ResolveUser offline = %v", err)
	}
	s.Connect(ctx(t))
	e.h.WaitState(t, acct, event.StateConnected)
	e.link(t, phoneB)
	for _, tc := range []struct {
		input   string
		want    ids.UserID
		wantErr error
	}{
		{"+15550001111", sandbox.Alice, nil},
		{"+1 (555) 000-1111", sandbox.Alice, nil},
		{"0015550000001", sandbox.EchoBot, nil},
		{phoneB, phoneB, nil},
		{phoneA, phoneA, nil},
		{"+15559999999", "", gateway.ErrUnknownChat},
		{"", "", gateway.ErrBadRequest},
		{"alice", "", gateway.ErrBadRequest},
		{"+12", "", gateway.ErrBadRequest},
		{"+01234567890", "", gateway.ErrBadRequest},
	} {
		got, err := s.ResolveUser(ctx(t), tc.input)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("ResolveUser(%q) = %q, %v; want %q, %v", tc.input, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestEmitNotDurableIsRedelivered checks that an event the hub could not
// journal is offered again, and that later events wait for it.
func TestEmitNotDurableIsRedelivered(t *testing.T) {
	h := gatewaytest.NewHost(t)
	var refused atomic.Int32
	h.EmitHook = func(_ context.Context, ev event.Event) error {
		if m, ok := ev.(*event.Message); ok && m.Body == "first" && refused.Add(1) <= 3 {
			return fmt.Errorf("store down: %w", gateway.ErrNotDurable)
		}
		return nil
	}
	e := newEnvOn(t, sandbox.NewPlatform(sandbox.Options{}), h, nil)
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	for _, body := range []string{"first", "second"} {
		if _, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, body); err != nil {
			t.Fatal(err)
		}
	}
	got := h.WaitEvents(t, 2, messagesTo(acct))
	if a, b := got[0].(*event.Message).Body, got[1].(*event.Message).Body; a != "first" || b != "second" {
		t.Errorf("messages %q, %q; want first, second", a, b)
	}
	if n := refused.Load(); n < 4 {
		t.Errorf("the refused message was offered %d times, want 4", n)
	}
}

func TestEmitRefusedIsDropped(t *testing.T) {
	h := gatewaytest.NewHost(t)
	h.EmitHook = func(_ context.Context, ev event.Event) error {
		if m, ok := ev.(*event.Message); ok && m.Body == "poison" {
			return errors.New("hub says no")
		}
		return nil
	}
	e := newEnvOn(t, sandbox.NewPlatform(sandbox.Options{}), h, nil)
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	for _, body := range []string{"poison", "fine"} {
		if _, err := e.p.SendAs(ctx(t), sandbox.Alice, acct, body); err != nil {
			t.Fatal(err)
		}
	}
	m := h.WaitEvent(t, messagesTo(acct)).(*event.Message)
	if m.Body != "fine" {
		t.Errorf("first recorded message %q", m.Body)
	}
}
