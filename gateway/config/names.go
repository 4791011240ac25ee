package config

import (
	"net"
	"strconv"
	"strings"
	"unicode"
)

// isDomain reports whether s is a DNS name in ASCII (A-label) form:
// dot-separated labels of letters, digits and inner hyphens, at most 63
// bytes each and 253 in all, without a trailing dot.
func isDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !isLabel(label) {
			return false
		}
	}
	return true
}

func isLabel(label string) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for _, r := range label {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// isHostPort reports whether s is host:port with a non-empty host and a
// port from 1 to 65535.
func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	return err == nil && host != "" && !strings.ContainsFunc(host, unicode.IsSpace) && isPort(port)
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// isBareJID reports whether s is localpart@domain with no resource.
func isBareJID(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && isLocalpart(local) && isDomain(domain)
}

// isLocalpart checks the characters XMPP forbids in a localpart
// (RFC 7622 §3.3.1) plus spaces and control characters. It does not apply
// the full PRECIS profile.
func isLocalpart(s string) bool {
	if s == "" || len(s) > 1023 || strings.ContainsAny(s, "\"&'/:<>@") {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	})
}
