package stream

import "gosrc.io/xmpp/stanza"

// Encoded is a stanza already serialized: the Conn writes XML as it is.
// It carries a stanza that another process encoded (a cluster worker's
// post to the front's outbox), whose XML holds payloads that decoding
// would drop: the XMPP library decodes only the extensions registered
// with it, and encoding the decoded stanza again would lose the others
// (XEP-0115 caps, XEP-0153 picture hashes, XEP-0359 stanza-ids in rooms,
// ...). The caller vouches that XML is one well-formed stanza of the
// component stream (xmppcomponent.DecodeStanza checks it).
type Encoded struct {
	// Packet is the stanza decoded from XML, for its name and attributes.
	Packet stanza.Packet
	// XML is what the Conn writes.
	XML []byte
}

// Name is the stanza's element name.
func (e Encoded) Name() string { return e.Packet.Name() }
