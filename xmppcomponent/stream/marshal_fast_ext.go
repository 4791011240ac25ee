package stream

import (
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// fastExt describes one message extension handled by marshalFast: open
// (from "<" to the xmlns declaration, as encoding/xml writes it), up to two
// attributes, then "/>": the extensions written here have no content, and
// a self-closed element is the same XML as encoding/xml's "></name>", in
// fewer bytes for the server to read. The zero fastExt writes nothing:
// that is how encoding/xml treats a nil extension.
type fastExt struct {
	open  string // e.g. `<received xmlns="urn:xmpp:receipts"`
	attrs [2]fastAttr
}

// selfClose ends every fastExt.
const selfClose = "/>"

// fastAttr is an attribute of a fastExt; an empty name means no attribute.
type fastAttr struct {
	name, value string
	omitEmpty   bool
}

// size is the unescaped size of the element.
func (x *fastExt) size() int {
	n := len(x.open) + len(selfClose)
	for _, a := range x.attrs {
		if a.name != "" && (a.value != "" || !a.omitEmpty) {
			n += len(a.name) + len(a.value) + 4
		}
	}
	return n
}

// appendTo appends the element to b.
func (x *fastExt) appendTo(b []byte) []byte {
	if x.open == "" {
		return b
	}
	b = append(b, x.open...)
	for _, a := range x.attrs {
		if a.name != "" {
			b = appendAttr(b, a.name, a.value, a.omitEmpty)
		}
	}
	return append(b, selfClose...)
}

// Element heads of the handled extensions, as encoding/xml writes them
// from their struct tags.
const (
	openReceiptRequest   = `<request xmlns="` + stanza.NSMsgReceipts + `"`
	openReceiptReceived  = `<received xmlns="` + stanza.NSMsgReceipts + `"`
	openMarkable         = `<markable xmlns="` + stanza.NSMsgChatMarkers + `"`
	openMarkReceived     = `<received xmlns="` + stanza.NSMsgChatMarkers + `"`
	openMarkDisplayed    = `<displayed xmlns="` + stanza.NSMsgChatMarkers + `"`
	openMarkAcknowledged = `<acknowledged xmlns="` + stanza.NSMsgChatMarkers + `"`
	openStateActive      = `<active xmlns="` + stanza.NSMsgChatStateNotifications + `"`
	openStateComposing   = `<composing xmlns="` + stanza.NSMsgChatStateNotifications + `"`
	openStatePaused      = `<paused xmlns="` + stanza.NSMsgChatStateNotifications + `"`
	openStateInactive    = `<inactive xmlns="` + stanza.NSMsgChatStateNotifications + `"`
	openStateGone        = `<gone xmlns="` + stanza.NSMsgChatStateNotifications + `"`
	openOriginID         = `<origin-id xmlns="` + xep.NSSID + `"`
	openStanzaID         = `<stanza-id xmlns="` + xep.NSSID + `"`
	openOccupantID       = `<occupant-id xmlns="urn:xmpp:occupant-id:0"`
	openNoStore          = `<no-store xmlns="urn:xmpp:hints"`
	openStore            = `<store xmlns="urn:xmpp:hints"`
	openReplace          = `<replace xmlns="` + xep.NSCorrect + `"`
	openRetract          = `<retract xmlns="` + xep.NSRetract + `"`
	openReply            = `<reply xmlns="` + xep.NSReply + `"`
	openDelay            = `<delay xmlns="` + xep.NSDelay + `"`
)

// describeExt returns how encoding/xml writes e, or false if marshalFast
// does not handle it. A nil extension, or a nil pointer to a handled type,
// writes nothing. The stanza types embed a MsgExtension interface field
// that encoding/xml would write as a child element when set; such values
// are left to xml.Marshal.
func describeExt(e stanza.MsgExtension) (fastExt, bool) {
	// The frames on this path are kept small: every outbound stanza
	// passes here deep in the delivering goroutine's stack, and one switch
	// with every case (each inlined emptyExt/idExt keeping its own result
	// slot, each value case its own copy) made frames of 2.5 KB, so those
	// goroutines grew their stacks again after each collection shrank
	// them (runtime.copystack, ~4 % of the gateway's CPU under
	// BenchmarkLoad). Now 248 + 312 bytes; the pointers the gateway uses
	// come first, values last.
	switch v := e.(type) {
	case nil:
		return fastExt{}, true
	case *stanza.ReceiptRequest:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openReceiptRequest)
	case *stanza.ReceiptReceived:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(v.MsgExtension, openReceiptReceived, v.ID)
	case *stanza.Markable:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openMarkable)
	case *stanza.MarkReceived:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(v.MsgExtension, openMarkReceived, v.ID)
	case *stanza.MarkDisplayed:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(v.MsgExtension, openMarkDisplayed, v.ID)
	case *stanza.MarkAcknowledged:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(v.MsgExtension, openMarkAcknowledged, v.ID)
	case *stanza.StateActive:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openStateActive)
	case *stanza.StateComposing:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openStateComposing)
	case *stanza.StatePaused:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openStatePaused)
	case *stanza.StateInactive:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openStateInactive)
	case *stanza.StateGone:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(v.MsgExtension, openStateGone)
	}
	return describeXEPExt(e)
}

