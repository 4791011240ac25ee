package gateway

import (
	"context"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// OwnerPresenceSetter is optional: a Session whose platform shows the
// account as online or offline, and that wants to follow the owner's XMPP
// availability instead of staying online around the clock (a phone shows
// no notifications while a linked device is online). Without it the hub
// ignores the owner's presence.
type OwnerPresenceSetter interface {
	// SetOwnerPresence says whether the owner has at least one available
	// XMPP resource toward the gateway (available) or none left.
	SetOwnerPresence(ctx context.Context, available bool) error
}

// SetOwnerPresence tells the owner's session that the owner became
// available on XMPP (a first resource sent available presence to the
// gateway or one of its contacts) or unavailable (the last one left). It
// returns ErrNotLinked without a session and nil when the session does
// not follow the owner's presence (OwnerPresenceSetter).
func (g *Gateway) SetOwnerPresence(ctx context.Context, owner ids.Owner, platform ids.PlatformID, available bool) (err error) {
	defer func(t0 time.Time) { g.observe(platform, ToPlatform, "presence", t0, err) }(time.Now())
	l, err := g.session(owner, platform)
	if err != nil {
		return err
	}
	ps, ok := l.session.(OwnerPresenceSetter)
	if !ok {
		return nil
	}
	return ps.SetOwnerPresence(ctx, available)
}
