package main

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// unlinkPhone is the sandbox account of the unlink test.
const unlinkPhone = "+15557659001"

// presenceView is what a client shows of the gateway's presences: which
// contacts (and the gateway itself) are online and which rooms the user is
// in, from every presence received, in order.
type presenceView struct {
	u      *user
	online map[string]bool // bare JID of a contact or the gateway
	inRoom map[string]bool // room JID
}

func newPresenceView(u *user) *presenceView {
	return &presenceView{u: u, online: map[string]bool{}, inRoom: map[string]bool{}}
}

// drain takes every presence received so far into the view. It does not
// wait: a context that is done already makes WaitFor return once nothing
// received matches.
func (v *presenceView) drain() {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		st, err := v.u.c.WaitFor(done, func(s xmpptest.Stanza) bool { return strings.HasPrefix(s.Raw, "<presence") })
		if err != nil {
			return
		}
		v.note(st.Raw)
	}
}

func (v *presenceView) note(raw string) {
	from := bare(attr(raw, "from"))
	typ := attr(raw, "type")
	switch {
	case strings.HasPrefix(from, "#"):
		if strings.Contains(raw, `code="110"`) { // the user's own occupant
			v.inRoom[from] = typ != "unavailable"
		}
	case from == e2eComponent || strings.HasSuffix(from, "@"+e2eComponent):
		switch typ {
		case "":
			v.online[from] = true
		case "unavailable":
			v.online[from] = false
		}
	}
}

// shown lists the contacts shown online and the rooms the user is in.
func (v *presenceView) shown() (online, rooms []string) {
	v.drain()
	for j, on := range v.online {
		if on {
			online = append(online, j)
		}
	}
	for r, in := range v.inRoom {
		if in {
			rooms = append(rooms, r)
		}
	}
	sort.Strings(online)
	sort.Strings(rooms)
	return online, rooms
}

// TestUnlinkLeavesNoGhosts (issue 13): after an unlink — by chat command,
// through the hub as the management API does, or by the platform logging
// the account out — no contact of the account and not the gateway is shown
// online, and the user is in no room; a chat message says what happened.
// Registration is by the XEP-0077 form, with the phone number in it.
func TestUnlinkLeavesNoGhosts(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	p := e.app.sandbox.Platform()
	u := e.user("alice")
	owner := ids.Owner(u.bare)
	contacts := []string{string(sandbox.EchoBot), string(sandbox.QuietBot), string(sandbox.Alice), string(sandbox.Bob)}
	for _, h := range []ids.UserID{sandbox.Alice, sandbox.Bob} {
		must(t, p.SetPresence(h, true, "around"))
	}

	// Registering is linking: the form has FORM_TYPE and the phone number.
	form := u.iq("get", e2eComponent, `<query xmlns='jabber:iq:register'/>`)
	if !containsAll(form.Raw, `var="FORM_TYPE"`, `<value>jabber:iq:register</value>`, `var="phone"`, `<phone/>`) {
		t.Fatalf("register form: %s", form.Raw)
	}
	res := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>jabber:iq:register</value></field><field var='phone'><value>`+unlinkPhone+`</value></field></x></query>`)
	if attr(res.Raw, "type") != "result" {
		t.Fatalf("register: %s", res.Raw)
	}
	u.waitRaw("gateway subscription request", `from="`+e2eComponent+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + e2eComponent + `' type='subscribed'/>`)
	u.raw(`<presence to='` + e2eComponent + `' type='subscribe'/>`)
	u.waitMessage(e2eComponent, "Code: ")
	u.waitMessage(e2eComponent, unlinkPhone+" is now linked")
	for _, c := range contacts {
		acceptContact(t, u, c+"@"+e2eComponent)
	}
	must(t, p.AddMember(sandbox.Alice, sandbox.Lounge, unlinkPhone))

	view := newPresenceView(u)
	// everything waits until the client shows every contact and the
	// gateway online, and the user in the Lounge.
	everything := func(what string) {
		t.Helper()
		u.waitRaw("an invitation to the Lounge", `jabber:x:conference`, `jid="`+loungeJID+`"`)
		u.joinLounge("alice", "")
		want := len(contacts) + 1
		waitFor(t, what, func() bool {
			online, rooms := view.shown()
			return len(online) == want && len(rooms) == 1
		})
	}
	// nothing checks that the client shows no contact online and no room.
	nothing := func(how string) {
		t.Helper()
		online, rooms := view.shown()
		if len(online) != 0 || len(rooms) != 0 {
			t.Errorf("after %s the client shows online %v and is in the rooms %v; want none", how, online, rooms)
		}
	}
	everything("contacts, gateway and room after registering")

	// "unlink" asks first; "link" while linked warns; neither changes anything.
	u.raw(`<message type='chat' to='` + e2eComponent + `'><body>unlink</body></message>`)
	u.waitMessage(e2eComponent, `Reply "unlink yes" to confirm`)
	u.raw(`<message type='chat' to='` + e2eComponent + `'><body>link</body></message>`)
	u.waitMessage(e2eComponent, `Reply "link yes" to go on`)
	if online, rooms := view.shown(); len(online) != len(contacts)+1 || len(rooms) != 1 {
		t.Errorf("asking changed what the client shows: online %v, rooms %v", online, rooms)
	}

	// By chat command, confirmed.
	u.raw(`<message type='chat' to='` + e2eComponent + `'><body>unlink yes</body></message>`)
	m := u.waitMessage(e2eComponent, "was unlinked")
	if !strings.Contains(m.Body, "Its 4 contacts are shown offline and you left the room") {
		t.Errorf("the unlink message does not say what happened: %q", m.Body)
	}
	nothing("unlink by chat command")

	// Through the hub, as the management API's UnlinkAccount.
	linkPhone(t, u, unlinkPhone)
	everything("contacts, gateway and room after linking again")
	if err := e.app.gw.Unlink(u.ctx(), owner, "sandbox"); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(e2eComponent, "was unlinked")
	nothing("unlink through the hub")

	// The platform logs the account out (the phone unlinked the device).
	linkPhone(t, u, unlinkPhone)
	everything("contacts, gateway and room after linking a third time")
	must(t, p.UnlinkDevices(unlinkPhone))
	u.waitMessage(e2eComponent, "was logged out")
	nothing("a logout on the platform's side")
}
