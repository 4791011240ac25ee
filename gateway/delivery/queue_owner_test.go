package delivery

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestQueueOwner(t *testing.T) {
	for _, tc := range []struct{ queue, want ids.Owner }{
		{"alice@example.test", "alice@example.test"},
		{outboxOf("alice@example.test"), "alice@example.test"},
		{intakeOf("bob@example.test"), "bob@example.test"},
	} {
		if got := QueueOwner(tc.queue); got != tc.want {
			t.Errorf("QueueOwner(%q) = %q, want %q", tc.queue, got, tc.want)
		}
	}
}
