package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// maxAvatarSize bounds a profile photo read into memory.
const maxAvatarSize = 2 << 20

// errTooBig stops a download that exceeds its bound.
var errTooBig = errors.New("telegram: the profile photo is larger than 2 MiB")

// cappedBuffer is a bytes.Buffer that refuses to grow past max.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooBig
	}
	return b.Buffer.Write(p)
}

// GetAvatar implements gateway.AvatarGetter: the big version of a user's
// current profile photo, for users the account has seen.
func (s *Session) GetAvatar(ctx context.Context, user ids.UserID) (gateway.Avatar, error) {
	id, err := convert.ParseUser(user)
	if err != nil {
		return gateway.Avatar{}, fmt.Errorf("%w: %w", err, gateway.ErrUnknownChat)
	}
	s.cache.Lock()
	hash, seen := s.photos[id]
	s.cache.Unlock()
	if !seen {
		return gateway.Avatar{}, fmt.Errorf("telegram: user %s not seen by this account yet: %w", user, gateway.ErrUnknownChat)
	}
	if hash == "" {
		return gateway.Avatar{}, nil
	}
	photoID, err := strconv.ParseInt(strings.TrimPrefix(hash, "tg"), 10, 64)
	if err != nil {
		return gateway.Avatar{}, fmt.Errorf("telegram: avatar hash %q: %w", hash, err)
	}
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api == nil {
		return gateway.Avatar{}, fmt.Errorf("telegram: account %s is not connected: %w", s.acct, gateway.ErrUnavailable)
	}
	peer, err := s.inputPeer(ctx, ids.ChatID(user))
	if err != nil {
		return gateway.Avatar{}, err
	}
	buf := &cappedBuffer{max: maxAvatarSize}
	loc := &tg.InputPeerPhotoFileLocation{Big: true, Peer: peer, PhotoID: photoID}
	if _, err := downloader.NewDownloader().Download(api, loc).Stream(ctx, buf); err != nil {
		return gateway.Avatar{}, fmt.Errorf("telegram: download the profile photo of %s: %w", user, err)
	}
	return gateway.Avatar{Hash: hash, MIMEType: "image/jpeg", Data: buf.Bytes()}, nil
}

// GetGroupAvatar implements gateway.GroupAvatarGetter: the big version of
// a group's or channel's current photo (a forum topic's room shows its
// forum's).
func (s *Session) GetGroupAvatar(ctx context.Context, chat ids.ChatID) (gateway.Avatar, error) {
	gi, err := s.GroupInfo(ctx, chat)
	if err != nil {
		return gateway.Avatar{}, err
	}
	if gi.AvatarHash == "" {
		return gateway.Avatar{}, nil
	}
	photoID, err := strconv.ParseInt(strings.TrimPrefix(gi.AvatarHash, "tg"), 10, 64)
	if err != nil {
		return gateway.Avatar{}, fmt.Errorf("telegram: avatar hash %q: %w", gi.AvatarHash, err)
	}
	api, err := s.client()
	if err != nil {
		return gateway.Avatar{}, err
	}
	peer, err := s.inputPeer(ctx, chat)
	if err != nil {
		return gateway.Avatar{}, err
	}
	buf := &cappedBuffer{max: maxAvatarSize}
	loc := &tg.InputPeerPhotoFileLocation{Big: true, Peer: peer, PhotoID: photoID}
	if _, err := downloader.NewDownloader().Download(api, loc).Stream(ctx, buf); err != nil {
		return gateway.Avatar{}, fmt.Errorf("telegram: download the photo of %s: %w", chat, err)
	}
	return gateway.Avatar{Hash: gi.AvatarHash, MIMEType: "image/jpeg", Data: buf.Bytes()}, nil
}
