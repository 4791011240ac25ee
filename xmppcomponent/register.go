package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// Registration form fields besides the login flows' own.
const (
	regFieldFlow    = "flow"
	regFieldReplace = "replace"
	// regLegacyPhone is the login field the legacy <phone/> stands for.
	regLegacyPhone = "phone"
)

// onRegister serves XEP-0077 in-band registration with the gateway.
// Registering is the way to link: the form is the first step of linking
// (the way to link, and what its first step asks when the platform says so
// in advance), and submitting it registers and starts the link, which goes
// on by chat message (a pairing code, a QR code...). An empty submission
// only registers; linking is then the "link" command's.
func (c *Component) onRegister(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Register) {
	owner := Owner(from)
	switch {
	case iq.Type == stanza.IQTypeGet:
		a, err := c.gw.Account(ctx, owner, c.cfg.Platform)
		registered := err == nil
		if err != nil && !errors.Is(err, gateway.ErrNotRegistered) {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, c.registerQuery(a, registered, formProblem{}))
	case q.Remove != nil:
		contacts, _ := c.gw.Contacts(ctx, owner, c.cfg.Platform)
		if err := c.gw.Unregister(ctx, owner, c.cfg.Platform); err != nil {
			c.replyErr(ctx, iq, from, err)
			return
		}
		c.replyIQ(ctx, iq, nil)
		// XEP-0100: the gateway and its contacts leave the roster.
		for _, ct := range contacts {
			c.sendUnsubscribe(ctx, c.addr.UserJID(ct.User), owner)
		}
		c.sendUnsubscribe(ctx, c.domain, owner)
		c.forget(owner)
	default:
		c.registerAndLink(ctx, iq, from, q)
	}
}

// registerQuery is the registration form for an owner (registered or not,
// with the account a), showing problem if the last submission had one.
func (c *Component) registerQuery(a store.Account, registered bool, problem formProblem) *xep.Register {
	var instr []string
	if problem.text != "" {
		instr = append(instr, problem.text)
	}
	flows := c.loginFlows()
	switch {
	case replacesLink(a):
		instr = append(instr, c.replaceWarning(a.ID)+" To do so, tick the box and fill in the form; to stay as you are, submit it as it is.")
	case registered:
		instr = append(instr, fmt.Sprintf("You are registered. Fill in the form to link your %s account.", c.info.Name))
	default:
		instr = append(instr, fmt.Sprintf("Register to use %s through this gateway: fill in the form to link your %s account.", c.info.Name, c.info.Name))
	}
	instr = append(instr, fmt.Sprintf("Once you submit it, %s tells you in a chat what to do next.", c.domain))
	instr = append(instr, fmt.Sprintf("You can also link later: run the \"Link account\" command, or send \"link\" to %s in a chat.", c.domain))

	form := &xep.Form{Type: "form", Title: "Link your " + c.info.Name + " account", Instructions: instr,
		Fields: []xep.Field{{Var: "FORM_TYPE", Type: "hidden", Values: []string{xep.NSRegister}}}}
	if replacesLink(a) {
		v := "false"
		if r := problem.values[regFieldReplace]; r == "true" || r == "1" {
			v = "true"
		}
		form.Fields = append(form.Fields, xep.Field{Var: regFieldReplace, Type: "boolean",
			Label: "Replace " + string(a.ID) + " with another account", Values: []string{v}})
	}
	if len(flows) > 1 {
		field := xep.Field{Var: regFieldFlow, Type: "list-single", Label: "How to link", Values: []string{flows[0].ID}}
		if v, ok := problem.values[regFieldFlow]; ok && v != "" {
			field.Values = []string{v}
		}
		for _, f := range flows {
			field.Options = append(field.Options, xep.Option{Label: f.Name, Value: f.ID})
		}
		form.Fields = append(form.Fields, field)
	}
	fields := loginFormFields(registerLoginFields(flows), problem.values)
	for i := range fields {
		if len(flows) > 1 || replacesLink(a) {
			// Needed only for some ways to link, or when replacing.
			fields[i].Required = nil
		}
	}
	form.Fields = append(form.Fields, fields...)

	res := &xep.Register{Instructions: strings.Join(instr, "\n"), Form: form}
	if registered {
		res.Registered = &struct{}{}
	}
	// The legacy field, for clients without data forms.
	if slices.ContainsFunc(fields, func(f xep.Field) bool { return f.Var == regLegacyPhone }) {
		v := problem.values[regLegacyPhone]
		res.Phone = &v
	}
	return res
}

// registerLoginFields are the fields the flows' first steps ask, once each,
// each one's description naming the ways to link that need it when there
// are several.
func registerLoginFields(flows []gateway.LoginFlow) []gateway.LoginField {
	var out []gateway.LoginField
	needs := map[string][]string{}
	for _, f := range flows {
		for _, lf := range f.Fields {
			if _, seen := needs[lf.ID]; !seen {
				out = append(out, lf)
			}
			needs[lf.ID] = append(needs[lf.ID], f.Name)
		}
	}
	if len(flows) > 1 {
		for i, lf := range out {
			for_ := "For " + strings.Join(needs[lf.ID], ", ") + "."
			if lf.Description != "" {
				out[i].Description = lf.Description + ". " + for_
			} else {
				out[i].Description = for_
			}
		}
	}
	return out
}

