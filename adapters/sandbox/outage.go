package sandbox

import (
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// SetOutage starts (down true) or ends an outage of acct's connection to
// the platform as far as sending goes: while it lasts, Session.SendMessage
// of every device of acct fails with an error wrapping
// gateway.ErrUnavailable, as when the session is not connected. The
// session itself stays connected and keeps receiving.
func (p *Platform) SetOutage(acct ids.AccountID, down bool) {
	p.outageMu.Lock()
	defer p.outageMu.Unlock()
	if p.outage == nil {
		p.outage = make(map[ids.AccountID]bool)
	}
	if down {
		p.outage[acct] = true
	} else {
		delete(p.outage, acct)
	}
}

// outageErr is the error of a send of acct during an outage, or nil.
func (p *Platform) outageErr(acct ids.AccountID) error {
	p.outageMu.Lock()
	defer p.outageMu.Unlock()
	if p.outage[acct] {
		return fmt.Errorf("sandbox: %s cannot reach the platform (outage): %w", acct, gateway.ErrUnavailable)
	}
	return nil
}
