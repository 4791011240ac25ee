package xep

import (
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

// Namespaces of the rich-messaging payloads.
const (
	NSCorrect    = "urn:xmpp:message-correct:0"
	NSRetract    = "urn:xmpp:message-retract:1"
	NSRetract0   = "urn:xmpp:message-retract:0"
	NSFasten     = "urn:xmpp:fasten:0"
	NSReactions  = "urn:xmpp:reactions:0"
	NSReply      = "urn:xmpp:reply:0"
	NSFallback   = "urn:xmpp:fallback:0"
	NSSID        = "urn:xmpp:sid:0"
	NSOOB        = "jabber:x:oob"
	NSRestrict   = "urn:xmpp:reactions:0:restrictions"
	NSVCardTemp  = "vcard-temp"
	NSVCardXUpd  = "vcard-temp:x:update"
	NSLastSeen   = "urn:xmpp:idle:1"
	NSDelay      = "urn:xmpp:delay"
	NSCarbons    = "urn:xmpp:carbons:2"
	NSHTTPUpload = "urn:xmpp:http:upload:0"
)

// Replace is the XEP-0308 correction of message ID.
type Replace struct {
	XMLName xml.Name `xml:"urn:xmpp:message-correct:0 replace"`
	ID      string   `xml:"id,attr"`
}

// Retract is the XEP-0424 (version 1) retraction of message ID.
type Retract struct {
	XMLName xml.Name `xml:"urn:xmpp:message-retract:1 retract"`
	ID      string   `xml:"id,attr"`
}

// ApplyTo is the XEP-0422 fastening used by XEP-0424 version 0
// retractions, still sent by some clients.
type ApplyTo struct {
	XMLName xml.Name  `xml:"urn:xmpp:fasten:0 apply-to"`
	ID      string    `xml:"id,attr"`
	Retract *struct{} `xml:"urn:xmpp:message-retract:0 retract"`
}

// Reactions is the XEP-0444 full set of the sender's reactions to ID.
type Reactions struct {
	XMLName   xml.Name `xml:"urn:xmpp:reactions:0 reactions"`
	ID        string   `xml:"id,attr"`
	Reactions []string `xml:"reaction"`
}

// Reply is the XEP-0461 reference to the message answered.
type Reply struct {
	XMLName xml.Name `xml:"urn:xmpp:reply:0 reply"`
	To      string   `xml:"to,attr,omitempty"`
	ID      string   `xml:"id,attr"`
}

// Fallback is the XEP-0428 marker of the body part that only exists for
// clients without support for the namespace For.
type Fallback struct {
	XMLName xml.Name        `xml:"urn:xmpp:fallback:0 fallback"`
	For     string          `xml:"for,attr"`
	Body    []FallbackRange `xml:"body"`
}

// FallbackRange is a range of the body, in Unicode code points; both zero
// with Whole set means the whole body.
type FallbackRange struct {
	Start *int `xml:"start,attr"`
	End   *int `xml:"end,attr"`
}

// OriginID is the XEP-0359 id the originating entity gave a message.
type OriginID struct {
	XMLName xml.Name `xml:"urn:xmpp:sid:0 origin-id"`
	ID      string   `xml:"id,attr"`
}

// StoreHint is the XEP-0334 hint that a message without body is worth
// storing (retractions, reactions).
type StoreHint struct {
	XMLName xml.Name `xml:"urn:xmpp:hints store"`
}

func init() {
	for _, ext := range []struct {
		name xml.Name
		v    any
	}{
		{xml.Name{Space: NSCorrect, Local: "replace"}, Replace{}},
		{xml.Name{Space: NSRetract, Local: "retract"}, Retract{}},
		{xml.Name{Space: NSFasten, Local: "apply-to"}, ApplyTo{}},
		{xml.Name{Space: NSReactions, Local: "reactions"}, Reactions{}},
		{xml.Name{Space: NSReply, Local: "reply"}, Reply{}},
		{xml.Name{Space: NSFallback, Local: "fallback"}, Fallback{}},
		{xml.Name{Space: NSSID, Local: "origin-id"}, OriginID{}},
		{xml.Name{Space: NSHints, Local: "store"}, StoreHint{}},
		{xml.Name{Space: NSReference, Local: "reference"}, Reference{}},
	} {
		stanza.TypeRegistry.MapExtension(stanza.PKTMessage, ext.name, ext.v)
	}
}

// NSReference is XEP-0372 References.
const NSReference = "urn:xmpp:reference:0"

// Reference is an XEP-0372 reference, used for mentions: URI names who is
// mentioned, Begin and End (Unicode code points, End exclusive) where in
// the body, when known.
type Reference struct {
	XMLName xml.Name `xml:"urn:xmpp:reference:0 reference"`
	Type    string   `xml:"type,attr"`
	URI     string   `xml:"uri,attr"`
	Begin   *int     `xml:"begin,attr,omitempty"`
	End     *int     `xml:"end,attr,omitempty"`
}
