package xmppcomponent

// XEP-0356 (Privileged Entity): when the user's server grants the component
// roster and message privileges, contacts go straight into the user's
// roster (no subscription request to approve), and messages the user sent
// from their phone are sent by the server as the user's own, so every
// client of theirs gets a carbon and the server archives them.
//
// What Prosody's mod_privilege (Debian prosody-modules, 2023-02, namespace
// urn:xmpp:privilege:2) does, read from its source and checked end to end:
//   - Right after the component's handshake it sends, from each VirtualHost
//     that configures privileged_entities for the component, a message
//     <privilege><perm access='roster' type='both'/><perm access='message'
//     type='outgoing'/></privilege> (perms that are "none" are left out;
//     nothing at all is sent when the component is not configured). The
//     module must be loaded on the component's host too: the advertisement
//     hangs off its component-authenticated event.
//   - A roster set from the component to a local user's bare JID is
//     applied as given — subscription='both' is stored even though no
//     subscription ever happened — the user's clients get a roster push,
//     and the reply comes from the user's bare JID. Every item of a set
//     gets its own reply, so sets carry one item.
//   - A message to the host domain wrapping <forwarded><message
//     xmlns='jabber:client' from='user@host' ...> is posted as if the user
//     had sent it from a client without a resource: carbons (to every
//     resource that enabled them), archiving, and normal routing — which
//     brings the message back to this component, since it is addressed to
//     a contact JID. Those copies are recognised and dropped here.
//   - Privileges live on the component's session: they are advertised
//     again at every connection, and withdrawn privileges take effect at
//     the next one. Grants are therefore kept per connection.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// fromPhoneMarker starts the body of a message the user sent from their
// phone when it has to be delivered from the contact's JID (no message
// privilege). ownMessage removes it again.
const fromPhoneMarker = "[sent from your phone] "

const (
	// rosterPushTimeout bounds the wait for the server's answer to one
	// privileged roster set.
	rosterPushTimeout = 10 * time.Second
	// echoTTL is how long a message sent on a user's behalf waits for the
	// server to route it back to the component.
	echoTTL = 2 * time.Minute
)

// RosterItem is a contact to put in a user's roster.
type RosterItem struct {
	// User is the platform user; the item's JID is its contact JID.
	User ids.UserID
	// Name is the roster name (empty: none).
	Name string
	// Groups are the roster groups; none means one group named after the
	// platform.
	Groups []string
}

// privileges is what the servers granted the component (XEP-0356), per
// server domain, and the bookkeeping of messages sent on users' behalf.
// The zero value is ready to use.
type privileges struct {
	mu sync.Mutex
	// hosts maps a server domain (lower case) to what it granted.
	hosts map[string]privilegeGrant
	// echoes are the messages sent on users' behalf that the server will
	// route back to the component, with when they were sent.
	echoes map[echoKey]time.Time
	// wrappers maps the id of a wrapper message to the domain it went to,
	// to recognise the server's error reply.
	wrappers map[string]wrapperInfo
}

// privilegeGrant is one server's advertisement.
type privilegeGrant struct {
	ns      string // the namespace it was advertised in
	roster  string // none, get, set or both
	message string // none or outgoing
	conn    uint64 // the connection (Conn's connect count) it came on
}

type echoKey struct {
	owner, to, id string
}

type wrapperInfo struct {
	host string
	sent time.Time
}

// grant returns what host granted on connection conn.
func (p *privileges) grant(host string, conn uint64) (privilegeGrant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.hosts[strings.ToLower(host)]
	if !ok || g.conn != conn {
		return privilegeGrant{}, false
	}
	return g, true
}

func (p *privileges) set(host string, g privilegeGrant) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hosts == nil {
		p.hosts = make(map[string]privilegeGrant)
	}
	p.hosts[strings.ToLower(host)] = g
}

// revoke withdraws one access of host locally (the server refused it).
func (p *privileges) revoke(host, access string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.hosts[strings.ToLower(host)]
	if !ok {
		return
	}
	switch access {
	case xep.AccessRoster:
		g.roster = xep.PermNone
	case xep.AccessMessage:
		g.message = xep.PermNone
	}
	p.hosts[strings.ToLower(host)] = g
}

