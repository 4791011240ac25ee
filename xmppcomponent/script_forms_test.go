package xmppcomponent

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Directives of the registration scripts (register_form):
//
//	!login-answer OWNER KIND {LoginStep}    the answer to the first Submit of OWNER's
//	!login-answer OWNER error COND [TEXT]   next scripted flow (!login-start), for
//	                                        submissions that start a flow and answer
//	                                        its first step at once
func init() {
	scriptDirectives["login-answer"] = func(_ context.Context, s *script, args []string, rest string) error {
		if len(args) < 2 {
			return fmt.Errorf("login-answer needs OWNER KIND")
		}
		a, err := parseLoginAnswer(args, rest)
		if err != nil {
			return err
		}
		h := loginHubOf(s)
		h.lmu.Lock()
		defer h.lmu.Unlock()
		owner := ids.Owner(args[0])
		h.early[owner] = append(h.early[owner], a)
		return nil
	}
}
