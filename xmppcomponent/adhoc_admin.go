package xmppcomponent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// AdminCommands are the gateway's XEP-0050 administration commands: list
// users, user info, unlink a user, reload the configuration. They call the
// same use cases as the management API (gateway.Admin). Only the JIDs
// IsAdmin accepts see them in the command list and may run them; anyone
// else who runs one gets a forbidden error.
type AdminCommands struct {
	// Admin is the hub's admin use cases (*gateway.Admin). Required.
	Admin AdminUseCases
	// IsAdmin decides who is an administrator; nil: nobody.
	IsAdmin func(owner ids.Owner) bool

	mu       sync.Mutex
	sessions map[string]adminSession
}

// AdminUseCases is what the admin commands call of the hub's admin use
// cases. It is declared here, on the consumer side, so that the commands
// are tested with a fake; *gateway.Admin is the production one.
type AdminUseCases interface {
	Accounts(ctx context.Context, platform ids.PlatformID, linkedOnly bool) ([]gateway.AccountInfo, error)
	Account(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (gateway.AccountInfo, error)
	Unlink(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (gateway.AccountInfo, error)
	Reload(ctx context.Context) (gateway.ReloadReport, error)
}

var _ AdminUseCases = (*gateway.Admin)(nil)

// adminSession is a two-stage admin command waiting for its form.
type adminSession struct {
	admin   ids.Owner
	node    string
	created time.Time
}

// The admin commands' nodes.
const (
	NodeAdminListUsers = "admin-list-users"
	NodeAdminUserInfo  = "admin-user-info"
	NodeAdminUnlink    = "admin-unlink-user"
	NodeAdminReload    = "admin-reload-config"
)

var adminCommands = []command{
	{NodeAdminListUsers, "List users (admin)"},
	{NodeAdminUserInfo, "User info (admin)"},
	{NodeAdminUnlink, "Unlink a user (admin)"},
	{NodeAdminReload, "Reload configuration (admin)"},
}

// adminFieldJID is the form field naming the user of user-info and unlink.
const adminFieldJID = "accountjid"

func isAdminNode(node string) bool {
	for _, c := range adminCommands {
		if c.node == node {
			return true
		}
	}
	return false
}

// isAdmin reports whether owner may run the admin commands.
func (c *Component) isAdmin(owner ids.Owner) bool {
	a := c.cfg.Admin
	return a != nil && a.Admin != nil && a.IsAdmin != nil && a.IsAdmin(owner)
}

// visibleCommands are the commands from may see: the user commands, and
// the admin commands for admins.
func (c *Component) visibleCommands(from jid.JID) []command {
	if !c.isAdmin(Owner(from)) {
		return commands
	}
	return slices.Concat(commands, adminCommands)
}

// findAdminCommand finds an admin command's node for an admin.
func (c *Component) findAdminCommand(from jid.JID, node string) (command, bool) {
	if !c.isAdmin(Owner(from)) {
		return command{}, false
	}
	for _, cmd := range adminCommands {
		if cmd.node == node {
			return cmd, true
		}
	}
	return command{}, false
}

// adminCommand handles q if it is an admin command and reports whether it
// was one.
func (c *Component) adminCommand(ctx context.Context, iq *stanza.IQ, from jid.JID, q *xep.Command) bool {
	if !isAdminNode(q.Node) {
		return false
	}
	owner := Owner(from)
	if !c.isAdmin(owner) {
		c.replyIQError(ctx, iq, xep.StanzaError{Type: "auth", Condition: "forbidden", Text: "only the gateway's administrators may run this command"})
		return true
	}
	ac := c.cfg.Admin
	if q.Action == xep.ActionCancel {
		if q.SessionID != "" {
			ac.take(q.SessionID, owner, q.Node)
		}
		c.replyIQ(ctx, iq, &xep.Command{Node: q.Node, SessionID: q.SessionID, Status: xep.StatusCanceled})
		return true
	}
	if q.SessionID != "" && !ac.take(q.SessionID, owner, q.Node) {
		c.replyIQError(ctx, iq, errCommand("bad-sessionid", "unknown or expired session"))
		return true
	}
	sid := q.SessionID
	if sid == "" {
		sid = newID()
	}
	switch q.Node {
	case NodeAdminListUsers:
		c.replyIQ(ctx, iq, c.adminListUsers(ctx, sid))
	case NodeAdminReload:
		r, err := ac.Admin.Reload(ctx)
		if err != nil {
			c.replyErr(ctx, iq, from, err)
			return true
		}
		c.log.Info("configuration reloaded by an administrator", "admin", owner, "applied", r.Applied, "needs_restart", r.NeedsRestart)
		c.replyIQ(ctx, iq, completed(q.Node, sid, "info", reloadText(r)))
	case NodeAdminUserInfo, NodeAdminUnlink:
		value, given := q.Form.Value(adminFieldJID)
		if !given {
			ac.put(sid, owner, q.Node)
			c.replyIQ(ctx, iq, adminJIDForm(q.Node, sid, "", ""))
			return true
		}
		user, err := parseBareJID(value)
		if err != nil {
			ac.put(sid, owner, q.Node)
			c.replyIQ(ctx, iq, adminJIDForm(q.Node, sid, err.Error(), value))
			return true
		}
		if q.Node == NodeAdminUserInfo {
			c.adminUserInfo(ctx, iq, from, sid, user)
		} else {
			c.adminUnlink(ctx, iq, from, sid, user)
		}
	}
	return true
}

func (c *Component) adminListUsers(ctx context.Context, sid string) *xep.Command {
	accts, err := c.cfg.Admin.Admin.Accounts(ctx, c.cfg.Platform, false)
	if err != nil {
		c.log.Error("admin: cannot list accounts", "err", err)
		return completed(NodeAdminListUsers, sid, "error", "The store did not answer; the operator has the details in the log.")
	}
	lines := make([]string, 0, len(accts))
	linked := 0
	for _, a := range accts {
		line := string(a.Owner) + ": "
		if a.ID == "" {
			line += "not linked"
		} else {
			linked++
			line += fmt.Sprintf("%s, %s", a.ID, a.State)
		}
		lines = append(lines, line)
	}
	form := &xep.Form{Type: "result", Title: "Users of " + c.domain, Fields: []xep.Field{
		{Var: "registered", Type: "text-single", Label: "Registered users", Values: []string{fmt.Sprint(len(accts))}},
		{Var: "linked", Type: "text-single", Label: "Linked accounts", Values: []string{fmt.Sprint(linked)}},
		{Var: "users", Type: "text-multi", Label: "Users", Values: lines},
	}}
	cmd := completed(NodeAdminListUsers, sid, "info", fmt.Sprintf("%d registered, %d linked.", len(accts), linked))
	cmd.Form = form
	return cmd
}

func (c *Component) adminUserInfo(ctx context.Context, iq *stanza.IQ, from jid.JID, sid string, user ids.Owner) {
	a, err := c.cfg.Admin.Admin.Account(ctx, user, c.cfg.Platform)
	if err != nil {
		c.adminReplyErr(ctx, iq, from, user, err)
		return
	}
	field := func(v, label, value string) xep.Field {
		return xep.Field{Var: v, Type: "text-single", Label: label, Values: []string{value}}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	acct := string(a.ID)
	if acct == "" {
		acct = "not linked"
	}
	session := "no"
	if a.Session {
		session = "yes"
	}
	form := &xep.Form{Type: "result", Title: string(user), Fields: []xep.Field{
		{Var: adminFieldJID, Type: "jid-single", Label: "User", Values: []string{string(user)}},
		field("platform", "Platform", string(a.Platform)),
		field("account", "Platform account", acct),
		field("state", "State", string(a.State)),
		field("state_detail", "State detail", a.StateDetail),
		field("session", "Live session", session),
		field("registered", "Registered", when(a.Registered)),
		field("updated", "Updated", when(a.Updated)),
		field("last_activity", "Last activity", when(a.LastActivity)),
	}}
	cmd := &xep.Command{Node: NodeAdminUserInfo, SessionID: sid, Status: xep.StatusCompleted, Form: form}
	c.replyIQ(ctx, iq, cmd)
}

func (c *Component) adminUnlink(ctx context.Context, iq *stanza.IQ, from jid.JID, sid string, user ids.Owner) {
	a, err := c.cfg.Admin.Admin.Unlink(ctx, user, c.cfg.Platform)
	if err != nil {
		c.adminReplyErr(ctx, iq, from, user, err)
		return
	}
	c.log.Info("account unlinked by an administrator", "admin", Owner(from), "owner", user, "platform", a.Platform)
	c.replyIQ(ctx, iq, completed(NodeAdminUnlink, sid, "info", fmt.Sprintf("The %s account of %s is unlinked; the user stays registered.", c.info.Name, user)))
}

// adminReplyErr answers an administrator's command about user with err.
// That user not being registered or linked is not the administrator's own
// registration problem (registration-required, RFC 6120 §8.3.3.15): the
// item asked about does not exist.
func (c *Component) adminReplyErr(ctx context.Context, iq *stanza.IQ, from jid.JID, user ids.Owner, err error) {
	switch {
	case errors.Is(err, gateway.ErrNotRegistered):
		c.replyIQError(ctx, iq, errItemNotFound(fmt.Sprintf("%s is not registered with this gateway", user)))
	case errors.Is(err, gateway.ErrNotLinked):
		c.replyIQError(ctx, iq, errItemNotFound(fmt.Sprintf("%s has no linked %s account", user, c.info.Name)))
	default:
		c.replyErr(ctx, iq, from, err)
	}
}

// adminJIDForm asks which user a command is about; after a refused value
// it shows the problem (in the instructions too: some clients show no
// notes) and the value, to be corrected.
func adminJIDForm(node, sid, problem, value string) *xep.Command {
	title := "User info"
	if node == NodeAdminUnlink {
		title = "Unlink a user"
	}
	field := xep.Field{Var: adminFieldJID, Type: "jid-single", Label: "User", Required: xep.Required}
	if value != "" {
		field.Values = []string{value}
	}
	form := &xep.Form{Type: "form", Title: title, Instructions: []string{"The user's bare JID."}, Fields: []xep.Field{field}}
	cmd := &xep.Command{Node: node, SessionID: sid, Status: xep.StatusExecuting,
		Actions: &xep.Actions{Execute: xep.ActionComplete, Complete: &struct{}{}}, Form: form}
	if problem != "" {
		form.Instructions = append([]string{problem}, form.Instructions...)
		cmd.Notes = []xep.Note{{Type: "error", Text: problem}}
	}
	return cmd
}

func reloadText(r gateway.ReloadReport) string {
	var b strings.Builder
	b.WriteString("Configuration reloaded.")
	if len(r.Applied) > 0 {
		b.WriteString("\nNow in effect: " + strings.Join(r.Applied, ", ") + ".")
	} else {
		b.WriteString("\nNo setting that can change at run time changed.")
	}
	if len(r.NeedsRestart) > 0 {
		b.WriteString("\nChanged, but needs a restart: " + strings.Join(r.NeedsRestart, ", ") + ".")
	}
	return b.String()
}

// parseBareJID checks a user JID typed by an administrator.
func parseBareJID(s string) (ids.Owner, error) {
	j, err := jid.Parse(strings.TrimSpace(s))
	if err != nil || j.Localpart() == "" || j.Resourcepart() != "" {
		return "", fmt.Errorf("%q is not a bare JID (user@domain)", s)
	}
	return ids.Owner(j.Bare().String()), nil
}

const (
	adminSessionTTL = 15 * time.Minute
	adminSessionMax = 100
)

// put records a session waiting for its form; a full table (adminSessionMax)
// loses its oldest session.
func (a *AdminCommands) put(sid string, admin ids.Owner, node string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions == nil {
		a.sessions = make(map[string]adminSession)
	}
	// Expired sessions go; if none did and the table is full, the oldest.
	oldest, oldestAt := "", time.Time{}
	for id, s := range a.sessions {
		if time.Since(s.created) > adminSessionTTL {
			delete(a.sessions, id)
		} else if oldest == "" || s.created.Before(oldestAt) {
			oldest, oldestAt = id, s.created
		}
	}
	if len(a.sessions) >= adminSessionMax {
		delete(a.sessions, oldest)
	}
	a.sessions[sid] = adminSession{admin: admin, node: node, created: time.Now()}
}

// take ends a session and reports whether it existed for admin and node.
func (a *AdminCommands) take(sid string, admin ids.Owner, node string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[sid]
	if !ok || s.admin != admin || s.node != node || time.Since(s.created) > adminSessionTTL {
		return false
	}
	delete(a.sessions, sid)
	return true
}
