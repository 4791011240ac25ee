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
  unlink   unlink it (you stay registered)
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
		flow, err := c.chatFlow(body)
		if err != nil {
			c.notify(ctx, owner, userText(err))
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
		if err := c.gw.Unlink(ctx, owner, c.cfg.Platform); err != nil {
			c.logErr("chat unlink", owner, err)
			c.notify(ctx, owner, "Cannot unlink: "+failureText(err))
			return
		}
		c.notify(ctx, owner, "Your "+c.info.Name+" account is unlinked. Send \"link\" to link one again.")
	case "status":
		c.notify(ctx, owner, c.statusText(ctx, owner))
	default:
		c.notify(ctx, owner, fmt.Sprintf("Unknown command %q.\n", word)+c.helpText())
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
