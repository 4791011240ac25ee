package gateway

import "github.com/drawbridge-im/drawbridge/gateway/ids"

// A sharded cluster's front reads every stanza but serves few owners, so
// it cannot make AdmitMessage's session check. It makes the rest
// (FrontAdmitMessage) before it posts a message to its owner's inbox,
// and marks the entry admitted; the worker that serves the owner then
// checks the session and the sizes without taking a second rate token
// (AdmitMessageRated). A message not admitted at the front gets
// AdmitMessage at the worker, as in one process.

// FrontAdmitMessage is AdmitMessage without the session check, for a
// process that reads owner's stanzas but need not serve owner (the
// front of a sharded cluster): the body (bodyBytes) and the number of
// files are within the hub's limits (ErrOverLimit), and owner is within
// its message rate, whose token it takes (ErrTooFast, ErrRateLimited).
// It is as cheap as AdmitMessage.
func (g *Gateway) FrontAdmitMessage(owner ids.Owner, bodyBytes, attachments int) error {
	if err := g.checkMessageSize(bodyBytes, attachments); err != nil {
		return err
	}
	return g.checkMessageRate(owner)
}

// AdmitMessageRated is AdmitMessage for a message whose rate token was
// taken already (FrontAdmitMessage, at the front): owner has linked an
// account on platform and the sizes are within the limits; it takes no
// token.
func (g *Gateway) AdmitMessageRated(owner ids.Owner, platform ids.PlatformID, bodyBytes, attachments int) error {
	if _, err := g.session(owner, platform); err != nil {
		return err
	}
	return g.checkMessageSize(bodyBytes, attachments)
}
