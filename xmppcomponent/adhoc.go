package xmppcomponent

import (
	"context"
	"errors"
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
	owner   ids.Owner
	run     *gateway.LoginRun
	step    gateway.LoginStep
	created time.Time
}

const (
	adhocSessionTTL = 15 * time.Minute
	adhocMax        = 1000
)

func (c *Component) onCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) {
	if c.adminCommand(ctx, iq, from, q) { // adhoc_admin.go
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
		run, step, err := c.gw.StartLogin(ctx, owner, c.cfg.Platform, "")
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, c.commandStep(owner, q.Node, newID(), run, step, ""))
	}
}

func (c *Component) continueCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) {
	owner := Owner(from)
	c.mu.Lock()
	s, ok := c.adhoc[q.SessionID]
	if ok && s.owner != owner {
		ok = false
	}
	if ok && q.Action == xep.ActionCancel {
		delete(c.adhoc, q.SessionID)
	}
	c.mu.Unlock()
	if !ok {
		c.replyIQError(ctx, iq, xep.StanzaError{Type: "modify", Condition: "bad-request", Text: "unknown or expired session"})
		return
	}
	if q.Action == xep.ActionCancel {
		s.run.Cancel()
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, SessionID: q.SessionID, Status: xep.StatusCanceled})
		return
	}
	if s.step.Kind != gateway.StepInput {
		c.replyIQError(ctx, iq, errBadRequest("this stage takes no input"))
		return
	}
	if q.Form == nil {
		c.replyIQError(ctx, iq, errBadRequest("a data form is required"))
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
func (c *Component) commandStep(owner ids.Owner, node, sid string, run *gateway.LoginRun, step gateway.LoginStep, problem string) *xep.Command {
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

func completed(node, sid, noteType, text string) *xep.Command {
	return &xep.Command{Node: node, SessionID: sid, Status: xep.StatusCompleted, Notes: []xep.Note{{Type: noteType, Text: text}}}
}