// expect records a message sent on owner's behalf to contact (the server
// routes it back) in wrapper wrapperID to host.
func (p *privileges) expect(k echoKey, wrapperID, host string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.echoes == nil {
		p.echoes = make(map[echoKey]time.Time)
		p.wrappers = make(map[string]wrapperInfo)
	}
	for e, t := range p.echoes {
		if now.Sub(t) > echoTTL {
			delete(p.echoes, e)
		}
	}
	for id, w := range p.wrappers {
		if now.Sub(w.sent) > echoTTL {
			delete(p.wrappers, id)
		}
	}
	p.echoes[k] = now
	p.wrappers[wrapperID] = wrapperInfo{host: host, sent: now}
}

// forget drops what expect recorded (the wrapper was never sent).
func (p *privileges) forget(k echoKey, wrapperID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.echoes, k)
	delete(p.wrappers, wrapperID)
}

// takeEcho reports whether k is a message the component sent on a user's
// behalf, and forgets it.
func (p *privileges) takeEcho(k echoKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.echoes[k]; !ok {
		return false
	}
	delete(p.echoes, k)
	return true
}

// takeWrapper returns the host a wrapper message went to, and forgets it.
func (p *privileges) takeWrapper(id string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.wrappers[id]
	delete(p.wrappers, id)
	return w.host, ok
}

// connNumber identifies the component's current connection: grants are
// valid on the connection that advertised them. The count goes up before
// the first stanza of a connection is read.
func (c *Component) connNumber() uint64 {
	if c.connects == nil {
		return 0
	}
	return c.connects()
}

// onPrivilege handles the XEP-0356 traffic among the messages the
// component receives, and reports whether it consumed m:
//   - a server's privilege advertisement (a <privilege/> with perms, from a
//     bare domain, to the component's own JID) is recorded for that domain;
//   - the error a server returns for a message sent on a user's behalf
//     withdraws the message privilege until the next advertisement;
//   - the copy of a message sent on a user's behalf, which the server
//     routes to the contact JID like any message of the user, is dropped
//     (else it would go to the platform a second time).
//
// onMessage calls it first.
//
// A remote server could advertise privileges too (for its own domain
// only: s2s authenticates the sending domain). That would only make the
// component send that server's users' contacts and phone messages to that
// same server, which is where they go anyway.
func (c *Component) onPrivilege(_ context.Context, m stanza.Message) bool {
	if m.Type == stanza.MessageTypeError {
		return c.wrapperBounced(m)
	}
	for _, ext := range m.Extensions {
		if p, ok := ext.(*xep.Privilege); ok && p.Forwarded == nil {
			return c.recordGrant(m, p)
		}
	}
	// The server's copy comes from the user's bare JID; what clients send
	// comes from full JIDs, and is done with here without parsing.
	if m.Id == "" || strings.Contains(m.From, "/") || !strings.Contains(m.From, "@") {
		return false
	}
	if c.priv.takeEcho(echoKeyOf(m.From, bareString(m.To), m.Id)) {
		c.log.Debug("dropping the server's copy of a message sent on the user's behalf", "owner", m.From, "to", m.To, "id", m.Id)
		return true
	}
	return false
}

// recordGrant records a privilege advertisement, if it comes from a server
// (a bare domain) to the component's own JID.
func (c *Component) recordGrant(m stanza.Message, adv *xep.Privilege) bool {
	from, ferr := jid.Parse(m.From)
	to, terr := jid.Parse(m.To)
	if ferr != nil || terr != nil || from.Localpart() != "" || from.Resourcepart() != "" ||
		!strings.EqualFold(to.Bare().String(), c.domain) {
		c.log.Debug("ignoring a privilege advertisement that is not from a server to the component", "from", m.From, "to", m.To)
		return false
	}
	g := privilegeGrant{ns: adv.XMLName.Space, roster: xep.PermNone, message: xep.PermNone, conn: c.connNumber()}
	if pm, ok := adv.Perm(xep.AccessRoster); ok && pm.Type != "" {
		g.roster = pm.Type
	}
	if pm, ok := adv.Perm(xep.AccessMessage); ok && pm.Type != "" {
		g.message = pm.Type
	}
	c.priv.set(from.Domainpart(), g)
	c.log.Info("server grants privileges (XEP-0356)", "server", from.Domainpart(), "namespace", g.ns, "roster", g.roster, "message", g.message)
	return true
}

