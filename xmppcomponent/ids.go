package xmppcomponent

import (
	"crypto/rand"
	"encoding/base32"
)

// newID returns a random stanza or session id.
func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "db-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}
