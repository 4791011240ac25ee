package xmppcomponent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// Directives of the one-to-one core (presence, avatars, disco, IQs,
// delivery, queued sends, malformed stanzas):
//
//	!avatar USER MIME BASE64   the hub has this picture for USER
//	!avatar USER none          USER has no picture (USER may be a group's
//	                           chat id: its room's picture)
//	!sendfailed OWNER ERROR TAG {Message JSON}
//	                           the hub gave up on a queued message; TAG is
//	                           the send tag (one token, - for none)
//	!undecodable {stream.Undecodable JSON}
//	                           the stream skipped a stanza it could not parse
func init() {
	scriptErrors["queued"] = gateway.ErrQueued
	scriptErrors["not-registered"] = gateway.ErrNotRegistered

	scriptDirectives["avatar"] = func(_ context.Context, s *script, args []string, _ string) error {
		if len(args) < 2 {
			return fmt.Errorf("avatar needs USER and MIME BASE64, or none")
		}
		h := pictureHubOf(s)
		user := ids.UserID(args[0])
		if args[1] == "none" {
			h.setPicture(user, gateway.Avatar{})
			return nil
		}
		if len(args) < 3 {
			return fmt.Errorf("avatar needs USER MIME BASE64")
		}
		data, err := base64.StdEncoding.DecodeString(args[2])
		if err != nil {
			return err
		}
		h.setPicture(user, gateway.Avatar{Hash: "h-" + args[0], MIMEType: args[1], Data: data})
		return nil
	}
	scriptDirectives["sendfailed"] = func(ctx context.Context, s *script, args []string, rest string) error {
		if len(args) < 4 {
			return fmt.Errorf("sendfailed needs OWNER ERROR TAG {Message JSON}")
		}
		e, ok := scriptErrors[args[1]]
		if !ok || e == nil {
			return fmt.Errorf("unknown error %q", args[1])
		}
		tag := args[2]
		if tag == "-" {
			tag = ""
		}
		var msg event.Message
		if err := json.Unmarshal([]byte(afterFields(rest, 3)), &msg); err != nil {
			return err
		}
		s.c.SendFailed(ctx, ids.Owner(args[0]), fakePlatform, &msg, nil, tag, e)
		return nil
	}
	scriptDirectives["undecodable"] = func(ctx context.Context, s *script, _ []string, rest string) error {
		var u stream.Undecodable
		if err := json.Unmarshal([]byte(rest), &u); err != nil {
			return err
		}
		s.c.Handle(ctx, u)
		return nil
	}
}

// afterFields is s without its first n fields.
func afterFields(s string, n int) string {
	for range n {
		s = strings.TrimLeft(s, " \t")
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			s = s[i:]
		} else {
			s = ""
		}
	}
	return strings.TrimSpace(s)
}

// pictureHub is the fake hub with contacts' and groups' pictures: Avatar
// and GroupAvatar answer from pictures (a group's under its chat id)
// instead of refusing.
type pictureHub struct {
	*fakeHub
	pmu      sync.Mutex
	pictures map[ids.UserID]gateway.Avatar
}

// pictureHubOf puts a pictureHub in front of the script's fake hub.
func pictureHubOf(s *script) *pictureHub {
	if h, ok := s.c.gw.(*pictureHub); ok {
		return h
	}
	h := &pictureHub{fakeHub: s.hub, pictures: make(map[ids.UserID]gateway.Avatar)}
	s.c.gw = h
	return h
}

func (h *pictureHub) setPicture(user ids.UserID, a gateway.Avatar) {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	h.pictures[user] = a
}

func (h *pictureHub) Avatar(_ context.Context, owner ids.Owner, _ ids.PlatformID, user ids.UserID) (gateway.Avatar, error) {
	if err := h.record("Avatar", owner, user); err != nil {
		return gateway.Avatar{}, err
	}
	if err := h.linked(owner); err != nil {
		return gateway.Avatar{}, err
	}
	h.pmu.Lock()
	defer h.pmu.Unlock()
	a, ok := h.pictures[user]
	if !ok {
		return gateway.Avatar{}, fmt.Errorf("no picture of %s: %w", user, gateway.ErrTargetNotFound)
	}
	return a, nil
}

func (h *pictureHub) GroupAvatar(_ context.Context, owner ids.Owner, _ ids.PlatformID, chat ids.ChatID) (gateway.Avatar, error) {
	if err := h.record("GroupAvatar", owner, chat); err != nil {
		return gateway.Avatar{}, err
	}
	if err := h.linked(owner); err != nil {
		return gateway.Avatar{}, err
	}
	h.pmu.Lock()
	defer h.pmu.Unlock()
	a, ok := h.pictures[ids.UserID(chat)]
	if !ok {
		return gateway.Avatar{}, fmt.Errorf("no picture of group %s: %w", chat, gateway.ErrUnknownChat)
	}
	return a, nil
}
