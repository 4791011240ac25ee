package report

import (
	"regexp"
	"strings"
)

// redactions remove secrets from a transcript: SASL exchanges (they carry
// the password), pairing codes, component handshakes and anything the
// caller names (passwords, the component secret).
var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?s)(<(auth|response|challenge|success)\b[^>]*>).*?(</(auth|response|challenge|success)>)`), "${1}[redacted]${3}"},
	{regexp.MustCompile(`(?s)(<handshake\b[^>]*>).*?(</handshake>)`), "${1}[redacted]${2}"},
	{regexp.MustCompile(`(Code: )[A-Za-z0-9-]+`), "${1}[redacted]"},
}

// Redact returns raw without the secrets listed above and without any of
// secrets (empty ones ignored).
func Redact(raw string, secrets ...string) string {
	for _, r := range redactions {
		raw = r.re.ReplaceAllString(raw, r.with)
	}
	for _, s := range secrets {
		if s != "" {
			raw = strings.ReplaceAll(raw, s, "[redacted]")
		}
	}
	return raw
}
