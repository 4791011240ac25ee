package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// command is one XEP-0050 ad-hoc command of the gateway JID.
type command struct {
	node, name string
}

var commands = []command{
	{"link", "Link account"},
	{"unlink", "Unlink account"},
	{"status", "Account status"},
}

func findCommand(node string) (command, bool) {
	for _, c := range commands {
		if c.node == node {
			return c, true
		}
	}
	return command{}, false
}

// adhocSession is a multi-stage command in progress.
type adhocSession struct {
	owner ids.Owner
	// choosing: the user is picking a login flow; run is not started.
	choosing bool
	run      LoginRun
	step     gateway.LoginStep
	created  time.Time
}

const (
	adhocSessionTTL = 15 * time.Minute
	adhocMax        = 1000
)

func (c *Component) onCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) {
	switch q.Action {
	case "", xep.ActionExecute, xep.ActionNext, xep.ActionComplete, xep.ActionCancel, xep.ActionPrev:
	default:
		c.replyIQError(ctx, iq, errCommand("malformed-action", fmt.Sprintf("unknown command action %q", q.Action)))
		return
	}
	if q.Action == xep.ActionPrev {
		// No command of the gateway offers a previous stage.
		c.replyIQError(ctx, iq, errCommand("bad-action", "this command has no previous stage"))
		return
	}
	if c.adminCommand(ctx, iq, from, q) { // adhoc_admin.go
		return
	}
	if c.groupCommand(ctx, iq, from, q) { // muc_adhoc.go
		return
	}
	owner := Owner(from)
	if _, ok := findCommand(q.Node); !ok {
		c.replyIQError(ctx, iq, errItemNotFound("no command "+q.Node))
		return
	}
	if q.SessionID != "" {
		c.continueCommand(ctx, iq, from, q)
		return
	}
	if q.Action == xep.ActionCancel {
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, Status: xep.StatusCanceled})
		return
	}
	switch q.Node {
	case "status":
		c.replyIQ(ctx, iq, completed(q.Node, "", "info", c.statusText(ctx, owner)))
	case "unlink":
		if err := c.gw.Unlink(ctx, owner, c.cfg.Platform); err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, completed(q.Node, "", "info", "Your "+c.info.Name+" account is unlinked."))
	case "link":
		if flows := c.loginFlows(); len(flows) > 1 {
			c.replyIQ(ctx, iq, c.chooseFlow(owner, q.Node, newID(), flows))
			return
		}
		c.startCommandLogin(ctx, iq, from, q.Node, newID(), "")
	}
}

// startCommandLogin starts a login flow and shows its first step.
func (c *Component) startCommandLogin(ctx context.Context, iq *stanza.IQ, from jid.JID, node, sid, flow string) {
	owner := Owner(from)
	run, step, err := c.gw.StartLogin(ctx, owner, c.cfg.Platform, flow)
	if err != nil {
		c.mu.Lock()
		delete(c.adhoc, sid)
		c.mu.Unlock()
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, c.commandStep(owner, node, sid, run, step, ""))
}

// loginFlows are the platform's ways to link an account.
func (c *Component) loginFlows() []gateway.LoginFlow {
	return c.gw.LoginFlows(c.cfg.Platform)
}

// chooseFlow is the first stage of "link" when the platform offers several
// ways to link (a QR code, a pairing code...).
func (c *Component) chooseFlow(owner ids.Owner, node, sid string, flows []gateway.LoginFlow) *xep.Command {
	c.mu.Lock()
	c.pruneAdhoc()
	c.adhoc[sid] = &adhocSession{owner: owner, choosing: true, created: time.Now()}
	c.mu.Unlock()
	field := xep.Field{Var: "flow", Type: "list-single", Label: "How to link", Required: xep.Required, Values: []string{flows[0].ID}}
	var desc []string
	for _, f := range flows {
		field.Options = append(field.Options, xep.Option{Label: f.Name, Value: f.ID})
		if f.Description != "" {
			desc = append(desc, f.Name+": "+f.Description)
		}
	}
	form := &xep.Form{Type: "form", Title: "Link your " + c.info.Name + " account", Instructions: desc, Fields: []xep.Field{field}}
	return &xep.Command{Node: node, SessionID: sid, Status: xep.StatusExecuting,
		Actions: &xep.Actions{Execute: xep.ActionNext, Next: &struct{}{}}, Form: form}
}

