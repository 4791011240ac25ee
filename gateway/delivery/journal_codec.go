package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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
	// The event is encoded straight after the envelope's head, in one
	// buffer (json.Encoder escapes as json.Marshal does, and ends with a
	// newline, replaced by the envelope's closing brace).
	buf := bytes.NewBuffer(make([]byte, 0, 512))
	head, err := appendEnvelopeHead(buf.AvailableBuffer(), platform, tag)
	if err != nil {
		return nil, err
	}
	buf.Write(head)
	if err := json.NewEncoder(buf).Encode(body); err != nil {
		return nil, fmt.Errorf("delivery: journal %T: %w", ev, err)
	}
	data := buf.Bytes()
	data[len(data)-1] = '}'
	return data, nil
}

// appendEnvelope appends the journalEnvelope of an event encoded as raw
// (json.Marshal's output) to dst, as appendEnvelopeHead writes it.
func appendEnvelope(dst []byte, platform ids.PlatformID, tag string, raw []byte) ([]byte, error) {
	dst, err := appendEnvelopeHead(dst, platform, tag)
	if err != nil {
		return nil, err
	}
	return append(append(dst, raw...), '}'), nil
}

// appendEnvelopeHead appends the start of a journalEnvelope, up to its
// event, to dst: the same bytes json.Marshal makes of the envelope, without
// its second pass over the event (json.Marshal validates and compacts a
// RawMessage, a copy of the whole event; BenchmarkEncodeJournal). A
// platform id that needs escaping in JSON (ids are plain names; config
// refuses others) is encoded by encoding/json.
func appendEnvelopeHead(dst []byte, platform ids.PlatformID, tag string) ([]byte, error) {
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, journalVersion, 10)
	dst = append(dst, `,"p":`...)
	if plainJSON(string(platform)) {
		dst = append(append(append(dst, '"'), platform...), '"')
	} else {
		p, err := json.Marshal(platform)
		if err != nil {
			return nil, fmt.Errorf("delivery: journal platform %q: %w", platform, err)
		}
		dst = append(dst, p...)
	}
	dst = append(dst, `,"t":"`...)
	dst = append(dst, tag...) // one of the tag constants: plain
	return append(dst, `","e":`...), nil
}

// plainJSON reports whether s is written in a JSON string as it is: no
// quote, backslash, control character, non-ASCII byte, or one of <, >
// and & (which encoding/json escapes).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x80, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
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
