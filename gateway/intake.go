package gateway

import "github.com/drawbridge-im/drawbridge/gateway/delivery"

// Intake is the durable record of the stanzas the XMPP side read and has
// not yet handled (delivery.Intake): the frontend records messages as it
// reads them and marks them done once handled, and handles what a previous
// process left there again as it starts (with SendOptions.Replayed). It
// runs between Start and Stop; before Start, Done only collects.
func (g *Gateway) Intake() *delivery.Intake { return g.intake }
