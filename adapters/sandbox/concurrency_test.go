package sandbox_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestConcurrentAccounts runs several accounts at once against the bots,
// the scripted humans and each other; with -race it checks for data races,
// and it checks that each chat's events stay in order.
func TestConcurrentAccounts(t *testing.T) {
	const accounts, perAccount = 6, 25
	e := newEnv(t, nil, sandbox.Options{})
	var accts []ids.AccountID
	var sessions []*sandbox.Session
	for i := range accounts {
		acct := e.link(t, fmt.Sprintf("+491510000100%d", i))
		accts = append(accts, acct)
		sessions = append(sessions, e.connect(t, acct))
	}

	var wg sync.WaitGroup
	sent := make([][]ids.MessageID, accounts)
	for i, s := range sessions {
		wg.Go(func() {
			for n := range perAccount {
				id, err := s.SendMessage(t.Context(), &event.Message{
					Meta: event.Meta{Account: s.Account(), Chat: ids.DirectChat(sandbox.EchoBot)},
					Body: fmt.Sprintf("m%d", n),
				})
				if err != nil {
					t.Errorf("SendMessage: %v", err)
					return
				}
				sent[i] = append(sent[i], id)
				_, _ = s.ResolveUser(t.Context(), string(sandbox.Alice))
				_, _ = s.ListContacts(t.Context())
			}
		})
		wg.Go(func() {
			for n := range perAccount {
				if _, err := e.p.SendAs(t.Context(), sandbox.Alice, accts[i], fmt.Sprintf("a%d", n)); err != nil {
					t.Errorf("SendAs: %v", err)
				}
				next := accts[(i+1)%accounts]
				if _, err := s.SendMessage(t.Context(), &event.Message{
					Meta: event.Meta{Chat: ids.DirectChat(ids.UserID(next))}, Body: fmt.Sprintf("p%d", n),
				}); err != nil {
					t.Errorf("SendMessage to peer: %v", err)
				}
				_ = e.p.SetPresence(sandbox.Bob, n%2 == 0, "")
				_ = e.p.Received(sandbox.EchoBot)
			}
		})
	}
	wg.Wait()

	seen := map[string]bool{}
	for i, acct := range accts {
		replies := e.h.WaitEvents(t, perAccount, gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(sandbox.EchoBot))))
		fromAlice := e.h.WaitEvents(t, perAccount, gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(sandbox.Alice))))
		prev := accts[(i+accounts-1)%accounts]
		fromPeer := e.h.WaitEvents(t, perAccount, gatewaytest.All(messagesTo(acct), gatewaytest.InChat(acct, ids.DirectChat(ids.UserID(prev)))))
		for n := range perAccount {
			if got, want := replies[n].(*event.Message).Body, fmt.Sprintf("echo: m%d", n); got != want {
				t.Errorf("%s echo %d = %q, want %q", acct, n, got, want)
			}
			if got, want := fromAlice[n].(*event.Message).Body, fmt.Sprintf("a%d", n); got != want {
				t.Errorf("%s from Alice %d = %q, want %q", acct, n, got, want)
			}
			if got, want := fromPeer[n].(*event.Message).Body, fmt.Sprintf("p%d", n); got != want {
				t.Errorf("%s from peer %d = %q, want %q", acct, n, got, want)
			}
		}
		// Per message: Delivered before Displayed, in sending order.
		receipts := e.h.WaitEvents(t, 2*perAccount, gatewaytest.All(gatewaytest.Is[*event.Receipt], gatewaytest.InChat(acct, ids.DirectChat(sandbox.EchoBot))))
		for n, id := range sent[i] {
			d, r := receipts[2*n].(*event.Receipt), receipts[2*n+1].(*event.Receipt)
			if d.Kind != event.Delivered || r.Kind != event.Displayed || d.Targets[0] != id || r.Targets[0] != id {
				t.Errorf("%s receipts for %s: %s, %s", acct, id, gatewaytest.Describe(d), gatewaytest.Describe(r))
			}
		}
		for _, id := range sent[i] {
			if seen[string(id)] {
				t.Errorf("id %s given twice", id)
			}
			seen[string(id)] = true
		}
	}
}
