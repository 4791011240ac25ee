package telegram

import (
	"context"
	"errors"
	"strconv"

	"github.com/gotd/td/session"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Keys of the account's KV space (the host's; sealed at rest when
// store.encryption_key is set).
const (
	// keySession is gotd's session: the auth key, its DC and salt.
	keySession = "session"
	// keyPts is the last update state applied (pts), in decimal.
	keyPts = "pts"
	// keySeq is the last sequence number (seq) of update containers
	// applied, in decimal.
	keySeq = "seq"
	// keyDate is the date of the update state, in Unix seconds: the
	// difference of sequenced updates is asked from it.
	keyDate = "date"
	// keyPeerPrefix + user id is the user's access hash, in decimal.
	keyPeerPrefix = "peer:"
	// keyMsgPrefix + message id is the chat of the message and "o" or
	// "i" (outgoing, incoming): deletions name only message ids.
	keyMsgPrefix = "msg:"
	// keyChanPrefix + channel id is the channel's access hash, in decimal.
	keyChanPrefix = "chan:"
	// keyChanPtsPrefix + channel id is the channel's update state (pts).
	keyChanPtsPrefix = "chanpts:"
	// keyChannels lists the channels with an update state, by id.
	keyChannels = "channels"
	// keyChanMsgPrefix + channel id + ":" + message id is a channel
	// message's record (as keyMsgPrefix's): its room (a forum topic's)
	// and author, for deletions.
	keyChanMsgPrefix = "cmsg:"
)

// kvStorage keeps gotd's session in the account's KV.
type kvStorage struct{ kv gateway.AccountKV }

var _ session.Storage = kvStorage{}

// LoadSession implements session.Storage.
func (s kvStorage) LoadSession(ctx context.Context) ([]byte, error) {
	b, err := s.kv.Get(ctx, keySession)
	if errors.Is(err, store.ErrNotFound) {
		return nil, session.ErrNotFound
	}
	return b, err
}

// StoreSession implements session.Storage.
func (s kvStorage) StoreSession(ctx context.Context, data []byte) error {
	return s.kv.Set(ctx, keySession, data)
}

// getInt reads a decimal value; 0 if absent.
func getInt(ctx context.Context, kv gateway.AccountKV, key string) (int64, error) {
	b, err := kv.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func setInt(ctx context.Context, kv gateway.AccountKV, key string, v int64) error {
	return kv.Set(ctx, key, []byte(strconv.FormatInt(v, 10)))
}
