package stream

import (
	"errors"

	"gosrc.io/xmpp/stanza"
)

// Undecodable stands for an inbound stanza that the connection skipped
// because it could not be decoded or was larger than
// Config.MaxStanzaSize. The Conn hands it to the Handler in the
// stanza's place, so that its sender gets an error instead of silence.
type Undecodable struct {
	// Kind is the stanza's element name: message, presence or iq.
	Kind string
	// Attrs are the attributes of its start tag.
	Attrs stanza.Attrs
	// TooLarge is set when the stanza was over Limit bytes.
	TooLarge bool
	Limit    int64
}

// Name implements stanza.Packet.
func (Undecodable) Name() string { return "undecodable" }

// undecodable describes the skipped stanza for the Handler; ok is false
// when there is nobody to tell (no start tag, or not a stanza).
func (e *errUndecodable) undecodable(limit int64) (Undecodable, bool) {
	switch e.start.Name.Local {
	case "message", "presence", "iq":
	default:
		return Undecodable{}, false
	}
	u := Undecodable{Kind: e.start.Name.Local, TooLarge: errors.Is(e.err, errStanzaTooLarge), Limit: limit}
	for _, a := range e.start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "from":
			u.Attrs.From = a.Value
		case "to":
			u.Attrs.To = a.Value
		case "id":
			u.Attrs.Id = a.Value
		case "type":
			u.Attrs.Type = stanza.StanzaType(a.Value)
		}
	}
	return u, u.Attrs.From != ""
}
