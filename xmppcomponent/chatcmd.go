package xmppcomponent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// chatLogin is a login flow driven by chat messages to the gateway JID, for
// clients without ad-hoc command support.
type chatLogin struct {
	run    LoginRun
	step   gateway.LoginStep
	values map[string]string
}

const chatHelp = `Commands (send them as a message to this address):
  link     link your %[1]s account
  unlink   unlink it (you stay registered; asks to confirm)
  status   show your account's state
  cancel   stop a link in progress
  help     this text`

// onChatCommand handles a message body sent to the gateway JID.
func (c *Component) onChatCommand(ctx context.Context, owner ids.Owner, body string) {
	body = strings.TrimSpace(body)
	word := strings.ToLower(strings.Fields(body + " ")[0])
	c.mu.Lock()
	pending := c.chat[owner]
	c.mu.Unlock()
	if pending != nil && word != "cancel" && word != "help" && word != "?" {
		c.chatInput(ctx, owner, pending, body)
		return
	}
	switch word {
	case "help", "?":
		c.notify(ctx, owner, c.helpText())
	case "link":
		body, yes := confirmedCommand(body)
		flow, err := c.chatFlow(body)
		if err != nil {
			c.notify(ctx, owner, userText(err))
			return
		}
		if a, err := c.gw.Account(ctx, owner, c.cfg.Platform); err == nil && replacesLink(a) && !yes {
			c.notify(ctx, owner, c.replaceWarning(a.ID)+"\nReply \""+strings.TrimSpace(body)+" yes\" to go on.")
			return
		}
		run, step, err := c.gw.StartLogin(ctx, owner, c.cfg.Platform, flow)
		if err != nil {
			c.logErr("chat link", owner, err)
			c.notify(ctx, owner, "Cannot link: "+failureText(err))
			return
		}
		c.chatStep(ctx, owner, run, step)
	case "cancel":
		c.mu.Lock()
		delete(c.chat, owner)
		c.mu.Unlock()
		if run, ok := c.gw.Login(owner, c.cfg.Platform); ok {
			c.mu.Lock()
			c.stopped[owner] = run // its follower ends quietly: the user knows
			c.mu.Unlock()
			run.Cancel()
			c.notify(ctx, owner, "Linking cancelled.")
			return
		}
		c.notify(ctx, owner, "Nothing to cancel.")
	case "unlink":
		if _, yes := confirmedCommand(body); !yes {
			c.confirmUnlink(ctx, owner)
			return
		}
		// Once unlinked, the hub tells the component, which says what
		// happened (accountGone, unlink.go).
		if err := c.gw.Unlink(ctx, owner, c.cfg.Platform); err != nil {
			c.logErr("chat unlink", owner, err)
			c.notify(ctx, owner, "Cannot unlink: "+failureText(err))
		}
	case "status":
		c.notify(ctx, owner, c.statusText(ctx, owner))
	default:
		c.notify(ctx, owner, fmt.Sprintf("Unknown command %q.\n", word)+c.helpText())
	}
}

// confirmedCommand splits a trailing "yes" off a command: "unlink yes"
// confirms "unlink".
func confirmedCommand(body string) (string, bool) {
	words := strings.Fields(body)
	if len(words) > 1 && strings.EqualFold(words[len(words)-1], "yes") {
		return strings.Join(words[:len(words)-1], " "), true
	}
	return body, false
}

// confirmUnlink says what "unlink" would do and how to confirm it.
func (c *Component) confirmUnlink(ctx context.Context, owner ids.Owner) {
	a, err := c.gw.Account(ctx, owner, c.cfg.Platform)
	switch {
	case err == nil && a.ID == "":
		c.notify(ctx, owner, "No "+c.info.Name+" account is linked: there is nothing to unlink.")
	case err != nil:
		c.logErr("chat unlink", owner, err)
		c.notify(ctx, owner, "Cannot unlink: "+failureText(err))
	default:
		c.notify(ctx, owner, fmt.Sprintf("This unlinks your %s account %s: the gateway logs it out, its contacts are shown offline and you leave its rooms. You stay registered.\nReply \"unlink yes\" to confirm.",
			c.info.Name, a.ID))
	}
}

