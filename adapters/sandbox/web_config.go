package sandbox

import (
	"fmt"
	"maps"
	"net"
	"strings"

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
// problems are named "sandbox.web.<key>". The environment sets the keys
// flat (DRAWBRIDGE_PLATFORMS_SANDBOX_WEB_LISTEN gives "web_listen"):
// those are taken too. It returns raw without them.
func parseWebConfig(raw map[string]any) (webConfig, map[string]any, error) {
	var w webConfig
	sub := map[string]any{}
	if v, ok := raw[ConfigWeb]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return w, nil, &gwconfig.KeyError{Key: string(PlatformID) + "." + ConfigWeb,
				Err: fmt.Errorf("want a section with listen and token, got %T", v)}
		}
		maps.Copy(sub, m)
	}
	rest := maps.Clone(raw)
	delete(rest, ConfigWeb)
	for k, v := range raw {
		if key, ok := strings.CutPrefix(k, ConfigWeb+"_"); ok {
			sub[key] = v
			delete(rest, k)
		}
	}
	if len(sub) == 0 {
		return w, raw, nil
	}
	if err := gwconfig.DecodeSection(string(PlatformID)+"."+ConfigWeb, sub, &w); err != nil {
		return w, nil, err
	}
	return w, rest, nil
}
