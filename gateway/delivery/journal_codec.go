package delivery

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// journalVersion is the version of the journal envelope; a reader refuses
// envelopes of another version rather than guess.
const journalVersion = 1

// Type tags of the journaled events.
const (
	tagMessage  = "message"
	tagEdit     = "edit"
	tagRetract  = "retract"
	tagReaction = "reaction"
	tagReceipt  = "receipt"
)

// errNotJournaled is returned by encodeJournal for events that do not go
// through the journal (see Journaled).
var errNotJournaled = errors.New("delivery: event kind is not journaled")

// journalEnvelope is one journal item: the platform the event came from, a
// type tag and the event itself. The owner is the queue's.
type journalEnvelope struct {
	Version  int             `json:"v"`
	Platform ids.PlatformID  `json:"p"`
	Type     string          `json:"t"`
	Event    json.RawMessage `json:"e"`
}

// journalAttachment is an event.Attachment without its Open function: the
// content of a file is not journaled, so a replayed message whose file was
// not yet stored reaches the user as a notice that the file could not be
// passed on (xmppcomponent does that when Open is nil).
type journalAttachment struct {
	URL      string               `json:"url,omitempty"`
	Name     string               `json:"name,omitempty"`
	MIMEType string               `json:"mime,omitempty"`
	Size     int64                `json:"size,omitempty"`
	Kind     event.AttachmentKind `json:"kind,omitempty"`
}

// journalMessage is how a Message is journaled: its Attachments field
// shadows the embedded one (encoding/json prefers the shallower field).
type journalMessage struct {
	*event.Message
	Attachments []journalAttachment `json:"Attachments,omitempty"`
}

// journalEdit is how an Edit is journaled, its Attachments shadowed as
// a Message's are.
type journalEdit struct {
	*event.Edit
	Attachments []journalAttachment `json:"Attachments,omitempty"`
}

// journalAttachments is what the journal keeps of files.
func journalAttachments(atts []event.Attachment) []journalAttachment {
	var out []journalAttachment
	for _, a := range atts {
		out = append(out, journalAttachment{URL: a.URL, Name: a.Name, MIMEType: a.MIMEType, Size: a.Size, Kind: a.Kind})
	}
	return out
}

// eventAttachments are journaled files as attachments without content.
func eventAttachments(atts []journalAttachment) []event.Attachment {
	var out []event.Attachment
	for _, a := range atts {
		out = append(out, event.Attachment{URL: a.URL, Name: a.Name, MIMEType: a.MIMEType, Size: a.Size, Kind: a.Kind})
	}
	return out
}

// Journaled reports whether ev goes through the journal: what the user
// would miss (messages, edits, retractions, reactions, delivery receipts:
// without one a client shows a message undelivered for good), not what
// is stale a moment later (typing, presence, states) or made up for by
// the next one (a displayed marker covers the messages before it,
// XEP-0333).
func Journaled(ev event.Event) bool {
	switch e := ev.(type) {
	case *event.Message, *event.Edit, *event.Retract, *event.Reaction:
		return true
	case *event.Receipt:
		return e.Kind == event.Delivered
	}
	return false
}

// encodeJournal serializes ev, from platform, as a journal item.
func encodeJournal(platform ids.PlatformID, ev event.Event) ([]byte, error) {
	var (
		tag  string
		body any
	)
	switch e := ev.(type) {
	case *event.Message:
		tag, body = tagMessage, journalMessage{Message: e, Attachments: journalAttachments(e.Attachments)}
	case *event.Edit:
		tag, body = tagEdit, journalEdit{Edit: e, Attachments: journalAttachments(e.Attachments)}
	case *event.Retract:
		tag, body = tagRetract, e
	case *event.Reaction:
		tag, body = tagReaction, e
	case *event.Receipt:
		tag, body = tagReceipt, e
	default:
		return nil, fmt.Errorf("%T: %w", ev, errNotJournaled)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("delivery: journal %T: %w", ev, err)
	}
	data, err := json.Marshal(journalEnvelope{Version: journalVersion, Platform: platform, Type: tag, Event: raw})
	if err != nil {
		return nil, fmt.Errorf("delivery: journal %T: %w", ev, err)
	}
	return data, nil
}

// decodeJournal reads a journal item back.
func decodeJournal(data []byte) (ids.PlatformID, event.Event, error) {
	var env journalEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return "", nil, fmt.Errorf("delivery: journal item: %w", err)
	}
	if env.Version != journalVersion {
		return "", nil, fmt.Errorf("delivery: journal item of version %d, want %d", env.Version, journalVersion)
	}
	var (
		ev     event.Event
		target any
		jm     *journalMessage
		je     *journalEdit
	)
	switch env.Type {
	case tagMessage:
		jm = &journalMessage{Message: &event.Message{}}
		ev, target = jm.Message, jm
	case tagEdit:
		je = &journalEdit{Edit: &event.Edit{}}
		ev, target = je.Edit, je
	case tagRetract:
		e := &event.Retract{}
		ev, target = e, e
	case tagReaction:
		e := &event.Reaction{}
		ev, target = e, e
	case tagReceipt:
		e := &event.Receipt{}
		ev, target = e, e
	default:
		return "", nil, fmt.Errorf("delivery: journal item of unknown type %q", env.Type)
	}
	if err := json.Unmarshal(env.Event, target); err != nil {
		return "", nil, fmt.Errorf("delivery: journal %s: %w", env.Type, err)
	}
	if jm != nil {
		jm.Message.Attachments = eventAttachments(jm.Attachments)
	}
	if je != nil {
		je.Edit.Attachments = eventAttachments(je.Attachments)
	}
	return env.Platform, ev, nil
}