// wrapperBounced handles the server's error reply to a message sent on a
// user's behalf: the message privilege is withdrawn until the next
// advertisement.
func (c *Component) wrapperBounced(m stanza.Message) bool {
	host, ok := c.priv.takeWrapper(m.Id)
	if !ok || !strings.EqualFold(m.From, host) {
		return false
	}
	c.priv.revoke(host, xep.AccessMessage)
	c.log.Warn("the server refused a message sent on a user's behalf (XEP-0356); delivering from contact JIDs until it grants the message privilege again",
		"server", host, "id", m.Id, "error", m.Error.Reason, "text", m.Error.Text)
	return true
}

func echoKeyOf(owner, to, id string) echoKey {
	return echoKey{owner: strings.ToLower(owner), to: strings.ToLower(to), id: id}
}

// ownerHost is the domain of owner's server, where privileges are granted.
func ownerHost(owner ids.Owner) (string, error) {
	j, err := jid.Parse(string(owner))
	if err != nil {
		return "", fmt.Errorf("owner %q: %w", owner, err)
	}
	return j.Domainpart(), nil
}

// rosterPrivileged reports whether owner's server lets the component edit
// rosters (XEP-0356 roster access set or both) on the current connection.
func (c *Component) rosterPrivileged(owner ids.Owner) bool {
	host, err := ownerHost(owner)
	if err != nil {
		return false
	}
	g, ok := c.priv.grant(host, c.connNumber())
	return ok && (g.roster == xep.PermSet || g.roster == xep.PermBoth)
}

// messagePrivileged returns the server domain and privilege namespace to
// send owner's messages through, if the server granted the outgoing
// message privilege on the current connection.
func (c *Component) messagePrivileged(owner ids.Owner) (host, ns string, ok bool) {
	host, err := ownerHost(owner)
	if err != nil {
		return "", "", false
	}
	g, ok := c.priv.grant(host, c.connNumber())
	if !ok || g.message != xep.PermOutgoing {
		return "", "", false
	}
	return host, g.ns, true
}

// iqSender is a stanza writer that can wait for IQ replies (*Conn).
type iqSender interface {
	SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error)
}

// sendIQ sends a get or set through the component's writer and waits for
// the reply.
func (c *Component) sendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	s, ok := c.out.(iqSender)
	if !ok {
		return nil, errors.New("xmppcomponent: the stanza writer cannot wait for IQ replies")
	}
	return s.SendIQ(ctx, iq)
}

// pushRoster adds items to owner's roster with a privileged roster set
// (XEP-0356) per item, subscription both, and waits for each answer; the
// server pushes each change to owner's clients. It stops at the first
// failure. A forbidden answer withdraws the roster privilege until the
// next advertisement. Callers check rosterPrivileged first.
func (c *Component) pushRoster(ctx context.Context, owner ids.Owner, items []RosterItem) error {
	for _, it := range items {
		groups := it.Groups
		if len(groups) == 0 {
			groups = []string{c.info.Name}
		}
		contact := c.addr.UserJID(it.User)
		iq := &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeSet, From: c.domain, To: string(owner)}}
		iq.RosterItems().AddItem(contact, stanza.SubscriptionBoth, "", it.Name, groups)
		ictx, cancel := context.WithTimeout(ctx, rosterPushTimeout)
		_, err := c.sendIQ(ictx, iq)
		cancel()
		if err != nil {
			var iqErr *stream.IQError
			if errors.As(err, &iqErr) && (iqErr.Condition == "forbidden" || iqErr.Condition == "not-authorized") {
				if host, herr := ownerHost(owner); herr == nil {
					c.priv.revoke(host, xep.AccessRoster)
				}
			}
			return fmt.Errorf("privileged roster push of %s to %s: %w", contact, owner, err)
		}
	}
	return nil
}

