package whatsapp

import (
	"context"

	"go.mau.fi/whatsmeow/types"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// retireOldDevices runs when a link of acct completes with the device jid:
// the account's earlier devices are logged out. The session of the
// previous device is logged out on WhatsApp (the phone's Linked devices
// list drops it, as Logout does), so is a link that the hub has not
// loaded yet, and any other device of the same number left in the device
// store is deleted there (with no connection, the phone lists it until
// WhatsApp expires it). Without this, relinking the same number would
// leave the old device's keys in the store and the old device on the
// phone's list, and a gateway restart could load either.
func (a *Adapter) retireOldDevices(ctx context.Context, acct ids.AccountID, jid types.JID) {
	log := a.logger().With("account", string(acct), "device", jid.String())
	a.mu.Lock()
	old := a.sessions[acct]
	pend := a.pending[acct]
	a.mu.Unlock()
	if old != nil && old.deviceJID() != jid.String() {
		if err := old.Logout(ctx); err != nil {
			log.Warn("whatsapp: cannot log out the account's previous device", "old", old.deviceJID(), "err", err)
		} else {
			log.Info("whatsapp: previous device of the account logged out", "old", old.deviceJID())
		}
	}
	if pend != nil && pend.c.device.ID != nil && *pend.c.device.ID != jid {
		if err := pend.c.client.Logout(ctx); err != nil {
			pend.c.client.Disconnect()
			if err := pend.c.device.Delete(ctx); err != nil {
				log.Warn("whatsapp: cannot delete an earlier link of the account", "old", pend.c.device.ID.String(), "err", err)
			}
		}
	}
	_, container, err := a.env()
	if err != nil {
		log.Warn("whatsapp: cannot look for earlier devices of the account", "err", err)
		return
	}
	devices, err := container.GetAllDevices(ctx)
	if err != nil {
		log.Warn("whatsapp: cannot look for earlier devices of the account", "err", err)
		return
	}
	for _, d := range devices {
		if d.ID == nil || d.ID.User != jid.User || *d.ID == jid {
			continue
		}
		old := d.ID.String()
		if err := d.Delete(ctx); err != nil {
			log.Warn("whatsapp: cannot delete an earlier device of the account", "old", old, "err", err)
			continue
		}
		log.Info("whatsapp: earlier device of the account deleted from the device store", "old", old)
	}
}
