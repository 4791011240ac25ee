package xmppcomponent

import (
	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// errNoVoiceRequests answers a visitor's voice request (XEP-0045 §7.13):
// platforms have no way to ask a group's admins for the right to write.
var errNoVoiceRequests = xep.StanzaError{Type: "cancel", Condition: "feature-not-implemented",
	Text: "Voice requests are not supported: in a read-only group only its admins write; ask one of them on the platform to make you an admin"}

// isVoiceRequest reports whether m carries a muc#request data form.
func isVoiceRequest(m stanza.Message) bool {
	for _, ext := range m.Extensions {
		if f, ok := ext.(*xep.Form); ok {
			for _, fl := range f.Fields {
				if fl.Var == "FORM_TYPE" && len(fl.Values) > 0 && fl.Values[0] == xep.NSMUCRequest {
					return true
				}
			}
		}
	}
	return false
}