func (c *Component) continueCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) {
	owner := Owner(from)
	c.mu.Lock()
	s, ok := c.adhoc[q.SessionID]
	if ok && s.owner != owner {
		ok = false
	}
	expired := ok && time.Since(s.created) > adhocSessionTTL
	if expired || (ok && q.Action == xep.ActionCancel) {
		delete(c.adhoc, q.SessionID)
	}
	c.mu.Unlock()
	if !ok {
		c.replyIQError(ctx, iq, errCommand("bad-sessionid", "unknown or expired session"))
		return
	}
	if expired { // not pruned yet (pruneAdhoc runs when a session starts)
		c.replyIQError(ctx, iq, xep.StanzaError{Type: "cancel", Condition: "not-allowed",
			Text: "this session has expired; run the command again", App: xml.Name{Space: xep.NSCommands, Local: "session-expired"}})
		return
	}
	if q.Action == xep.ActionCancel {
		if s.run != nil {
			s.run.Cancel()
		}
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, SessionID: q.SessionID, Status: xep.StatusCanceled})
		return
	}
	if q.Form == nil {
		c.replyIQError(ctx, iq, errCommand("bad-payload", "a data form is required"))
		return
	}
	if s.choosing {
		flow, _ := q.Form.Value("flow")
		if !slices.ContainsFunc(c.loginFlows(), func(f gateway.LoginFlow) bool { return f.ID == flow }) {
			c.replyIQError(ctx, iq, errBadRequest(fmt.Sprintf("no way to link called %q", flow)))
			return
		}
		c.startCommandLogin(ctx, iq, from, q.Node, q.SessionID, flow)
		return
	}
	if s.step.Kind != gateway.StepInput {
		c.replyIQError(ctx, iq, errBadRequest("this stage takes no input"))
		return
	}
	step, err := s.run.Submit(ctx, q.Form.Values())
	if errors.Is(err, gateway.ErrBadRequest) {
		res := c.commandStep(owner, q.Node, q.SessionID, s.run, s.step, userText(err))
		c.replyIQ(ctx, iq, res)
		return
	}
	if err != nil {
		c.mu.Lock()
		delete(c.adhoc, q.SessionID)
		c.mu.Unlock()
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, c.commandStep(owner, q.Node, q.SessionID, s.run, step, ""))
}

// commandStep renders a login step as a command stage and records or ends
// the session.
func (c *Component) commandStep(owner ids.Owner, node, sid string, run LoginRun, step gateway.LoginStep, problem string) *xep.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	if step.Kind != gateway.StepInput {
		delete(c.adhoc, sid)
	} else {
		c.pruneAdhoc()
		c.adhoc[sid] = &adhocSession{owner: owner, run: run, step: step, created: time.Now()}
	}
	switch step.Kind {
	case gateway.StepInput:
		form := &xep.Form{Type: "form", Title: "Link your " + c.info.Name + " account"}
		if step.Instructions != "" {
			form.Instructions = []string{step.Instructions}
		}
		for _, f := range step.Fields {
			form.Fields = append(form.Fields, xep.Field{Var: f.ID, Type: "text-single", Label: f.Label, Desc: f.Description, Required: xep.Required})
		}
		cmd := &xep.Command{Node: node, SessionID: sid, Status: xep.StatusExecuting,
			Actions: &xep.Actions{Execute: xep.ActionComplete, Complete: &struct{}{}}, Form: form}
		if problem != "" {
			cmd.Notes = []xep.Note{{Type: "error", Text: problem}}
		}
		return cmd
	case gateway.StepQR, gateway.StepCode:
		if step.Kind == gateway.StepQR {
			go c.sendQR(owner, step.Data)
		}
		go c.follow(owner, run)
		label := "Pairing code"
		if step.Kind == gateway.StepQR {
			label = "QR code"
		}
		form := &xep.Form{Type: "result", Title: label, Instructions: []string{step.Instructions},
			Fields: []xep.Field{{Var: "code", Type: "text-single", Label: label, Values: []string{step.Data}}}}
		cmd := completed(node, sid, "info", stepText(c.info, step)+"\nYou will get a chat message from "+c.domain+" when linking completes.")
		cmd.Form = form
		return cmd
	default:
		return completed(node, sid, "info", stepText(c.info, step))
	}
}

func (c *Component) pruneAdhoc() {
	for id, s := range c.adhoc {
		if time.Since(s.created) > adhocSessionTTL || len(c.adhoc) >= adhocMax {
			delete(c.adhoc, id)
		}
	}
}

// errCommand is a bad-request with an XEP-0050 application-specific
// condition (malformed-action, bad-action, bad-sessionid, bad-payload).
func errCommand(app, text string) xep.StanzaError {
	return xep.StanzaError{Type: "modify", Condition: "bad-request", Text: text, App: xml.Name{Space: xep.NSCommands, Local: app}}
}

func completed(node, sid, noteType, text string) *xep.Command {
	return &xep.Command{Node: node, SessionID: sid, Status: xep.StatusCompleted, Notes: []xep.Note{{Type: noteType, Text: text}}}
}
