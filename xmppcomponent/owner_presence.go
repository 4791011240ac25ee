package xmppcomponent

import (
	"context"
	"sync"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// OwnerPresenceHub is optional for a Hub: one that wants to know whether
// an owner is available on XMPP (the production hub passes it to
// sessions that implement gateway.OwnerPresenceSetter). Without it the
// owner's presence only tells the gateway about its roster.
type OwnerPresenceHub interface {
	SetOwnerPresence(ctx context.Context, owner ids.Owner, platform ids.PlatformID, available bool) error
}

// ownerResources are the owners' resources that sent available presence
// to the gateway or one of its contacts, and have not left since. Only
// registered owners are tracked, so strangers cannot grow it, and at most
// maxOwnerResources of each (more change nothing: the owner is available).
type ownerResources struct {
	mu  sync.Mutex
	res map[ids.Owner]map[string]bool
}

// maxOwnerResources bounds the resources tracked per owner.
const maxOwnerResources = 64

// set records resource as available or gone and reports whether the
// owner went from no resource to some (or back).
func (r *ownerResources) set(owner ids.Owner, resource string, available bool) (changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	had := len(r.res[owner]) > 0
	if available {
		if r.res == nil {
			r.res = map[ids.Owner]map[string]bool{}
		}
		if r.res[owner] == nil {
			r.res[owner] = map[string]bool{}
		}
		if len(r.res[owner]) < maxOwnerResources {
			r.res[owner][resource] = true
		}
	} else {
		delete(r.res[owner], resource)
		if len(r.res[owner]) == 0 {
			delete(r.res, owner)
		}
	}
	return had != (len(r.res[owner]) > 0)
}

// has reports whether owner has an available resource.
func (r *ownerResources) has(owner ids.Owner) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.res[owner]) > 0
}

// ownerPresenceOnConnect repeats to a session that has just connected that
// its owner is available: it may have been loaded after the owner's first
// resource came.
func (c *Component) ownerPresenceOnConnect(ctx context.Context, owner ids.Owner) {
	hub, ok := c.gw.(OwnerPresenceHub)
	if !ok || !c.ownerRes.has(owner) {
		return
	}
	if err := hub.SetOwnerPresence(ctx, owner, c.cfg.Platform, true); err != nil {
		c.logErr("cannot pass the owner's presence on", owner, err)
	}
}

// noteOwnerPresence follows the owner's availability from the presence
// their server sends to the gateway or a contact, and tells the hub when
// the first resource comes or the last one leaves.
func (c *Component) noteOwnerPresence(ctx context.Context, from jid.JID, typ stanza.StanzaType) {
	hub, ok := c.gw.(OwnerPresenceHub)
	if !ok {
		return
	}
	var available bool
	switch typ {
	case "":
		available = true
	case stanza.PresenceTypeUnavailable:
	default:
		return
	}
	owner := Owner(from)
	if available {
		if _, err := c.gw.Account(ctx, owner, c.cfg.Platform); err != nil {
			return
		}
	}
	if !c.ownerRes.set(owner, from.Resourcepart(), available) {
		return
	}
	if err := hub.SetOwnerPresence(ctx, owner, c.cfg.Platform, available); err != nil {
		c.logErr("cannot pass the owner's presence on", owner, err)
	}
}
