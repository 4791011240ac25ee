package xmppcomponent

import (
	"net/url"
	"path"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway/event"
)

// voiceHint is the kind of a file an XMPP user sends by URL, as far as
// the URL tells: XMPP clients record voice messages as Ogg/Opus files
// (.ogg, .oga, .opus) and send them like any other file, so such a file is
// taken for a voice message (event.KindVoice), which platforms play
// inline. Anything else is left to the hub, which decides by the fetched
// file's type (and drops the voice kind when the file is not Ogg/Opus).
func voiceHint(raw string) event.AttachmentKind {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".ogg", ".oga", ".opus":
		return event.KindVoice
	}
	return ""
}