// chatFlow picks the login flow of "link [FLOW]": by id or number; none
// means the platform's first.
func (c *Component) chatFlow(body string) (string, error) {
	words := strings.Fields(body)
	if len(words) < 2 {
		return "", nil
	}
	flows := c.loginFlows()
	for i, f := range flows {
		if strings.EqualFold(words[1], f.ID) || words[1] == strconv.Itoa(i+1) {
			return f.ID, nil
		}
	}
	return "", fmt.Errorf("no way to link called %q; %s", words[1], c.flowsText())
}

// helpText is the chat commands' help, with the ways to link when there
// are several.
func (c *Component) helpText() string {
	h := fmt.Sprintf(chatHelp, c.info.Name)
	if len(c.loginFlows()) > 1 {
		h += "\nTo link, " + c.flowsText()
	}
	return h
}

// flowsText lists the login flows for the help text.
func (c *Component) flowsText() string {
	flows := c.loginFlows()
	if len(flows) < 2 {
		return "send \"link\""
	}
	var b strings.Builder
	b.WriteString("choose one:")
	for i, f := range flows {
		fmt.Fprintf(&b, "\n  link %s   (or link %d) %s", f.ID, i+1, f.Name)
		if f.Description != "" {
			b.WriteString(": " + f.Description)
		}
	}
	return b.String()
}

// chatStep shows a login step and arranges for what comes next.
func (c *Component) chatStep(ctx context.Context, owner ids.Owner, run LoginRun, step gateway.LoginStep) {
	c.notify(ctx, owner, stepText(c.info, step))
	switch step.Kind {
	case gateway.StepInput:
		c.mu.Lock()
		c.chat[owner] = &chatLogin{run: run, step: step, values: map[string]string{}}
		c.mu.Unlock()
	case gateway.StepQR, gateway.StepCode:
		c.mu.Lock()
		delete(c.chat, owner)
		c.mu.Unlock()
		if step.Kind == gateway.StepQR {
			go c.sendQR(owner, step.Data)
		}
		go c.follow(owner, run)
	default:
		c.mu.Lock()
		delete(c.chat, owner)
		c.mu.Unlock()
	}
}

// chatInput takes a reply to a StepInput: one field per message.
func (c *Component) chatInput(ctx context.Context, owner ids.Owner, p *chatLogin, body string) {
	var next *gateway.LoginField
	for i := range p.step.Fields {
		if _, ok := p.values[p.step.Fields[i].ID]; !ok {
			next = &p.step.Fields[i]
			break
		}
	}
	if next != nil {
		p.values[next.ID] = body
	}
	for _, f := range p.step.Fields {
		if _, ok := p.values[f.ID]; !ok {
			c.notify(ctx, owner, fmt.Sprintf("Now reply with your %s.", strings.ToLower(f.Label)))
			return
		}
	}
	step, err := p.run.Submit(ctx, p.values)
	if errors.Is(err, gateway.ErrBadRequest) {
		p.values = map[string]string{}
		c.notify(ctx, owner, userText(err)+"\n"+stepText(c.info, p.step))
		return
	}
	if err != nil {
		c.mu.Lock()
		delete(c.chat, owner)
		c.mu.Unlock()
		c.logErr("chat login", owner, err)
		c.notify(ctx, owner, "Linking failed: "+failureText(err))
		return
	}
	c.chatStep(ctx, owner, p.run, step)
}

// failureText is what a chat message tells a person of err: the hub's
// words for its sentinel errors, and for anything else a generic sentence
// (the caller logs the details, which are the operator's: store or
// network errors are no business of the user's), as stanza errors do.
func failureText(err error) string {
	se, _ := stanzaError(err)
	return se.Text
}

// statusText describes owner's registration for people.
func (c *Component) statusText(ctx context.Context, owner ids.Owner) string {
	a, err := c.gw.Account(ctx, owner, c.cfg.Platform)
	if errors.Is(err, gateway.ErrNotRegistered) {
		return "You are not registered. Send \"link\" to link your " + c.info.Name + " account."
	}
	if err != nil {
		c.logErr("status", owner, err)
		return "Cannot read your status: " + failureText(err)
	}
	if a.ID == "" {
		return "You are registered, but no " + c.info.Name + " account is linked. Send \"link\"."
	}
	s := fmt.Sprintf("%s account %s: %s", c.info.Name, a.ID, a.State)
	if a.StateDetail != "" {
		s += " (" + a.StateDetail + ")"
	}
	return s
}
