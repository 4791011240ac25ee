package sandbox

import (
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Redeliver offers the one-to-one message id to the devices of account acct
// once more, as a real platform does with what it believes a device never
// acknowledged (the acknowledgement was lost with the connection): the
// gateway must recognise the copy. It fails with gateway.ErrTargetNotFound
// if acct is not a party of such a message.
func (p *Platform) Redeliver(acct ids.AccountID, id ids.MessageID) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.byID[id]
	a := p.accounts[acct]
	if rec == nil || a == nil || rec.Group != "" || (rec.To != ids.UserID(acct) && rec.From != ids.UserID(acct)) {
		return fmt.Errorf("sandbox: %s has no message %s to redeliver: %w", acct, id, gateway.ErrTargetNotFound)
	}
	snap := *rec
	fromMe := rec.From == ids.UserID(acct)
	peer := rec.From
	if fromMe {
		peer = rec.To
	}
	p.deliverLocked(a, nil, true, nil, func() event.Event {
		ev := snap.event(a.id, peer)
		ev.FromMe = fromMe
		return ev
	})
	return nil
}
