package xmppcomponent

import (
	"errors"
	"fmt"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// userText gives people the sentence an error carries for them, or else
// the words of whoever raised it, without the context the hub adds on the
// way up ("send to alice: ...") nor the platform's name in front (issue 13).
func TestUserTextHasNoInternalPrefixes(t *testing.T) {
	explained := gateway.Explain("alice is not a phone number: write + then the country code and the number, e.g. +15551234567.",
		fmt.Errorf("sandbox: no contact %q (contacts are phone numbers in E.164 form): %w", "alice", gateway.ErrUnknownChat))
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("send to alice: %w", explained), "alice is not a phone number: write + then the country code and the number, e.g. +15551234567."},
		{fmt.Errorf("send to +15550000001: %w", fmt.Errorf("sandbox: +15557654321 is not connected: %w", gateway.ErrUnavailable)), "+15557654321 is not connected"},
		{fmt.Errorf("send to +15550000001: too many messages waiting for the platform: %w", gateway.ErrUnavailable), "send to +15550000001: too many messages waiting for the platform"},
		{fmt.Errorf("sandbox: %w", gateway.ErrNotLinked), "No linked account"},
		{gateway.ErrNotLinked, "No linked account"},
		{errors.New("disk on fire"), "Disk on fire"},
	} {
		if got := userText(tc.err); got != tc.want {
			t.Errorf("userText(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
