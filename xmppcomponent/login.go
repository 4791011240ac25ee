package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// loginFollowLimit bounds how long the gateway follows a login in the
// background after showing a code, and how many steps it relays.
const (
	loginFollowLimit = 10 * time.Minute
	loginFollowSteps = 32
)

// stepText renders a login step for a chat message.
func stepText(info gateway.Info, step gateway.LoginStep) string {
	var b strings.Builder
	// A finished flow's instructions ("Linked +1555...") would repeat
	// what the gateway says of it below.
	if step.Instructions != "" && step.Kind != gateway.StepDone {
		b.WriteString(step.Instructions)
		b.WriteString("\n")
	}
	switch step.Kind {
	case gateway.StepInput:
		// Fields are asked one at a time; this is the first.
		if len(step.Fields) > 0 {
			f := step.Fields[0]
			fmt.Fprintf(&b, "Reply with your %s", strings.ToLower(f.Label))
			if f.Description != "" {
				fmt.Fprintf(&b, " (%s)", f.Description)
			}
			b.WriteString(". Send \"cancel\" to stop.\n")
		}
	case gateway.StepCode:
		// The code once: instructions may name it already.
		if !strings.Contains(step.Instructions, step.Data) {
			fmt.Fprintf(&b, "Code: %s\n", step.Data)
		}
	case gateway.StepQR:
		fmt.Fprintf(&b, "QR code data: %s\n", step.Data)
	case gateway.StepDone:
		fmt.Fprintf(&b, "Your %s account %s is now linked; its contacts are coming into your roster.\n", info.Name, step.Account)
	}
	if !step.Expires.IsZero() && step.Kind != gateway.StepDone {
		fmt.Fprintf(&b, "Valid until %s.\n", step.Expires.UTC().Format("15:04:05 MST"))
	}
	return strings.TrimRight(b.String(), "\n")
}

// notify sends a chat message from the gateway JID to owner.
func (c *Component) notify(ctx context.Context, owner ids.Owner, body string) {
	c.send(ctx, &stanza.Message{
		XMLName: xml.Name{Local: "message"},
		Attrs:   stanza.Attrs{Type: stanza.MessageTypeChat, From: c.domain, To: string(owner), Id: newID()},
		Body:    body,
	})
}

// follow waits, in the background, for the steps after a QR code or pairing
// code was shown, and tells owner about each (new codes, success, failure).
func (c *Component) follow(owner ids.Owner, run LoginRun) {
	ctx, cancel := context.WithTimeout(context.Background(), loginFollowLimit)
	defer cancel()
	for range loginFollowSteps {
		step, err := run.Wait(ctx)
		if err != nil {
			c.mu.Lock()
			cancelled := c.stopped[owner] == run
			if cancelled {
				delete(c.stopped, owner)
			}
			c.mu.Unlock()
			if cancelled { // by the user, who was told so
				return
			}
			text := failureText(err)
			if errors.Is(err, context.DeadlineExceeded) {
				text = "it was not completed in time" // loginFollowLimit
			} else {
				c.logErr("login failed", owner, err)
			}
			c.notify(ctx, owner, "Linking failed: "+text+"\nSend \"link\" to try again.")
			run.Cancel()
			return
		}
		c.notify(ctx, owner, stepText(c.info, step))
		switch step.Kind {
		case gateway.StepQR:
			c.sendQR(owner, step.Data)
		case gateway.StepDone:
			return
		case gateway.StepInput:
			c.mu.Lock()
			c.chat[owner] = &chatLogin{run: run, step: step, values: map[string]string{}}
			c.mu.Unlock()
			return
		}
	}
	run.Cancel()
	c.notify(ctx, owner, "Linking took too many steps and was stopped. Send \"link\" to try again.")
}

// forget drops the component's in-memory state about owner.
func (c *Component) forget(owner ids.Owner) {
	c.mu.Lock()
	delete(c.chat, owner)
	delete(c.stopped, owner)
	delete(c.gwRoster, owner)
	c.updateOwnerContacts(owner, func(s *contactState) { s.avatar = avatarState{} })
	maps.DeleteFunc(c.adhoc, func(_ string, s *adhocSession) bool { return s.owner == owner })
	c.mu.Unlock()
	c.forgetShown(owner)
}
