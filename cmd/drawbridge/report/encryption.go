package report

// Encryption states where each platform's end-to-end encryption ends.
func Encryption() []string {
	return []string{
		"The gateway is the XMPP user's linked device on the platform. Messages are end-to-end encrypted between the platform's apps and the gateway (WhatsApp: the Signal protocol, the gateway being one of the account's linked devices, listed on the phone), and decrypted there.",
		"From the gateway to the user's XMPP server the messages travel over the XEP-0114 component connection (meant for loopback or a private network), between servers and to the user's client over TLS in a production deployment (the report's loopback servers use none). They are not end-to-end encrypted on this leg: the gateway does not speak OMEMO yet.",
		"So whoever runs the gateway machine and the XMPP server can read the messages, as the operator of any linked device could. The gateway's device store holds the keys of the linked device: anyone with it can act as that device.",
		"The sandbox platform of this report has no encryption at all: it is a simulation in the gateway's process.",
	}
}
