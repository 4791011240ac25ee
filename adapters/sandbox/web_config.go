package sandbox

import (
	"fmt"
	"maps"
	"net"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
)

// webConfig is the sub-section "web" of the adapter's configuration: where
// the platform's web page listens (web.go).
type webConfig struct {
	// Listen is host:port; empty serves no page.
	Listen string `yaml:"listen"`
	// Token, required off loopback, must be given once as ?token= (the
	// page keeps it in a cookie) or as "Authorization: Bearer TOKEN".
	Token string `yaml:"token"`
}

// ValidateSection implements gwconfig.SectionValidator: the rule of the
// management API, a non-loopback address needs a token.
func (w *webConfig) ValidateSection(problem func(key, format string, args ...any)) {
	if w.Listen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(w.Listen); err != nil {
		problem("listen", "want host:port, e.g. 127.0.0.1:8482, got %q", w.Listen)
		return
	}
	if !gwconfig.LoopbackAddr(w.Listen) && w.Token == "" {
		problem("token", "required because %s.%s.listen %q is not a loopback address", PlatformID, ConfigWeb, w.Listen)
	}
}

// parseWebConfig takes the "web" sub-section out of raw and decodes it;
// problems are named "sandbox.web.<key>". It returns raw without it.
func parseWebConfig(raw map[string]any) (webConfig, map[string]any, error) {
	var w webConfig
	v, ok := raw[ConfigWeb]
	if !ok || v == nil {
		return w, raw, nil
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return w, nil, &gwconfig.KeyError{Key: string(PlatformID) + "." + ConfigWeb,
			Err: fmt.Errorf("want a section with listen and token, got %T", v)}
	}
	if err := gwconfig.DecodeSection(string(PlatformID)+"."+ConfigWeb, sub, &w); err != nil {
		return w, nil, err
	}
	rest := maps.Clone(raw)
	delete(rest, ConfigWeb)
	return w, rest, nil
}