// describeXEPExt is describeExt for pointers to the extensions of package
// xep.
func describeXEPExt(e stanza.MsgExtension) (fastExt, bool) {
	switch v := e.(type) {
	case *xep.OriginID:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(nil, openOriginID, v.ID)
	case *xep.StanzaID:
		if v == nil {
			return fastExt{}, true
		}
		return stanzaIDExt(*v)
	case *xep.OccupantID:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(nil, openOccupantID, v.ID)
	case *xep.NoStore:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(nil, openNoStore)
	case *xep.StoreHint:
		if v == nil {
			return fastExt{}, true
		}
		return emptyExt(nil, openStore)
	case *xep.Replace:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(nil, openReplace, v.ID)
	case *xep.Retract:
		if v == nil {
			return fastExt{}, true
		}
		return idExt(nil, openRetract, v.ID)
	case *xep.Reply:
		if v == nil {
			return fastExt{}, true
		}
		return replyExt(*v)
	case *xep.Delay:
		if v == nil {
			return fastExt{}, true
		}
		return delayExt(*v)
	}
	return describeValueExt(e)
}

// describeValueExt is describeExt for extensions held by value (the
// gateway uses pointers; a value is valid too). Kept out of line so that
// its frame is not on the pointers' path.
//
//go:noinline
func describeValueExt(e stanza.MsgExtension) (fastExt, bool) {
	switch v := e.(type) {
	case stanza.ReceiptRequest:
		return emptyExt(v.MsgExtension, openReceiptRequest)
	case stanza.ReceiptReceived:
		return idExt(v.MsgExtension, openReceiptReceived, v.ID)
	case stanza.Markable:
		return emptyExt(v.MsgExtension, openMarkable)
	case stanza.MarkReceived:
		return idExt(v.MsgExtension, openMarkReceived, v.ID)
	case stanza.MarkDisplayed:
		return idExt(v.MsgExtension, openMarkDisplayed, v.ID)
	case stanza.MarkAcknowledged:
		return idExt(v.MsgExtension, openMarkAcknowledged, v.ID)
	case stanza.StateActive:
		return emptyExt(v.MsgExtension, openStateActive)
	case stanza.StateComposing:
		return emptyExt(v.MsgExtension, openStateComposing)
	case stanza.StatePaused:
		return emptyExt(v.MsgExtension, openStatePaused)
	case stanza.StateInactive:
		return emptyExt(v.MsgExtension, openStateInactive)
	case stanza.StateGone:
		return emptyExt(v.MsgExtension, openStateGone)
	case xep.OriginID:
		return idExt(nil, openOriginID, v.ID)
	case xep.StanzaID:
		return stanzaIDExt(v)
	case xep.OccupantID:
		return idExt(nil, openOccupantID, v.ID)
	case xep.NoStore:
		return emptyExt(nil, openNoStore)
	case xep.StoreHint:
		return emptyExt(nil, openStore)
	case xep.Replace:
		return idExt(nil, openReplace, v.ID)
	case xep.Retract:
		return idExt(nil, openRetract, v.ID)
	case xep.Reply:
		return replyExt(v)
	case xep.Delay:
		return delayExt(v)
	}
	return fastExt{}, false
}

// emptyExt is an element without attributes; inner is the embedded
// MsgExtension of the stanza types, which must be nil.
//
// Not inlined: each inlined copy kept its own result slot in the
// caller's frame (see describeExt).
//
//go:noinline
func emptyExt(inner stanza.MsgExtension, open string) (fastExt, bool) {
	if inner != nil {
		return fastExt{}, false
	}
	return fastExt{open: open}, true
}

// idExt is an element with one id attribute, written even when empty.
//
// Not inlined: each inlined copy kept its own result slot in the
// caller's frame (see describeExt).
//
//go:noinline
func idExt(inner stanza.MsgExtension, open, id string) (fastExt, bool) {
	if inner != nil {
		return fastExt{}, false
	}
	return fastExt{open: open, attrs: [2]fastAttr{{name: "id", value: id}}}, true
}

// stanzaIDExt is an XEP-0359 stanza-id: id and by, both always written.
func stanzaIDExt(v xep.StanzaID) (fastExt, bool) {
	return fastExt{open: openStanzaID, attrs: [2]fastAttr{
		{name: "id", value: v.ID}, {name: "by", value: v.By},
	}}, true
}

// replyExt is an XEP-0461 reply: to (when set), then id.
func replyExt(v xep.Reply) (fastExt, bool) {
	return fastExt{open: openReply, attrs: [2]fastAttr{
		{name: "to", value: v.To, omitEmpty: true}, {name: "id", value: v.ID},
	}}, true
}

// delayExt is an XEP-0203 delay: from (when set), then stamp.
func delayExt(v xep.Delay) (fastExt, bool) {
	return fastExt{open: openDelay, attrs: [2]fastAttr{
		{name: "from", value: v.From, omitEmpty: true}, {name: "stamp", value: v.Stamp},
	}}, true
}
