package gateway

import (
	"context"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Frontend is the XMPP side as the hub sees it.
type Frontend interface {
	// Deliver hands one platform event to its owner. It returns once the
	// stanzas for it are queued; an error means they could not all be.
	//
	// d.Done, when set, is called later, once the XMPP server has
	// processed every stanza sent for the event (at once if none was
	// sent). It must not block; it is never called if Deliver returns an
	// error, and not at all if the stanzas are not confirmed before the
	// frontend stops. The hub journals the events that matter (messages,
	// edits, retractions, reactions) before delivering them and removes
	// them from the journal in Done (delivery.Journal): a frontend that
	// never calls Done gets them again at every replay.
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is one platform event on its way to its owner, with what the
// frontend needs to show it, so that it does not call back into the hub.
type Delivery struct {
	Owner    ids.Owner
	Platform ids.PlatformID
	// Event is the event; its Meta says whether its chat is a group
	// (Meta.Group).
	Event event.Event
	// Caps are the limits of the event's chat (zero when the owner has no
	// loaded session, or the event has no chat).
	Caps Capabilities
	// Contact is set for an *event.ContactInfo: the contact as the store
	// holds it once the event is recorded (Subscribed tells whether it is
	// in the owner's roster already).
	Contact *store.Contact
	// Done, if set, asks for confirmation (see Frontend.Deliver).
	Done func()
}
