package gateway

import (
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// One gateway may serve several platforms, each through its own XMPP
// component (its own domain and link): each platform's events go to that
// platform's frontend only, journal replays included (Gateway.deliver).
// A single component fronting every platform attaches with SetFrontend.

// SetFrontend attaches the XMPP side for every platform that has no
// frontend of its own (SetPlatformFrontend). It must be called before
// Start.
func (g *Gateway) SetFrontend(f Frontend) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.frontend = f
}

// SetPlatformFrontend attaches f as the XMPP side of platform alone: the
// events of platform go to f, and to no other frontend. It must be called
// before Start; a second call for the same platform replaces the first.
func (g *Gateway) SetPlatformFrontend(platform ids.PlatformID, f Frontend) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.frontends == nil {
		g.frontends = make(map[ids.PlatformID]Frontend)
	}
	g.frontends[platform] = f
}

// frontendLocked returns the frontend of platform, or nil. g.mu is held.
func (g *Gateway) frontendLocked(platform ids.PlatformID) Frontend {
	if f, ok := g.frontends[platform]; ok {
		return f
	}
	return g.frontend
}

// checkFrontendsLocked refuses to start with a platform that has no
// frontend, or a frontend for a platform the gateway does not have: its
// events would have nowhere to go. g.mu is held.
func (g *Gateway) checkFrontendsLocked() error {
	for p := range g.frontends {
		if _, ok := g.adapters[p]; !ok {
			return fmt.Errorf("gateway: a frontend is attached for platform %q, which has no adapter", p)
		}
	}
	for _, p := range g.order {
		if g.frontendLocked(p) == nil {
			if len(g.frontends) == 0 {
				return fmt.Errorf("gateway: Start before SetFrontend")
			}
			return fmt.Errorf("gateway: no frontend attached for platform %s (SetPlatformFrontend)", p)
		}
	}
	return nil
}
