package whatsapp

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var _ gateway.Diagnoser = (*Session)(nil)

// Diagnosis is what a session knows of its linked account, for an
// administrator (`drawbridge whatsapp doctor`).
type Diagnosis struct {
	Account ids.AccountID
	// Device is the linked device's JID ("15550000100:7@s.whatsapp.net").
	Device string
	// Phase is the session's own phase: idle, connecting, connected,
	// logged-out or superseded.
	Phase string
	// Connected says whether the WhatsApp socket is open and logged in.
	Connected bool
	// State and Detail are the account state last reported to the hub.
	State  event.State
	Detail string
	// PushName is the name WhatsApp shows contacts for the account.
	PushName string
	// LID is the account's own hidden id; PhoneOfLID the phone number the
	// device store maps it to (empty if none: LID addressing is broken).
	LID, PhoneOfLID string
	// PhoneLastSeen is when the phone was last seen online.
	PhoneLastSeen time.Time
	// KeepAliveLost is when keep-alives started failing (zero: they work).
	KeepAliveLost time.Time
	// ReconnectAt is when the session reconnects by itself after a ban or
	// a refusal (zero: not scheduled).
	ReconnectAt time.Time
	// PendingMediaRetries counts expired files the phone was asked for.
	PendingMediaRetries int
	// PanicsRecovered counts events that failed because of a bug.
	PanicsRecovered int
}

var phaseNames = map[sessionPhase]string{
	sessIdle: "idle", sessConnecting: "connecting", sessConnected: "connected",
	sessLoggedOut: "logged-out", sessSuperseded: "superseded",
}

// Diagnose describes the session.
func (s *Session) Diagnose(ctx context.Context) Diagnosis {
	s.mu.Lock()
	d := Diagnosis{
		Account: s.acct, Device: s.devJID, Phase: phaseNames[s.phase],
		State: s.reported.state, Detail: s.reported.detail, PhoneLastSeen: s.phoneSeen,
		KeepAliveLost: s.trouble.keepAliveLost, ReconnectAt: s.trouble.retryAt,
	}
	s.mu.Unlock()
	d.Connected = s.c.client.IsConnected() && s.c.client.IsLoggedIn()
	d.PushName = s.c.device.PushName
	if lid := s.users.OwnLID; !lid.IsEmpty() {
		d.LID = lid.String()
		if s.c.device.LIDs != nil {
			if pn, err := s.c.device.LIDs.GetPNForLID(ctx, lid); err == nil && !pn.IsEmpty() {
				d.PhoneOfLID = pn.String()
			}
		}
	}
	d.PendingMediaRetries = s.PendingMediaRetries()
	d.PanicsRecovered = s.PanicsRecovered()
	return d
}

// Diagnostics implements gateway.Diagnoser.
func (s *Session) Diagnostics(ctx context.Context) []gateway.Fact {
	d := s.Diagnose(ctx)
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), s.a.now().Sub(t).Round(time.Minute))
	}
	orNone := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return v
	}
	state := string(d.State)
	if d.Detail != "" {
		state += ": " + d.Detail
	}
	lid := orNone(d.LID)
	if d.LID != "" {
		lid += " → " + orNone(d.PhoneOfLID)
	}
	facts := []gateway.Fact{
		{Name: "device", Value: orNone(d.Device)},
		{Name: "connected", Value: strconv.FormatBool(d.Connected) + " (session " + d.Phase + ")"},
		{Name: "state", Value: orNone(state)},
		{Name: "push name", Value: orNone(d.PushName)},
		{Name: "LID mapping", Value: lid},
		{Name: "phone last seen", Value: when(d.PhoneLastSeen)},
		{Name: "pending media retries", Value: strconv.Itoa(d.PendingMediaRetries)},
	}
	if !d.KeepAliveLost.IsZero() {
		facts = append(facts, gateway.Fact{Name: "keep-alive failing since", Value: when(d.KeepAliveLost)})
	}
	if !d.ReconnectAt.IsZero() {
		facts = append(facts, gateway.Fact{Name: "reconnects at", Value: d.ReconnectAt.UTC().Format(time.RFC3339)})
	}
	if d.PanicsRecovered > 0 {
		facts = append(facts, gateway.Fact{Name: "events failed (bugs)", Value: strconv.Itoa(d.PanicsRecovered)})
	}
	return facts
}
