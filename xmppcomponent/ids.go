package xmppcomponent

import (
	"crypto/rand"
	"encoding/base32"
)

// idEncoding spells the random part of ids (made once: WithPadding
// returns a new Encoding).
var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a random stanza or session id: "db-" and 16 base32
// characters (80 random bits), built in one allocation.
func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	var id [3 + 16]byte
	copy(id[:], "db-")
	idEncoding.Encode(id[3:], b[:])
	return string(id[:])
}
