package xmppcomponent

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// avatarState is what the component knows of a contact's picture: the
// platform's latest hash (want), whose fetch may be under way; whether
// the picture known is the one for want (fetched); and the SHA-1 of that
// image, which XEP-0153 puts in presence (none when the contact has no
// picture). The SHA-1 is kept as bytes (20, not 40 in hex) and made text
// when a presence is written; the hash of an older picture is not kept.
type avatarState struct {
	// want is the latest hash from the platform; a fetch that ends after
	// a newer one arrived is stale and dropped.
	want       string
	sha1       [sha1.Size]byte
	hasPicture bool
	known      bool
	fetched    bool
	fetching   bool
}

// maxAvatarFetches bounds concurrent avatar downloads.
const maxAvatarFetches = 4

// avatarChanged notes a contact's avatar hash from the platform and, when it
// changed, fetches the picture in the background and announces its XEP-0153
// hash with a fresh presence. A removed picture is announced at once (an
// empty photo), so that clients drop the one they show. A hash whose fetch
// is under way is not fetched again; a fetch that failed is tried again at
// the next change notice.
func (c *Component) avatarChanged(ctx context.Context, owner ids.Owner, user ids.UserID, platformHash string) {
	c.mu.Lock()
	st := c.contact(owner, user).avatar
	if st.want == platformHash && (st.fetching || st.known && st.fetched) {
		c.mu.Unlock()
		return
	}
	if platformHash == "" {
		hadPicture := st.known && st.hasPicture
		c.updateContact(owner, user, func(s *contactState) { s.avatar = avatarState{known: true, fetched: true} })
		c.mu.Unlock()
		if hadPicture {
			c.pushContactPresence(ctx, owner, user)
		}
		return
	}
	st.want, st.fetching, st.fetched = platformHash, true, false
	c.updateContact(owner, user, func(s *contactState) { s.avatar = st })
	c.avatarq.pending = append(c.avatarq.pending, avatarJob{owner, user, platformHash})
	start := c.avatarq.workers < maxAvatarFetches
	if start {
		c.avatarq.workers++
	}
	c.mu.Unlock()
	if start {
		go c.fetchAvatars()
	}
}

// avatarQueue holds the avatar fetches waiting for one of the at most
// maxAvatarFetches workers. A queue, not a goroutine per fetch: at
// start-up every contact of every account announces its picture at once
// (40 000 for 10 000 accounts), and each parked goroutine's descriptor
// stays allocated for the life of the process.
type avatarQueue struct {
	pending []avatarJob
	workers int
}

// avatarJob is one picture to fetch.
type avatarJob struct {
	owner        ids.Owner
	user         ids.UserID
	platformHash string
}

// fetchAvatars is a worker: it fetches the queued pictures one after the
// other and ends when the queue is empty.
func (c *Component) fetchAvatars() {
	for {
		c.mu.Lock()
		if len(c.avatarq.pending) == 0 {
			c.avatarq.workers--
			c.avatarq.pending = nil // the start-up burst's array goes
			c.mu.Unlock()
			return
		}
		job := c.avatarq.pending[0]
		c.avatarq.pending[0] = avatarJob{}
		c.avatarq.pending = c.avatarq.pending[1:]
		c.mu.Unlock()
		c.fetchAvatar(job.owner, job.user, job.platformHash)
	}
}

// fetchAvatar fetches one contact's picture and announces its hash, unless
// a newer hash arrived meanwhile.
func (c *Component) fetchAvatar(owner ids.Owner, user ids.UserID, platformHash string) {
	ctx, cancel := context.WithTimeout(context.Background(), loginFollowLimit)
	defer cancel()
	c.mu.Lock()
	stale := c.contact(owner, user).avatar.want != platformHash
	c.mu.Unlock()
	if stale {
		return // a newer hash arrived while this one waited
	}
	a, err := c.gw.Avatar(ctx, owner, c.cfg.Platform, user)
	c.mu.Lock()
	st := c.contact(owner, user).avatar
	if st.want != platformHash {
		c.mu.Unlock() // a newer hash arrived meanwhile
		return
	}
	st.fetching = false
	if err == nil {
		st.fetched, st.known = true, true
		st.sha1, st.hasPicture = [sha1.Size]byte{}, len(a.Data) > 0
		if st.hasPicture {
			st.sha1 = sha1.Sum(a.Data)
		}
	}
	c.updateContact(owner, user, func(s *contactState) { s.avatar = st })
	c.mu.Unlock()
	if err != nil {
		if !errors.Is(err, gateway.ErrNotSupported) {
			c.log.Warn("cannot fetch avatar", "owner", owner, "user", user, "err", err)
		}
		return
	}
	c.pushContactPresence(ctx, owner, user)
}

// avatarUpdate is the XEP-0153 element for a contact's presence, or nil
// when the picture is not known yet.
func (c *Component) avatarUpdate(owner ids.Owner, user ids.UserID) *xep.VCardUpdate {
	c.mu.Lock()
	st := c.contact(owner, user).avatar
	c.mu.Unlock()
	if !st.known {
		return nil
	}
	h := ""
	if st.hasPicture {
		h = hex.EncodeToString(st.sha1[:])
	}
	return &xep.VCardUpdate{Photo: &h}
}

// onVCard answers a vcard-temp request for a contact: name, number and
// picture.
func (c *Component) onVCard(ctx context.Context, iq *stanza.IQ, from, to jid.JID) {
	owner := Owner(from)
	card := &xep.VCard{}
	if c.isGateway(to) {
		card.FN = c.cfg.Name + " (" + c.info.Name + ")"
		c.replyIQ(ctx, iq, card)
		return
	}
	user, err := c.addr.UserOf(to)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	card.FN = string(user)
	if ct, err := c.gw.Contact(ctx, owner, c.cfg.Platform, user); err == nil && ct.Name != "" {
		card.FN, card.Nickname = ct.Name, ct.Name
	}
	if p, err := gateway.NormalizePhone(string(user)); err == nil {
		card.Tel = &xep.VCardTel{Cell: &struct{}{}, Number: p}
	}
	a, err := c.gw.Avatar(ctx, owner, c.cfg.Platform, user)
	switch {
	case err == nil && len(a.Data) > 0:
		card.Photo = &xep.VCardPhoto{Type: a.MIMEType, BinVal: base64.StdEncoding.EncodeToString(a.Data)}
	case err != nil && !errors.Is(err, gateway.ErrNotSupported) && !errors.Is(err, gateway.ErrNotLinked):
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, card)
}
