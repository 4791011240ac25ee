package sandbox

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// SendFromPhone makes the linked account acct write body to user to from
// its own phone, that is from a device the gateway does not run, and
// returns the message's id. Every device the gateway linked to acct gets a
// copy with FromMe set (what the XMPP side shows as the user's own
// message); to gets the message as from any account (a bot answers it).
func (p *Platform) SendFromPhone(ctx context.Context, acct ids.AccountID, to ids.UserID, body string) (ids.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if body == "" {
		return "", fmt.Errorf("sandbox: empty message from the phone of %s: %w", acct, gateway.ErrBadRequest)
	}
	if err := p.checkAccount(acct); err != nil {
		return "", err
	}
	if err := p.checkUser(to); err != nil {
		return "", err
	}
	return p.route(outgoing{from: ids.UserID(acct), to: to, body: body})
}