// addToRoster puts a contact in owner's roster through the privileged
// roster push when the server allows it, records the contact as
// subscribed and sends its presence. It reports false, having done
// nothing, when the privilege is not granted or the push failed (logged);
// the caller then asks for a subscription instead.
func (c *Component) addToRoster(ctx context.Context, owner ids.Owner, user ids.UserID, name string) bool {
	if !c.rosterPrivileged(owner) {
		return false
	}
	if err := c.pushRoster(ctx, owner, []RosterItem{{User: user, Name: name}}); err != nil {
		c.log.Warn("privileged roster push failed; asking for a subscription instead", "owner", owner, "user", user, "err", err)
		return false
	}
	c.setSubscribed(ctx, owner, user, true)
	c.sendContactPresence(ctx, owner, user)
	return true
}

// sendAsOwner has owner's server send msg as owner's own message
// (XEP-0356 message privilege): msg is what the user sent, addressed to a
// contact JID (msg.To); its From is set to owner's bare JID, a missing type
// to chat and a missing id to a new one. The server delivers it like a
// message from one of owner's clients: carbons to all of them, archiving,
// routing to the contact (that copy comes back to the component and is
// dropped by onPrivilege). msg is not modified.
//
// It returns false, having sent nothing, when the server did not grant
// the privilege: the caller falls back to a marked message from the
// contact. An error means the stanza could not be queued.
func (c *Component) sendAsOwner(ctx context.Context, out deliverySender, owner ids.Owner, msg *stanza.Message) (bool, error) {
	host, ns, ok := c.messagePrivileged(owner)
	if !ok {
		return false, nil
	}
	to, err := jid.Parse(msg.To)
	if err != nil {
		return false, fmt.Errorf("message on behalf of %s: bad to %q: %w", owner, msg.To, err)
	}
	inner := *msg
	inner.XMLName = xml.Name{Space: xep.NSClient, Local: "message"}
	inner.From = string(owner)
	if inner.Type == "" {
		inner.Type = stanza.MessageTypeChat
	}
	if inner.Id == "" {
		inner.Id = newID()
	}
	wrapper := &stanza.Message{
		XMLName: xml.Name{Local: "message"},
		Attrs:   stanza.Attrs{From: c.domain, To: host, Id: newID()},
		Extensions: []stanza.MsgExtension{&xep.Privilege{
			XMLName:   xml.Name{Space: ns, Local: "privilege"},
			Forwarded: &xep.Forwarded{Message: &xep.ClientMessage{Message: inner}},
		}},
	}
	k := echoKeyOf(string(owner), to.Bare().String(), inner.Id)
	c.priv.expect(k, wrapper.Id, host, time.Now())
	if err := out.send(ctx, wrapper); err != nil {
		c.priv.forget(k, wrapper.Id)
		return false, fmt.Errorf("message on behalf of %s through %s: %w", owner, host, err)
	}
	return true, nil
}

// ownMessage turns a stanza built for delivery to its To (the owner), from
// a contact JID, into the message the owner sent to that contact: From and
// To swapped (To the contact's bare JID, as clients address it) and the
// fallback marker removed from the body. msg is not
// modified.
func ownMessage(msg *stanza.Message) *stanza.Message {
	own := *msg
	own.From, own.To = msg.To, bareString(msg.From)
	own.Body = strings.Replace(own.Body, fromPhoneMarker, "", 1)
	return &own
}

// deliverStanza sends msg, a stanza built for owner from a contact JID.
// When fromMe (the user did it on their phone) and the server granted the
// message privilege, it goes out as the owner's own message to the contact
// (ownMessage, sendAsOwner) instead.
func (c *Component) deliverStanza(ctx context.Context, out deliverySender, owner ids.Owner, fromMe bool, msg *stanza.Message) error {
	if fromMe {
		if sent, err := c.sendAsOwner(ctx, out, owner, ownMessage(msg)); sent || err != nil {
			return err
		}
	}
	return out.send(ctx, msg)
}
