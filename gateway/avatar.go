package gateway

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Avatar returns a contact's picture as owner's account sees it: a zero
// Avatar when the contact has none, ErrNotSupported when the platform
// cannot fetch pictures.
func (g *Gateway) Avatar(ctx context.Context, owner ids.Owner, platform ids.PlatformID, user ids.UserID) (Avatar, error) {
	l, err := g.session(owner, platform)
	if err != nil {
		return Avatar{}, err
	}
	ag, ok := l.session.(AvatarGetter)
	if !ok {
		return Avatar{}, fmt.Errorf("avatars: %w", ErrNotSupported)
	}
	a, err := ag.GetAvatar(ctx, user)
	if err != nil {
		return Avatar{}, fmt.Errorf("avatar of %s: %w", user, err)
	}
	return a, nil
}
