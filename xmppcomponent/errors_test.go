package xmppcomponent

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
)

func TestStanzaErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err      error
		cond     string
		typ      string
		internal bool
	}{
		{fmt.Errorf("edit: %w", gateway.ErrNotSupported), "feature-not-implemented", "cancel", false},
		{gateway.ErrNotLinked, "registration-required", "auth", false},
		{gateway.ErrNotRegistered, "registration-required", "auth", false},
		{gateway.ErrUnknownChat, "item-not-found", "cancel", false},
		{gateway.ErrForbidden, "forbidden", "auth", false},
		{gateway.ErrRateLimited, "resource-constraint", "wait", false},
		{gateway.ErrTooFast, "policy-violation", "wait", false},
		{gateway.ErrOverLimit, "policy-violation", "modify", false},
		{gateway.ErrBadRequest, "bad-request", "modify", false},
		{gateway.ErrUnavailable, "recipient-unavailable", "wait", false},
		{fmt.Errorf("cannot download the file: the server cannot be reached: %w", gateway.ErrRemoteNotFound), "remote-server-not-found", "cancel", false},
		{fmt.Errorf("cannot download the file: the server did not answer in time: %w", gateway.ErrRemoteTimeout), "remote-server-timeout", "wait", false},
		{fmt.Errorf("edit window of 15m0s has passed: %w", gateway.ErrNotAcceptable), "not-acceptable", "modify", false},
		{fmt.Errorf("gateway: deliver to alice@example.test: %w", gateway.ErrNotOwned), "service-unavailable", "wait", false},
		{errors.New("disk on fire"), "internal-server-error", "wait", true},
	} {
		se, internal := stanzaError(tc.err)
		if se.Condition != tc.cond || se.Type != tc.typ || internal != tc.internal {
			t.Errorf("%v → %s/%s internal=%v, want %s/%s internal=%v", tc.err, se.Type, se.Condition, internal, tc.typ, tc.cond, tc.internal)
		}
		out, err := xml.Marshal(se)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`<error type="%s"><%s xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></%s>`, tc.typ, tc.cond, tc.cond)
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("marshal: %s, want prefix %s", out, want)
		}
		if tc.internal && strings.Contains(string(out), "disk on fire") {
			t.Errorf("internal error details leaked to the user: %s", out)
		}
	}
}
