package httpguard

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Token is a configured bearer token, kept as its SHA-256 so that every
// comparison takes the same time whatever is sent. The zero Token is
// unset: it requires nothing.
type Token struct {
	want [sha256.Size]byte
	set  bool
}

// NewToken returns the token s; an empty s is an unset Token.
func NewToken(s string) Token {
	if s == "" {
		return Token{}
	}
	return Token{want: sha256.Sum256([]byte(s)), set: true}
}

// IsSet reports whether a token is required.
func (t Token) IsSet() bool { return t.set }

// Matches reports, in constant time, whether got is the token.
func (t Token) Matches(got string) bool {
	if !t.set {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], t.want[:]) == 1
}

// CheckBearer returns why r's Authorization header does not carry the
// token ("Authorization: Bearer TOKEN"), or "" when it does or no token is
// set.
func (t Token) CheckBearer(r *http.Request) string {
	if !t.set {
		return ""
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !ok || !strings.EqualFold(scheme, "Bearer") || token == "":
		return "a bearer token is required (Authorization: Bearer TOKEN)"
	case !t.Matches(token):
		return "the bearer token is not valid"
	}
	return ""
}
