package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Register records owner as a user of platform. Registering again is not an
// error. ErrForbidden if the registration policy refuses owner.
func (g *Gateway) Register(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	if _, ok := g.adapters[platform]; !ok {
		return fmt.Errorf("platform %q: %w", platform, ErrNotSupported)
	}
	if !g.allowed(owner) {
		return fmt.Errorf("%s may not register with this gateway: %w", owner, ErrForbidden)
	}
	_, err := g.store.AccountByOwner(ctx, owner, platform)
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("register: %w", err)
	}
	if err := g.checkRegistrationRate(owner); err != nil {
		return err
	}
	t := now()
	a := store.Account{Owner: owner, Platform: platform, State: event.StateDisconnected, Registered: t, Updated: t}
	if err := g.store.PutAccount(ctx, a); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	g.log.Info("registered", "owner", owner, "platform", platform)
	return nil
}

// Account returns owner's registration on platform; ErrNotRegistered if none.
func (g *Gateway) Account(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (store.Account, error) {
	a, err := g.store.AccountByOwner(ctx, owner, platform)
	if isNotFound(err) {
		return a, ErrNotRegistered
	}
	if err != nil {
		return a, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// Accounts lists every registration (for administrators).
func (g *Gateway) Accounts(ctx context.Context) ([]store.Account, error) {
	return g.store.ListAccounts(ctx)
}

// Unlink logs the linked platform account out and forgets it; owner stays
// registered. ErrNotLinked if nothing is linked. The frontend is told with
// an event.AccountState of state event.StateUnlinked, so that the account's
// contacts and rooms leave the owner's client.
func (g *Gateway) Unlink(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	return g.unlink(ctx, owner, platform, "")
}

// unlink is Unlink; detail, if set, says why, for the owner.
func (g *Gateway) unlink(ctx context.Context, owner ids.Owner, platform ids.PlatformID, detail string) error {
	a, err := g.Account(ctx, owner, platform)
	if err != nil {
		return err
	}
	if a.ID == "" {
		return ErrNotLinked
	}
	account := a.ID
	if l, ok := g.detach(owner, platform); ok {
		if err := l.session.Logout(ctx); err != nil {
			g.log.Warn("platform logout failed; forgetting the account anyway", "owner", owner, "err", err)
		}
		l.session.Disconnect()
	}
	a.ID, a.State, a.StateDetail, a.Updated = "", event.StateDisconnected, "unlinked", now()
	if err := g.store.PutAccount(ctx, a); err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	g.log.Info("account unlinked", "owner", owner, "platform", platform)
	ev := &event.AccountState{Meta: event.Meta{Account: account, Time: now()}, State: event.StateUnlinked, Detail: detail}
	if err := g.deliver(ctx, Delivery{Owner: owner, Platform: platform, Event: ev}); err != nil {
		g.log.Error("cannot tell owner about the unlinked account", "owner", owner, "err", err)
	}
	return nil
}

// Unregister unlinks (if linked) and forgets owner entirely, with contacts
// and message ids. ErrNotRegistered if owner was not registered.
func (g *Gateway) Unregister(ctx context.Context, owner ids.Owner, platform ids.PlatformID) error {
	if _, err := g.Account(ctx, owner, platform); err != nil {
		return err
	}
	if run, ok := g.Login(owner, platform); ok {
		run.Cancel()
	}
	if err := g.unlink(ctx, owner, platform, "you cancelled your registration with the gateway"); err != nil && !errors.Is(err, ErrNotLinked) {
		return err
	}
	err := g.store.DeleteAccount(ctx, owner, platform)
	// The contacts went with the account (or may have).
	g.contacts.drop(owner, platform)
	if err != nil {
		return fmt.Errorf("unregister: %w", err)
	}
	g.log.Info("unregistered", "owner", owner, "platform", platform)
	return nil
}

// Contacts lists what the gateway knows of owner's contacts.
func (g *Gateway) Contacts(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]store.Contact, error) {
	return g.store.ListContacts(ctx, owner, platform)
}

// Contact returns one contact; ErrUnknownChat if the gateway has not seen
// it. The contacts of an account with a session here are read from the
// store once and kept (contactcache.go).
func (g *Gateway) Contact(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (store.Contact, error) {
	c, err := g.contacts.get(ctx, owner, platform, user)
	if isNotFound(err) {
		return c, ErrUnknownChat
	}
	return c, err
}

// SetSubscribed records whether the contact is in owner's roster.
func (g *Gateway) SetSubscribed(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID, subscribed bool) error {
	defer g.contacts.lock(owner)()
	c, err := g.contacts.get(ctx, owner, platform, user)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("subscription: %w", err)
	}
	c.Platform, c.User, c.Subscribed, c.Updated = platform, user, subscribed, now()
	return g.contacts.put(ctx, owner, c)
}

// Ready reports whether the store answers.
func (g *Gateway) Ready(ctx context.Context) error { return g.store.Ping(ctx) }
