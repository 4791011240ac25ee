package sandbox

import (
	"fmt"
	"slices"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// account is a user who signed up, with its linked devices.
type account struct {
	id      ids.AccountID
	devices []*device
	// learned are contacts beyond the seeded users, in the order they
	// first exchanged a message with the account; known holds the same
	// (nil until the first). Platform.contactOf is the reverse.
	learned []ids.UserID
	known   map[ids.UserID]bool
	// revoked device tokens: unlinked devices that may not come back
	// (nil until the first).
	revoked map[string]bool
}

// UnlinkDevices removes every linked device of account, as "log out of all
// devices" on the phone does. Connected sessions report
// event.StateLoggedOut and forget their credentials; the others do so when
// they next connect.
func (p *Platform) UnlinkDevices(acct ids.AccountID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[acct]
	if a == nil {
		return fmt.Errorf("sandbox: account %s has not signed up: %w", acct, gateway.ErrNotLinked)
	}
	for _, d := range a.devices {
		p.revokeLocked(a, d)
	}
	a.devices = nil
	return nil
}

// signUp makes phone an account (if it is not one yet) and links a new
// device to it.
func (p *Platform) signUp(phone string) (*device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := ids.UserID(phone)
	if u := p.users[id]; u != nil && u.kind == KindBot {
		return nil, fmt.Errorf("sandbox: %s is a bot and cannot be linked: %w", phone, gateway.ErrBadRequest)
	}
	a := p.accountLocked(ids.AccountID(phone))
	var token string
	for {
		p.devSeq++
		token = fmt.Sprintf("sbdev-%d", p.devSeq)
		if !a.revoked[token] && a.device(token) == nil {
			break
		}
	}
	d := newDevice(a.id, token)
	a.devices = append(a.devices, d)
	return d, nil
}

// device returns the device of a with token.
func (a *account) device(token string) *device {
	for _, d := range a.devices {
		if d.token == token {
			return d
		}
	}
	return nil
}

// resume finds the device that token names. The platform keeps its state in
// memory, so an account or device it does not know (the gateway restarted)
// signs up again; only a device that was unlinked is refused.
func (p *Platform) resume(acct ids.AccountID, token string) (*device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[ids.UserID(acct)]; u != nil && u.kind == KindBot {
		return nil, fmt.Errorf("sandbox: %s is a bot: %w", acct, gateway.ErrNotLinked)
	}
	a := p.accountLocked(acct)
	if a.revoked[token] {
		return nil, fmt.Errorf("sandbox: the device of %s was unlinked: %w", acct, gateway.ErrNotLinked)
	}
	if d := a.device(token); d != nil {
		return d, nil
	}
	d := newDevice(acct, token)
	a.devices = append(a.devices, d)
	return d, nil
}

// accountLocked returns the account acct, signing it up if needed.
func (p *Platform) accountLocked(acct ids.AccountID) *account {
	if a := p.accounts[acct]; a != nil {
		return a
	}
	id := ids.UserID(acct)
	if p.users[id] == nil {
		p.users[id] = &user{id: id, name: string(acct), kind: KindAccount}
	}
	a := &account{id: acct}
	p.accounts[acct] = a
	return a
}

// removeDevice unlinks one device (the session logged out).
func (p *Platform) removeDevice(d *device) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[d.account]
	if a == nil {
		return
	}
	p.revokeLocked(a, d)
	a.devices = slices.DeleteFunc(a.devices, func(x *device) bool { return x == d })
}

func (p *Platform) revokeLocked(a *account, d *device) {
	if a.revoked == nil {
		a.revoked = map[string]bool{}
	}
	a.revoked[d.token] = true
	d.revoked = true
	d.queue = nil
	d.signal()
}

// contactsLocked is the contact list of a: the seeded users, then the
// accounts it exchanged messages with; never a itself.
func (p *Platform) contactsLocked(a *account) []ids.UserID {
	out := make([]ids.UserID, 0, len(p.seeded)+len(a.learned))
	for _, id := range p.seeded {
		if id != ids.UserID(a.id) {
			out = append(out, id)
		}
	}
	return append(out, a.learned...)
}

// learnLocked adds u to a's contacts (and a to p.contactOf[u]); it
// reports whether u is new.
func (p *Platform) learnLocked(a *account, u ids.UserID) bool {
	if u == ids.UserID(a.id) || a.known[u] || slices.Contains(p.seeded, u) {
		return false
	}
	if a.known == nil {
		a.known = map[ids.UserID]bool{}
	}
	a.known[u] = true
	a.learned = append(a.learned, u)
	p.contactOf[u] = append(p.contactOf[u], a)
	return true
}

func (p *Platform) contactInfoLocked(acct ids.AccountID, id ids.UserID) *event.ContactInfo {
	u := p.users[id]
	return &event.ContactInfo{
		Meta:       event.Meta{Account: acct, Chat: ids.DirectChat(id), Sender: id, Time: p.now()},
		Name:       u.name,
		Phone:      string(id),
		AvatarHash: u.avatarHash,
	}
}

// presenceLocked is id's presence as acct sees it. LastSeen is set while
// the user is unavailable, if the platform saw them go.
func (p *Platform) presenceLocked(acct ids.AccountID, id ids.UserID) *event.Presence {
	u := p.users[id]
	pr := &event.Presence{
		Meta:      event.Meta{Account: acct, Chat: ids.DirectChat(id), Sender: id, Time: p.now()},
		Available: u.available,
		Status:    u.status,
	}
	if !u.available {
		pr.LastSeen = u.lastSeen
	}
	return pr
}

// contactInfos describes the contacts of acct.
func (p *Platform) contactInfos(acct ids.AccountID) []*event.ContactInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.accounts[acct]
	if a == nil {
		return nil
	}
	contacts := p.contactsLocked(a)
	out := make([]*event.ContactInfo, 0, len(contacts))
	for _, u := range contacts {
		out = append(out, p.contactInfoLocked(acct, u))
	}
	return out
}
