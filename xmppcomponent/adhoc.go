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
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
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
	// replacing: the user is confirming that a new link replaces the
	// linked account; nothing is started.
	replacing bool
	run       LoginRun
	step      gateway.LoginStep
	created   time.Time
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
		if a, err := c.gw.Account(ctx, owner, c.cfg.Platform); err == nil && replacesLink(a) {
			c.replyIQ(ctx, iq, c.confirmReplace(owner, q.Node, newID(), a.ID))
			return
		}
		c.startLink(ctx, iq, from, q.Node, newID())
	}
}

// startLink is the first stage of "link" once nothing stands in the way:
// the choice of a flow, or the first step of the only one.
func (c *Component) startLink(ctx context.Context, iq *stanza.IQ, from jid.JID, node, sid string) {
	if flows := c.loginFlows(); len(flows) > 1 {
		c.replyIQ(ctx, iq, c.chooseFlow(Owner(from), node, sid, flows))
		return
	}
	c.startCommandLogin(ctx, iq, from, node, sid, "")
}

// replacesLink reports whether linking now would replace a usable account
// (one logged out on the platform's side is linked again without asking).
func replacesLink(a store.Account) bool {
	return a.ID != "" && a.State != event.StateLoggedOut
}

// confirmReplace is the first stage of "link" while an account is linked:
// it says that a new link replaces it, and asks to confirm.
func (c *Component) confirmReplace(owner ids.Owner, node, sid string, linked ids.AccountID) *xep.Command {
	c.mu.Lock()
	c.pruneAdhoc()
	c.adhoc[sid] = &adhocSession{owner: owner, replacing: true, created: time.Now()}
	c.mu.Unlock()
	form := &xep.Form{Type: "form", Title: "Link your " + c.info.Name + " account",
		Instructions: []string{c.replaceWarning(linked)},
		Fields: []xep.Field{{Var: "replace", Type: "boolean", Label: "Replace " + string(linked) + " with another account",
			Values: []string{"false"}}}}
	return &xep.Command{Node: node, SessionID: sid, Status: xep.StatusExecuting,
		Actions: &xep.Actions{Execute: xep.ActionNext, Next: &struct{}{}}, Form: form}
}

// replaceWarning tells what linking another account does to the linked one.
func (c *Component) replaceWarning(linked ids.AccountID) string {
	return fmt.Sprintf("Your %s account %s is already linked. Linking another account replaces it: %s is unlinked, its contacts are shown offline and you leave its rooms.",
		c.info.Name, linked, linked)
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
	c.replyIQ(ctx, iq, c.commandStep(owner, node, sid, run, step, formProblem{}))
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
	if s.replacing {
		if v, _ := q.Form.Value("replace"); v != "true" && v != "1" {
			c.mu.Lock()
			delete(c.adhoc, q.SessionID)
			c.mu.Unlock()
			c.replyIQ(ctx, iq, completed(q.Node, q.SessionID, "info", "Nothing changed: your "+c.info.Name+" account stays linked."))
			return
		}
		c.startLink(ctx, iq, from, q.Node, q.SessionID)
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
	values := q.Form.Values()
	step, err := s.run.Submit(ctx, values)
	if errors.Is(err, gateway.ErrBadRequest) {
		// The same stage again, with what was typed and what is wrong
		// with it (in the instructions too: some clients show no notes).
		res := c.commandStep(owner, q.Node, q.SessionID, s.run, s.step, formProblem{text: userText(err), values: values})
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
	c.replyIQ(ctx, iq, c.commandStep(owner, q.Node, q.SessionID, s.run, step, formProblem{}))
}

// formProblem is input a login step refused: what is wrong, and the
// values typed, which the form shows again.
type formProblem struct {
	text   string
	values map[string]string
}

// commandStep renders a login step as a command stage and records or ends
// the session. A step that shows a code ends the command with the code, in
// a plain note (a completed command has no form to fill in), and the
// gateway follows the flow by chat; a finished flow ends it with the
// account linked.
func (c *Component) commandStep(owner ids.Owner, node, sid string, run LoginRun, step gateway.LoginStep, problem formProblem) *xep.Command {
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
		if problem.text != "" {
			form.Instructions = append(form.Instructions, problem.text)
		}
		if step.Instructions != "" {
			form.Instructions = append(form.Instructions, step.Instructions)
		}
		form.Fields = loginFormFields(step.Fields, problem.values)
		cmd := &xep.Command{Node: node, SessionID: sid, Status: xep.StatusExecuting,
			Actions: &xep.Actions{Execute: xep.ActionComplete, Complete: &struct{}{}}, Form: form}
		if problem.text != "" {
			cmd.Notes = []xep.Note{{Type: "error", Text: problem.text}}
		}
		return cmd
	case gateway.StepQR, gateway.StepCode:
		if step.Kind == gateway.StepQR {
			go c.sendQR(owner, step.Data)
		}
		go c.follow(owner, run)
		return completed(node, sid, "info", stepText(c.info, step)+"\nYou will get a chat message from "+c.domain+" when linking completes.")
	default:
		return completed(node, sid, "info", stepText(c.info, step))
	}
}

// loginFormFields are a login step's fields as data form fields, with the
// values given (input the step refused, shown again to be corrected).
func loginFormFields(fields []gateway.LoginField, values map[string]string) []xep.Field {
	out := make([]xep.Field, 0, len(fields))
	for _, f := range fields {
		field := xep.Field{Var: f.ID, Type: "text-single", Label: f.Label, Desc: f.Description, Required: xep.Required}
		if v, ok := values[f.ID]; ok && v != "" {
			field.Values = []string{v}
		}
		out = append(out, field)
	}
	return out
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
