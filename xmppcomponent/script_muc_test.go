package xmppcomponent

import "github.com/drawbridge-im/drawbridge/gateway"

// The MUC scripts (testdata/scripts/muc_*.xml) also make the hub answer
// that it queued a message for a later retry.
func init() {
	scriptErrors["queued"] = gateway.ErrQueued
}