// registerValues are the values of a registration submission: its data
// form's, else the legacy fields'. ok is false for an empty submission.
func registerValues(q *xep.Register) (values map[string]string, ok bool) {
	if q.Form != nil {
		return q.Form.Values(), true
	}
	if q.Phone != nil {
		return map[string]string{regLegacyPhone: strings.TrimSpace(*q.Phone)}, true
	}
	return nil, false
}

// registerAndLink registers owner and, for a submitted form, starts
// linking with what it holds.
func (c *Component) registerAndLink(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Register) {
	owner := Owner(from)
	before, err := c.gw.Account(ctx, owner, c.cfg.Platform)
	wasRegistered := err == nil
	if err != nil && !errors.Is(err, gateway.ErrNotRegistered) {
		c.replyErr(ctx, iq, from, err)
		return
	}
	values, link := registerValues(q)
	if r := values[regFieldReplace]; replacesLink(before) && r != "true" && r != "1" {
		link = false // linked, and not asked to replace it: nothing to do
	}
	flow := values[regFieldFlow]
	if link && flow != "" && !slices.ContainsFunc(c.loginFlows(), func(f gateway.LoginFlow) bool { return f.ID == flow }) {
		c.refuseRegistration(ctx, iq, before, wasRegistered, formProblem{text: fmt.Sprintf("There is no way to link called %q: choose one of the list.", flow), values: values})
		return
	}
	if err := c.gw.Register(ctx, owner, c.cfg.Platform); err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	if !link {
		c.registered(ctx, iq, owner)
		return
	}
	run, step, err := c.gw.StartLogin(ctx, owner, c.cfg.Platform, flow)
	if err == nil && step.Kind == gateway.StepInput && hasAll(values, step.Fields) {
		input := map[string]string{}
		for _, f := range step.Fields {
			input[f.ID] = values[f.ID]
		}
		step, err = run.Submit(ctx, input)
	}
	if err != nil {
		if run != nil {
			run.Cancel()
		}
		if !wasRegistered {
			// The registration failed as a whole.
			if uerr := c.gw.Unregister(ctx, owner, c.cfg.Platform); uerr != nil {
				c.logErr("undo registration", owner, uerr)
			}
		}
		if errors.Is(err, gateway.ErrBadRequest) {
			c.refuseRegistration(ctx, iq, before, wasRegistered, formProblem{text: userText(err), values: values})
			return
		}
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.registered(ctx, iq, owner)
	c.chatStep(ctx, owner, run, step) // the link goes on by chat (chatcmd.go)
}

// hasAll reports whether values has a non-empty value for every field.
func hasAll(values map[string]string, fields []gateway.LoginField) bool {
	for _, f := range fields {
		if strings.TrimSpace(values[f.ID]) == "" {
			return false
		}
	}
	return len(fields) > 0
}

// registered answers a successful registration.
func (c *Component) registered(ctx context.Context, iq *stanza.IQ, owner ids.Owner) {
	c.replyIQ(ctx, iq, nil)
	// XEP-0100: the gateway asks to be in the user's roster (again: the
	// user may have lost it).
	c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: stanza.PresenceTypeSubscribe, From: c.domain, To: string(owner)}})
}

// refuseRegistration answers a submission whose input is wrong: a
// not-acceptable error that says what is wrong, with the form again
// holding what was typed and the problem in its instructions (XEP-0077
// lets the error carry the query; clients show the form again from it).
func (c *Component) refuseRegistration(ctx context.Context, iq *stanza.IQ, a store.Account, registered bool, problem formProblem) {
	c.send(ctx, &stanza.IQ{
		XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeError, Id: iq.Id, From: iq.To, To: iq.From},
		Payload: queryError{query: c.registerQuery(a, registered, problem),
			err: xep.StanzaError{Type: "modify", Condition: "not-acceptable", Text: problem.text}},
	})
}

// queryError is an error reply's payload that carries the query again
// before the error.
type queryError struct {
	query stanza.IQPayload
	err   xep.StanzaError
}

func (queryError) Namespace() string         { return "" }
func (queryError) GetSet() *stanza.ResultSet { return nil }
func (e queryError) MarshalXML(enc *xml.Encoder, _ xml.StartElement) error {
	if err := enc.Encode(e.query); err != nil {
		return err
	}
	return enc.Encode(e.err)
}

func (c *Component) sendUnsubscribe(ctx context.Context, from string, owner ids.Owner) {
	for _, t := range []stanza.StanzaType{stanza.PresenceTypeUnsubscribe, stanza.PresenceTypeUnsubscribed, stanza.PresenceTypeUnavailable} {
		c.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{Type: t, From: from, To: string(owner)}})
	}
}

// onGatewayIQ serves XEP-0100 jabber:iq:gateway: the prompt, and turning a
// phone number into a contact JID.
func (c *Component) onGatewayIQ(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Gateway) {
	if iq.Type == stanza.IQTypeGet {
		prompt := c.info.UserPrompt
		c.replyIQ(ctx, iq, &xep.Gateway{Desc: "Enter the " + c.info.Name + " contact's phone number.", Prompt: &prompt})
		return
	}
	if q.Prompt == nil || *q.Prompt == "" {
		c.replyIQError(ctx, iq, errBadRequest("a <prompt/> with the contact's address is required"))
		return
	}
	user, err := c.gw.ResolveUser(ctx, Owner(from), c.cfg.Platform, *q.Prompt)
	if err != nil {
		c.replyErr(ctx, iq, from, err)
		return
	}
	c.replyIQ(ctx, iq, &xep.Gateway{JID: c.addr.UserJID(user)})
}
