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

// GroupAvatar returns a group's picture as owner's account sees it: a
// zero Avatar when the group has none, ErrNotSupported when the platform
// cannot fetch group pictures.
func (g *Gateway) GroupAvatar(ctx context.Context, owner ids.Owner, platform ids.PlatformID, chat ids.ChatID) (Avatar, error) {
	_, gm, err := g.groups(owner, platform)
	if err != nil {
		return Avatar{}, err
	}
	ag, ok := gm.(GroupAvatarGetter)
	if !ok {
		return Avatar{}, fmt.Errorf("group avatars: %w", ErrNotSupported)
	}
	a, err := ag.GetGroupAvatar(ctx, chat)
	if err != nil {
		return Avatar{}, fmt.Errorf("avatar of group %s: %w", chat, err)
	}
	return a, nil
}
