package xmppcomponent

import (
	"context"
	"fmt"
)

func init() {
	// !gwroster: how many owners the gateway keeps its roster state for.
	scriptDirectives["gwroster"] = func(_ context.Context, s *script, _ []string, _ string) error {
		s.c.mu.Lock()
		n := len(s.c.gwRoster)
		s.c.mu.Unlock()
		fmt.Fprintf(&s.out, "-- roster state kept for %d owners\n", n)
		return nil
	}
}
