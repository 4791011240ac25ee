package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// host is the Host handed to one adapter.
type host struct {
	g        *Gateway
	platform ids.PlatformID
	log      *slog.Logger
}

var _ Host = (*host)(nil)

// Emit routes a platform event to the owner of its account. Events of one
// account are delivered in the order Emit is called. With a
// ConfirmingFrontend, messages, edits, retractions, reactions and delivery
// receipts are journaled first, and Emit fails with ErrNotDurable if they
// could not be.
func (h *host) Emit(ctx context.Context, ev event.Event) (err error) {
	defer func(t0 time.Time) { h.g.observe(h.platform, ToXMPP, eventKind(ev), t0, err) }(time.Now())
	m := ev.EventMeta()
	owner, err := h.g.ownerOf(ctx, h.platform, m.Account)
	if err != nil {
		return fmt.Errorf("emit %T: %w", ev, err)
	}
	if !h.g.owns(owner) {
		// A session of an owner stopped here (StopOwner): its next worker
		// gets the event from the platform again.
		return fmt.Errorf("emit %T for %s: %w", ev, owner, ErrNotOwned)
	}
	if m.Chat != "" && !m.Group {
		m.Group = h.g.IsGroup(owner, h.platform, m.Chat)
	}
	d := Delivery{Owner: owner, Platform: h.platform, Event: ev}
	// The chat as the id map knows it: one platform's chat ids never
	// answer for another's (delivery.ChatKey).
	chatKey := delivery.ChatKey(h.platform, m.Chat)
	switch e := ev.(type) {
	case *event.Receipt:
		if m.Group {
			// Markers in a room name the room's stanza-id, which for
			// the owner's messages is the platform's id.
			break
		}
		// Receipts name platform ids; the XMPP side needs the ids its
		// client chose, recorded by a send that may still be returning.
		h.g.sending.Wait(ctx, owner, chatKey)
		for i, target := range e.Targets {
			e.Targets[i] = h.xmppID(ctx, owner, chatKey, target)
		}
	case *event.Edit:
		e.Target = h.xmppID(ctx, owner, chatKey, e.Target)
	case *event.Retract:
		e.Target = h.xmppID(ctx, owner, chatKey, e.Target)
	case *event.Reaction:
		h.g.sending.Wait(ctx, owner, chatKey)
		e.Target = h.xmppID(ctx, owner, chatKey, e.Target)
	case *event.Message:
		if m.ID != "" && h.g.idmap.SeenInbound(owner, chatKey, m.ID) {
			// Offered again (the platform did not get the acknowledgement):
			// the user has it already.
			h.log.Info("platform message delivered before; not again", "owner", owner, "chat", m.Chat, "id", m.ID)
			return nil
		}
		if e.ReplyTo != "" {
			e.ReplyTo = h.xmppID(ctx, owner, chatKey, e.ReplyTo)
		}
		defer func() {
			if err == nil {
				h.g.idmap.NoteInbound(owner, chatKey, m.ID)
			}
		}()
	case *event.ContactInfo:
		// Platforms announce every contact each time a session connects;
		// what the store has already is not written again (the contact's
		// Updated is when it last changed).
		// The account's contacts are read once (contactcache.go).
		unlock := h.g.contacts.lock(owner)
		c, err := h.g.contacts.get(ctx, owner, h.platform, m.Sender)
		if err != nil && !isNotFound(err) {
			unlock()
			return fmt.Errorf("emit contact: %w", err)
		}
		if err != nil || c.Name != e.Name {
			c.Platform, c.User, c.Name, c.Updated = h.platform, m.Sender, e.Name, now()
			if err := h.g.contacts.put(ctx, owner, c); err != nil {
				unlock()
				return fmt.Errorf("emit contact: %w", err)
			}
		}
		unlock()
		// The frontend needs to know whether the contact is in the
		// owner's roster: it is what the store holds.
		d.Contact = &c
	}
	if delivery.Journaled(ev) {
		if f, ok := h.g.journalFrontend(); ok {
			// Journaled before delivery: once Emit returns nil the event
			// survives a crash, and the adapter may acknowledge it to the
			// platform (delivery.Journal).
			return h.g.journal.Emit(ctx, f, owner, h.platform, ev)
		}
	}
	if err := h.g.deliver(ctx, d); err != nil {
		return fmt.Errorf("deliver %T to %s: %w", ev, owner, err)
	}
	return nil
}

// xmppID maps a platform message id to the stanza id the owner's client
// used for it; ids the gateway did not record (messages from the platform)
// are their own stanza ids. chat is the chat's delivery.ChatKey.
func (h *host) xmppID(ctx context.Context, owner ids.Owner, chat ids.ChatID, id ids.MessageID) ids.MessageID {
	if x, ok := h.g.idmap.XMPPID(ctx, owner, chat, id); ok {
		return ids.MessageID(x)
	}
	return id
}

// SetState records the account's state and tells its owner.
func (h *host) SetState(ctx context.Context, account ids.AccountID, state event.State, detail string) {
	owner, err := h.g.ownerOf(ctx, h.platform, account)
	if err != nil {
		h.log.Warn("state of an unknown account", "account", account, "state", state, "err", err)
		return
	}
	h.g.obs.StateChanged(h.platform, account, state)
	if err := h.g.store.SetAccountState(ctx, owner, h.platform, state, detail); err != nil {
		h.log.Error("cannot record account state", "owner", owner, "state", state, "err", err)
	}
	ev := &event.AccountState{Meta: event.Meta{Account: account, Time: now()}, State: state, Detail: detail}
	if err := h.g.deliver(ctx, Delivery{Owner: owner, Platform: h.platform, Event: ev}); err != nil {
		h.log.Error("cannot tell owner about account state", "owner", owner, "state", state, "err", err)
	}
}

// KV returns the account's private key-value space.
func (h *host) KV(account ids.AccountID) AccountKV {
	return &accountKV{s: h.g.store, platform: h.platform, account: account}
}

// Logger returns the adapter's logger.
func (h *host) Logger() *slog.Logger { return h.log }

type accountKV struct {
	s        store.KV
	platform ids.PlatformID
	account  ids.AccountID
}

func (kv *accountKV) Get(ctx context.Context, key string) ([]byte, error) {
	return kv.s.GetKV(ctx, kv.platform, kv.account, key)
}

func (kv *accountKV) Set(ctx context.Context, key string, value []byte) error {
	return kv.s.SetKV(ctx, kv.platform, kv.account, key, value)
}

func (kv *accountKV) Delete(ctx context.Context, key string) error {
	return kv.s.DeleteKV(ctx, kv.platform, kv.account, key)
}
