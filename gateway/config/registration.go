package config

import "strings"

// ParentDomain returns the component's domain (the first component's,
// [Config.PrimaryJID]) without its first label ("wa.example.org" gives
// "example.org"), lower-cased, or "" when the domain has a single label.
func (c Config) ParentDomain() string {
	_, parent, ok := strings.Cut(strings.ToLower(c.PrimaryJID()), ".")
	if !ok {
		return ""
	}
	return parent
}

// RegistrationAllowed reports whether the user bareJID may register with
// the gateway. A resource, if present, is ignored. registration.denied_jids
// wins over everything; then registration.allowed_jids admits a user; then
// registration.allowed_domains admits every user of a listed domain ("*"
// admits all), falling back to [Config.ParentDomain] when the list is
// empty. JIDs compare case-insensitively (by lower-casing, not
// the full PRECIS profile). A malformed JID is never allowed.
func (c Config) RegistrationAllowed(bareJID string) bool {
	bare, domain, ok := normalizeJID(bareJID)
	if !ok {
		return false
	}
	for _, denied := range c.Registration.DeniedJIDs {
		if d, _, ok := normalizeJID(denied); ok && d == bare {
			return false
		}
	}
	for _, allowed := range c.Registration.AllowedJIDs {
		if a, _, ok := normalizeJID(allowed); ok && a == bare {
			return true
		}
	}
	domains := c.Registration.AllowedDomains
	if len(domains) == 0 {
		if parent := c.ParentDomain(); parent != "" {
			domains = []string{parent}
		}
	}
	for _, d := range domains {
		if d == "*" || strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// normalizeJID drops the resource of a user JID and lower-cases it,
// returning the bare JID and its domain; ok is false unless it is
// localpart@domain.
func normalizeJID(jid string) (bare, domain string, ok bool) {
	jid, _, _ = strings.Cut(jid, "/")
	jid = strings.ToLower(jid)
	if !isBareJID(jid) {
		return "", "", false
	}
	_, domain, _ = strings.Cut(jid, "@")
	return jid, domain, true
}
