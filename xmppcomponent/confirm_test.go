package xmppcomponent

import (
	"context"
	"errors"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// confirmingSender holds the confirmation callbacks of SendConfirmed.
type confirmingSender struct {
	dones []func()
	fail  bool
	sent  int
}

func (s *confirmingSender) Send(context.Context, stanza.Packet) error {
	s.sent++
	return nil
}

func (s *confirmingSender) SendConfirmed(_ context.Context, _ stanza.Packet, done func()) error {
	if s.fail {
		return errors.New("queue closed")
	}
	s.sent++
	s.dones = append(s.dones, done)
	return nil
}

// TestConfirmTracker checks that an event's done runs once, after its last
// stanza is confirmed and not before the event is sealed, and that stanzas
// sent through the event's sender after it was sealed are not counted.
func TestConfirmTracker(t *testing.T) {
	tests := []struct {
		name     string
		stanzas  int
		confirm  []int // the order in which the stanzas are confirmed
		fail     bool
		wantDone int
	}{
		{"no stanza", 0, nil, false, 1},
		{"one stanza", 1, []int{0}, false, 1},
		{"three stanzas", 3, []int{0, 1, 2}, false, 1},
		{"three stanzas, one unconfirmed", 3, []int{0, 2}, false, 0},
		{"failed send", 1, nil, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &confirmingSender{fail: tc.fail}
			c := &Component{out: out}
			done := 0
			tr := &confirmTracker{done: func() { done++ }}
			ds := deliverySender{c: c, t: tr}
			ctx := t.Context()
			var sendErr error
			for range tc.stanzas {
				if err := ds.send(ctx, stanza.NewMessage(stanza.Attrs{})); err != nil {
					sendErr = err
				}
			}
			if tc.fail {
				if sendErr == nil {
					t.Fatal("send did not fail")
				}
			}
			for _, i := range tc.confirm {
				out.dones[i]()
				if done != 0 {
					t.Fatalf("done before the event was sealed")
				}
			}
			if !tc.fail {
				tr.seal()
			}
			// A stanza sent later through the event's sender is not the
			// event's, and its confirmation changes nothing.
			if err := ds.send(ctx, stanza.NewMessage(stanza.Attrs{})); err != nil && !tc.fail {
				t.Fatal(err)
			}
			if done != tc.wantDone {
				t.Errorf("done called %d times, want %d", done, tc.wantDone)
			}
		})
	}
}
