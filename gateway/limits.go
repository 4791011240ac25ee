package gateway

import (
	"fmt"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/ratelimit"
)

// Rate is a sustained rate per minute with a burst; the zero Rate is no
// limit. See ratelimit.Rate.
type Rate = ratelimit.Rate

// RateLimit is a rate for each bare JID and one for everybody together.
type RateLimit struct {
	PerJID, Global Rate
}

// Limits bound what users may make the hub do. The zero value is no limit.
type Limits struct {
	// Messages limits SendMessage; Registrations new registrations;
	// Logins StartLogin.
	Messages, Registrations, Logins RateLimit
	// MaxBodySize is the longest body in bytes (0: no limit).
	MaxBodySize int
	// MaxAttachments is the most attachments per message (0: no limit).
	MaxAttachments int
	// Now is the limiters' clock; nil means time.Now.
	Now func() time.Time
}

// limits holds the hub's limiters.
type limits struct {
	cfg                             Limits
	messages, registrations, logins *ratelimit.Limiter
}

// newLimits makes the limiters of l. A limiter of prev whose rates l keeps
// is kept, with its buckets, so that a reload does not hand everybody a
// fresh burst.
func newLimits(l Limits, prev *limits) *limits {
	mk := func(r RateLimit, old RateLimit, oldLim *ratelimit.Limiter) *ratelimit.Limiter {
		if r.PerJID.Unlimited() && r.Global.Unlimited() {
			return nil
		}
		if prev != nil && oldLim != nil && r == old {
			return oldLim
		}
		return ratelimit.New(r.PerJID, r.Global, l.Now)
	}
	if prev == nil {
		prev = &limits{}
	}
	return &limits{
		cfg:           l,
		messages:      mk(l.Messages, prev.cfg.Messages, prev.messages),
		registrations: mk(l.Registrations, prev.cfg.Registrations, prev.registrations),
		logins:        mk(l.Logins, prev.cfg.Logins, prev.logins),
	}
}

// SetLimits replaces the hub's limits while it runs (a configuration
// reload). Rate limiters whose rates do not change keep their state;
// l.Now is taken from the limits the hub was made with when nil.
func (g *Gateway) SetLimits(l Limits) {
	prev := g.limits.Load()
	if l.Now == nil {
		l.Now = prev.cfg.Now
	}
	g.limits.Store(newLimits(l, prev))
}

// allow takes a token from lim for owner: ErrTooFast when owner is over its
// own rate, ErrRateLimited when everybody together is.
func allow(lim *ratelimit.Limiter, r RateLimit, owner ids.Owner, what string) error {
	switch lim.Take(string(owner)) {
	case ratelimit.KeyLimited:
		return fmt.Errorf("too many %s from %s (at most %d a minute): %w", what, owner, r.PerJID.PerMinute, ErrTooFast)
	case ratelimit.GlobalLimited:
		return fmt.Errorf("the gateway is handling too many %s right now; try again shortly: %w", what, ErrRateLimited)
	}
	return nil
}

// checkMessage is the one check of an outbound message (SendMessage,
// EditMessage) before the adapter sees it, in this order: the hub's limits
// (body size, number of attachments: ErrOverLimit), then what the chat's
// platform takes (caps, see checkCapabilities), then owner's message rate
// (unless rate is false: AdmitMessage took the token), last so that a
// refused message costs no token. Attachments are checked
// against caps once more after their download (fetchAttachments), when
// their real size and type are known.
func (g *Gateway) checkMessage(owner ids.Owner, caps Capabilities, msg *event.Message, rate bool) error {
	if err := g.checkMessageSize(len(msg.Body), len(msg.Attachments)); err != nil {
		return err
	}
	if err := checkCapabilities(caps, msg); err != nil {
		return err
	}
	if !rate {
		return nil
	}
	return g.checkMessageRate(owner)
}

// AdmitMessage makes the checks of a new message that its sender's
// stanza alone allows, before the frontend queues it for handling: owner
// has linked an account on platform, the body (bodyBytes, 0 if it is not
// known yet) and the number of files are within the hub's limits, and
// owner is within its message rate, whose token it takes. A frontend
// calls it on its read path, so it must stay cheap: it touches neither the
// store nor the adapter. A message admitted is sent with
// SendOptions.Admitted, so that the token is not taken twice.
func (g *Gateway) AdmitMessage(owner ids.Owner, platform ids.PlatformID, bodyBytes, attachments int) error {
	if _, err := g.session(owner, platform); err != nil {
		return err
	}
	if err := g.checkMessageSize(bodyBytes, attachments); err != nil {
		return err
	}
	return g.checkMessageRate(owner)
}

// checkMessageRate is the rate check of reactions, which count as
// messages.
func (g *Gateway) checkMessageRate(owner ids.Owner) error {
	lim := g.limits.Load()
	return allow(lim.messages, lim.cfg.Messages, owner, "messages")
}

// MaxStanzaIDLen is the longest XMPP stanza id, in bytes, that the hub
// takes: a message's id and XEP-0359 origin-id, and the ids a correction
// names. The hub keeps these ids as keys of its id map for days, so a
// longer one is refused (ErrBadRequest, the sender sees bad-request)
// rather than stored; hashing it instead would keep the store small too,
// but a refusal tells the client why. Clients use ids of a few dozen bytes.
const MaxStanzaIDLen = 256

// CheckStanzaIDs refuses ids longer than MaxStanzaIDLen with ErrBadRequest.
func CheckStanzaIDs(xmppIDs ...string) error {
	for _, id := range xmppIDs {
		if len(id) > MaxStanzaIDLen {
			return fmt.Errorf("a stanza id of %d bytes is over the limit of %d: %w", len(id), MaxStanzaIDLen, ErrBadRequest)
		}
	}
	return nil
}

// checkRegistrationRate is Register's rate check for new registrations.
func (g *Gateway) checkRegistrationRate(owner ids.Owner) error {
	lim := g.limits.Load()
	return allow(lim.registrations, lim.cfg.Registrations, owner, "registrations")
}

// checkLoginRate is StartLogin's rate check.
func (g *Gateway) checkLoginRate(owner ids.Owner) error {
	lim := g.limits.Load()
	return allow(lim.logins, lim.cfg.Logins, owner, "login attempts")
}

// checkMessageSize refuses a body or attachment list over the limits.
func (g *Gateway) checkMessageSize(bodyBytes, attachments int) error {
	c := g.limits.Load().cfg
	if c.MaxBodySize > 0 && bodyBytes > c.MaxBodySize {
		return fmt.Errorf("message body of %d bytes is over the limit of %d: %w", bodyBytes, c.MaxBodySize, ErrOverLimit)
	}
	if c.MaxAttachments > 0 && attachments > c.MaxAttachments {
		return fmt.Errorf("%d attachments are over the limit of %d per message: %w", attachments, c.MaxAttachments, ErrOverLimit)
	}
	return nil
}
