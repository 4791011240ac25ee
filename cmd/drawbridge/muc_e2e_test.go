package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Accounts of the group tests, and the Lounge's room.
const (
	mucPhoneA = "+15557650001"
	mucPhoneB = "+15557650002"
	mucPhoneC = "+15557650003"
	aliceNick = "Ali B"
	loungeJID = "#" + string(sandbox.Lounge) + "@" + e2eComponent
)

// linkPhone links u's XMPP account to a new sandbox account with phone.
func linkPhone(t testing.TB, u *user, phone string) {
	t.Helper()
	u.raw(`<message type='chat' to='` + e2eComponent + `'><body>link</body></message>`)
	u.waitMessage(e2eComponent, "Reply with your phone number")
	u.raw(`<message type='chat' to='` + e2eComponent + `'><body>` + phone + `</body></message>`)
	u.waitMessage(e2eComponent, "is now linked")
}

// join enters the Lounge as nick and waits for the subject that ends the
// join.
func (u *user) joinLounge(nick, history string) {
	u.t.Helper()
	u.raw(`<presence to='` + loungeJID + `/` + nick + `'><x xmlns='http://jabber.org/protocol/muc'>` + history + `</x></presence>`)
	u.waitRaw("the subject ending the join", `from="`+loungeJID+`"`, `<subject>`)
}

func wantCondition(t *testing.T, what, raw, cond string) {
	t.Helper()
	if got, err := stanzaErrorCondition(raw); err != nil || got != cond {
		t.Errorf("%s: condition %q (%v), want %s: %s", what, got, err, cond, raw)
	}
}

// TestGroupRooms has two XMPP users, linked to two sandbox accounts in the
// same group, use the group's room: invitations, disco, joins with the
// occupant list and roles, messages both ways with reflection and
// stanza-ids, platform-side topic changes, promotions and kicks, admin
// actions from XMPP, join history, the archive paged with RSM, and the
// refusals with their stanza errors.
func TestGroupRooms(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	p := e.app.sandbox.Platform()
	ctx := t.Context()
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	linkPhone(t, alice, mucPhoneA)
	linkPhone(t, bob, mucPhoneB)

	// Not linked, then linked but not a member: refused.
	carol.raw(`<presence to='` + loungeJID + `/carol' id='j0'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	wantCondition(t, "join without an account", carol.waitRaw("join refusal", `type="error"`, `from="`+loungeJID+`/carol"`).Raw, "registration-required")
	linkPhone(t, carol, mucPhoneC)
	carol.raw(`<presence to='` + loungeJID + `/carol' id='j1'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	wantCondition(t, "join by a non-member", carol.waitRaw("join refusal", `type="error"`, `id="j1"`).Raw, "registration-required")
	carol.raw(`<message type='groupchat' to='` + loungeJID + `' id='c1'><body>let me in</body></message>`)
	wantCondition(t, "message from a non-occupant", carol.waitRaw("message refusal", `type="error"`, `id="c1"`).Raw, "not-acceptable")

	// The platform's admin adds both accounts: each owner is invited.
	for _, phone := range []string{mucPhoneA, mucPhoneB} {
		if err := p.AddMember(sandbox.Alice, sandbox.Lounge, ids.UserID(phone)); err != nil {
			t.Fatal(err)
		}
	}
	// The invitation comes from the room and names who added them (a
	// mediated invitation), with the XEP-0249 payload for other clients.
	for _, u := range []*user{alice, bob} {
		u.waitRaw("an invitation from the room by the platform's admin", `from="`+loungeJID+`"`,
			`<invite from="`+string(sandbox.Alice)+`@`+e2eComponent+`"`, "Alice Sandbox added you", `jabber:x:conference`, `jid="`+loungeJID+`"`)
	}

	// Disco: the gateway is a conference service that lists the room; a
	// linked user in no group gets a plain empty list.
	if none := carol.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items'/>`); !strings.Contains(none.Raw, `type="result"`) || strings.Contains(none.Raw, "<item") {
		t.Errorf("gateway items for a user in no group: %s", none.Raw)
	}
	info := alice.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if !containsAll(info.Raw, `category="conference"`, `var="http://jabber.org/protocol/muc"`) {
		t.Errorf("gateway disco lacks the conference identity: %s", info.Raw)
	}
	items := alice.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	if !containsAll(items.Raw, `jid="`+loungeJID+`"`, `name="Sandbox Lounge"`) {
		t.Errorf("gateway items lack the room: %s", items.Raw)
	}
	room := alice.iq("get", loungeJID, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	for _, f := range []string{`category="conference"`, `name="Sandbox Lounge"`, `var="http://jabber.org/protocol/muc"`,
		`var="muc_membersonly"`, `var="muc_nonanonymous"`, `var="muc_persistent"`, `var="urn:xmpp:occupant-id:0"`,
		`var="urn:xmpp:mam:2"`, `var="urn:xmpp:sid:0"`, `var="urn:xmpp:message-correct:0"`,
		"Welcome to the Sandbox Lounge", `var="muc#roominfo_occupants"`, "<value>5</value>"} {
		if !strings.Contains(room.Raw, f) {
			t.Errorf("room disco lacks %s: %s", f, room.Raw)
		}
	}

	// Alice joins as "ali": every member as an occupant with roles, then
	// herself under the nick she chose.
	alice.raw(`<presence to='` + loungeJID + `/ali'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	alice.waitRaw("the owner Alice", `from="`+loungeJID+`/Alice Sandbox"`, `affiliation="owner"`, `role="moderator"`,
		`jid="`+string(sandbox.Alice)+`@`+e2eComponent+`"`, `urn:xmpp:occupant-id:0`)
	alice.waitRaw("Bob", `from="`+loungeJID+`/Bob Sandbox"`, `affiliation="member"`, `role="participant"`)
	alice.waitRaw("the Echo Bot", `from="`+loungeJID+`/Echo Bot"`)
	alice.waitRaw("the other linked user", `from="`+loungeJID+`/`+mucPhoneB+`"`)
	self := alice.waitRaw("the self-presence", `from="`+loungeJID+`/ali"`, `code="110"`, `code="100"`, `code="170"`, `jid="alice@`+e2eDomain)
	if strings.Contains(self.Raw, `code="210"`) {
		t.Errorf("the room changed the nick Alice chose: %s", self.Raw)
	}
	alice.waitRaw("the subject", `from="`+loungeJID+`"`, "<subject>Welcome to the Sandbox Lounge</subject>")
	// Another member's nick is refused (conflict); a free one replaces hers.
	alice.raw(`<presence to='` + loungeJID + `/Bob Sandbox' id='n1'/>`)
	wantCondition(t, "a nick another member has", alice.waitRaw("nick refusal", `type="error"`, `id="n1"`).Raw, "conflict")
	alice.raw(`<presence to='` + loungeJID + `/` + aliceNick + `' id='n2'/>`)
	alice.waitRaw("the old nick leaving", `type="unavailable"`, `from="`+loungeJID+`/ali"`, `nick="`+aliceNick+`"`, `code="303"`, `code="110"`)
	alice.waitRaw("the new nick", `id="n2"`, `from="`+loungeJID+`/`+aliceNick+`"`, `code="110"`)
	bob.joinLounge(mucPhoneB, "")

	// Messages both ways: the sender's own message comes back with its id
	// and the room's stanza-id.
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='g1'><body>hello room</body></message>`)
	refl := alice.waitRaw("the reflection", `id="g1"`, `type="groupchat"`, `from="`+loungeJID+`/`+aliceNick+`"`, `by="`+loungeJID+`"`, "hello room")
	got := bob.waitRaw("Alice's message", `from="`+loungeJID+`/`+mucPhoneA+`"`, "hello room", `<stanza-id`)
	if sid := attrOf(refl.Raw, "<stanza-id", "id"); sid == "" || !strings.Contains(got.Raw, `"`+sid+`"`) {
		t.Errorf("stanza-id %q of the reflection is not the one Bob got: %s", sid, got.Raw)
	}
	bob.raw(`<message type='groupchat' to='` + loungeJID + `' id='g2'><body>hi alice</body></message>`)
	alice.waitRaw("Bob's message", `from="`+loungeJID+`/`+mucPhoneB+`"`, "hi alice")
	bob.waitRaw("Bob's reflection", `id="g2"`, "hi alice")
	if msgs := p.GroupMessages(sandbox.Lounge); len(msgs) != 2 || msgs[0].From != mucPhoneA || msgs[1].Body != "hi alice" {
		t.Errorf("platform has %+v", msgs)
	}

	// Platform-only members write, and the bot answers "!echo".
	if _, err := p.SendGroupAs(ctx, sandbox.Bob, sandbox.Lounge, "!echo ping"); err != nil {
		t.Fatal(err)
	}
	var fromBob string
	for _, u := range []*user{alice, bob} {
		m := u.waitRaw("Bob Sandbox's message", `from="`+loungeJID+`/Bob Sandbox"`, "!echo ping")
		fromBob = attrOf(m.Raw, "<stanza-id", "id")
		u.waitRaw("the bot's answer", `from="`+loungeJID+`/Echo Bot"`, "<body>ping</body>")
	}

	// A reaction (to the room's stanza-id) and a retraction from XMPP.
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='r1'><reactions xmlns='urn:xmpp:reactions:0' id='` + fromBob + `'><reaction>👍</reaction></reactions></message>`)
	bob.waitRaw("Alice's reaction", `from="`+loungeJID+`/`+mucPhoneA+`"`, "urn:xmpp:reactions:0", `id="`+fromBob+`"`, "👍")
	alice.waitRaw("the reflected reaction", `id="r1"`, "👍")
	if m, _ := p.MessageByID(ids.MessageID(fromBob)); strings.Join(m.Reactions[mucPhoneA], "") != "👍" {
		t.Errorf("platform reactions on %s = %v", fromBob, m.Reactions)
	}
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='x1'><body>hello again</body></message>`)
	again := bob.waitRaw("Alice's second message", "hello again")
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='x1r'><retract xmlns='urn:xmpp:message-retract:1' id='x1'/></message>`)
	bob.waitRaw("Alice's retraction", "urn:xmpp:message-retract:1", `id="`+attrOf(again.Raw, "<stanza-id", "id")+`"`)

	// A correction from XMPP goes to the platform and to the other user.
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='g1c'><body>hello everyone</body><replace xmlns='urn:xmpp:message-correct:0' id='g1'/></message>`)
	bob.waitRaw("Alice's correction", `from="`+loungeJID+`/`+mucPhoneA+`"`, `urn:xmpp:message-correct:0`, "hello everyone")

	// Refusals: Bob is no admin.
	bob.raw(`<message type='groupchat' to='` + loungeJID + `' id='s1'><subject>Bob's topic</subject></message>`)
	wantCondition(t, "subject by a non-admin", bob.waitRaw("subject refusal", `type="error"`, `id="s1"`).Raw, "forbidden")
	res := iqRaw(bob, "set", loungeJID, `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Echo Bot' role='none'/></query>`)
	wantCondition(t, "kick by a non-admin", res, "forbidden")
	res = iqRaw(bob, "set", loungeJID, `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Echo Bot' affiliation='outcast'/></query>`)
	wantCondition(t, "ban", res, "feature-not-implemented")

	// Topic and promotion on the platform.
	if err := p.SetTopic(sandbox.Alice, sandbox.Lounge, "Platform topic"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{alice, bob} {
		u.waitRaw("the new subject", `from="`+loungeJID+`/Alice Sandbox"`, "<subject>Platform topic</subject>")
	}
	if err := p.Promote(sandbox.Alice, sandbox.Lounge, mucPhoneA); err != nil {
		t.Fatal(err)
	}
	alice.waitRaw("her promotion", `from="`+loungeJID+`/`+aliceNick+`"`, `affiliation="admin"`, `role="moderator"`, `code="110"`)
	bob.waitRaw("Alice's promotion", `from="`+loungeJID+`/`+mucPhoneA+`"`, `affiliation="admin"`)

	// Now an admin, Alice acts from XMPP.
	alice.raw(`<message type='groupchat' to='` + loungeJID + `' id='s2'><subject>XMPP topic</subject></message>`)
	bob.waitRaw("Alice's subject", "<subject>XMPP topic</subject>")
	if res := iqRaw(alice, "set", loungeJID, `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Echo Bot' role='none'/></query>`); !strings.Contains(res, `type="result"`) {
		t.Fatalf("kick by an admin: %s", res)
	}
	bob.waitRaw("the bot kicked", `from="`+loungeJID+`/Echo Bot"`, `type="unavailable"`, `code="307"`)

	// A kick on the platform side.
	if err := p.Kick(sandbox.Alice, sandbox.Lounge, sandbox.Bob); err != nil {
		t.Fatal(err)
	}
	alice.waitRaw("Bob Sandbox kicked", `from="`+loungeJID+`/Bob Sandbox"`, `type="unavailable"`, `code="307"`)

	// A member added and a new name, on the platform.
	if err := p.AddMember(sandbox.Alice, sandbox.Lounge, sandbox.QuietBot); err != nil {
		t.Fatal(err)
	}
	alice.waitRaw("the new member", `from="`+loungeJID+`/Quiet Bot"`, `role="participant"`)
	if err := p.RenameGroup(sandbox.Alice, sandbox.Lounge, "Sandbox Lobby"); err != nil {
		t.Fatal(err)
	}
	alice.waitRaw("the configuration change", `from="`+loungeJID+`"`, `code="104"`)
	if info := alice.iq("get", loungeJID, `<query xmlns='http://jabber.org/protocol/disco#info'/>`); !strings.Contains(info.Raw, `name="Sandbox Lobby"`) {
		t.Errorf("room disco after the rename: %s", info.Raw)
	}

	// Join history: Bob leaves and comes back asking for two messages.
	bob.raw(`<presence type='unavailable' to='` + loungeJID + `/` + mucPhoneB + `'/>`)
	bob.waitRaw("his own departure", `type="unavailable"`, `from="`+loungeJID+`/`+mucPhoneB+`"`, `code="110"`)
	bob.raw(`<presence to='` + loungeJID + `/` + mucPhoneB + `'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='2'/></x></presence>`)
	h1 := bob.waitRaw("history", `urn:xmpp:delay`, `type="groupchat"`)
	h2 := bob.waitRaw("more history", `urn:xmpp:delay`, `type="groupchat"`)
	bob.waitRaw("the subject after the history", "<subject>XMPP topic</subject>")
	if !strings.Contains(h1.Raw, "urn:xmpp:message-retract:1") || !strings.Contains(h2.Raw, "hello everyone") {
		t.Errorf("history should be the last two messages (the retraction, the correction):\n%s\n%s", h1.Raw, h2.Raw)
	}
	// maxchars='0' (what clients that read the archive ask for): no history.
	bob.raw(`<presence type='unavailable' to='` + loungeJID + `/` + mucPhoneB + `'/>`)
	bob.waitRaw("his own departure", `type="unavailable"`, `from="`+loungeJID+`/`+mucPhoneB+`"`, `code="110"`)
	bob.raw(`<presence to='` + loungeJID + `/` + mucPhoneB + `'><x xmlns='http://jabber.org/protocol/muc'><history maxchars='0'/></x></presence>`)
	if first := bob.waitRaw("history or the subject", `from="`+loungeJID); !strings.Contains(first.Raw, "<subject>") && strings.Contains(first.Raw, "urn:xmpp:delay") {
		t.Errorf("history despite maxchars='0': %s", first.Raw)
	}
	bob.waitRaw("the subject", "<subject>XMPP topic</subject>")

	// The archive, paged backwards two at a time.
	q := `<query xmlns='urn:xmpp:mam:2' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before/></set></query>`
	fin := iqRaw(alice, "set", loungeJID, q)
	if !containsAll(fin, `<fin`, `urn:xmpp:mam:2`, "<count>") || strings.Contains(fin, `complete="true"`) {
		t.Fatalf("first page fin: %s", fin)
	}
	first := between(fin, `<first index="`, `</first>`)
	first = first[strings.Index(first, ">")+1:]
	alice.waitRaw("an archived message", `<result`, `queryid="q1"`, `<forwarded xmlns="urn:xmpp:forward:0"`)
	alice.waitRaw("another archived message", `<result`, `queryid="q1"`)
	pages := 1
	for !strings.Contains(fin, `complete="true"`) {
		fin = iqRaw(alice, "set", loungeJID, fmt.Sprintf(`<query xmlns='urn:xmpp:mam:2' queryid='q2'><set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before>%s</before></set></query>`, first))
		if !strings.Contains(fin, "<fin") {
			t.Fatalf("page %d: %s", pages+1, fin)
		}
		first = between(fin, `<first index="`, `</first>`)
		first = first[strings.Index(first, ">")+1:]
		if pages++; pages > 20 {
			t.Fatal("the archive never completes")
		}
	}
	alice.waitRaw("the oldest message, on the last page", `queryid="q2"`, "hello room")

	// Bob's account is removed on the platform: his room session ends.
	if err := p.Kick(sandbox.Alice, sandbox.Lounge, mucPhoneB); err != nil {
		t.Fatal(err)
	}
	bob.waitRaw("his own kick", `type="unavailable"`, `from="`+loungeJID+`/`+mucPhoneB+`"`, `code="110"`, `code="307"`)
	alice.waitRaw("Bob kicked", `from="`+loungeJID+`/`+mucPhoneB+`"`, `type="unavailable"`, `code="307"`)
	bob.raw(`<message type='groupchat' to='` + loungeJID + `' id='g9'><body>still here?</body></message>`)
	wantCondition(t, "message after a kick", bob.waitRaw("refusal", `type="error"`, `id="g9"`).Raw, "not-acceptable")

	// A new group from XMPP, through the ad-hoc command.
	items = alice.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`)
	if !strings.Contains(items.Raw, `node="create-group"`) {
		t.Errorf("commands lack create-group: %s", items.Raw)
	}
	form := alice.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='create-group' action='execute'/>`)
	sessionID := attrOf(form.Raw, "<command", "sessionid")
	if sessionID == "" || !strings.Contains(form.Raw, `var="members"`) {
		t.Fatalf("create-group form: %s", form.Raw)
	}
	// Another user's XMPP address is not resolved to the number they
	// linked: that would reveal it, and add them without their consent.
	probe := alice.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='create-group' action='execute'/>`)
	refused := alice.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='create-group' sessionid='`+attrOf(probe.Raw, "<command", "sessionid")+`' action='complete'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='name'><value>Nosy</value></field><field var='members'><value>bob@`+e2eDomain+`</value></field></x></command>`)
	if !containsAll(refused.Raw, `type="error"`, "bad-request") {
		t.Errorf("adding a user by XMPP address: %s", refused.Raw)
	}
	done := alice.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='create-group' sessionid='`+sessionID+`' action='complete'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='name'><value>Side room</value></field>`+
		`<field var='members'><value>`+mucPhoneB+`</value><value>`+string(sandbox.Bob)+`@`+e2eComponent+`</value></field></x></command>`)
	if !containsAll(done.Raw, `status="completed"`, "Side room") {
		t.Fatalf("create-group: %s", done.Raw)
	}
	side := between(done.Raw, "its room is ", "<")
	alice.waitRaw("an invitation to the new room, by herself", `from="`+side+`"`, `<invite from="alice@`+e2eDomain+`"`, "jabber:x:conference", `jid="`+side+`"`)
	bob.waitRaw("an invitation to the new room, by Alice", `from="`+side+`"`, `<invite from="`+mucPhoneA+`@`+e2eComponent+`"`, "jabber:x:conference", `jid="`+side+`"`)
	alice.raw(`<presence to='` + side + `/me'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	alice.waitRaw("the new room's owner", `from="`+side+`/me"`, `affiliation="owner"`, `code="110"`)
	alice.waitRaw("Bob Sandbox in the new room", `from="`+side+`/Bob Sandbox"`)
	alice.waitRaw("the new room's subject", `from="`+side+`"`, "<subject>Side room — a Sandbox group</subject>")

	// Leaving the group itself, with the room's command.
	cmds := alice.iq("get", side, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`)
	if !strings.Contains(cmds.Raw, `node="leave-group"`) {
		t.Errorf("room commands: %s", cmds.Raw)
	}
	left := alice.iq("set", side, `<command xmlns='http://jabber.org/protocol/commands' node='leave-group' action='execute'/>`)
	if !strings.Contains(left.Raw, `status="completed"`) {
		t.Fatalf("leave-group: %s", left.Raw)
	}
	alice.waitRaw("the end of her room session", `from="`+side+`/me"`, `type="unavailable"`, `code="321"`)
	alice.raw(`<presence to='` + side + `/me' id='j9'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	wantCondition(t, "join after leaving", alice.waitRaw("join refusal", `type="error"`, `id="j9"`).Raw, "registration-required")
}

// iqRaw sends an IQ and returns the reply's raw XML, errors included.
func iqRaw(u *user, typ, to, payload string) string {
	u.t.Helper()
	return u.iq(typ, to, payload).Raw
}

// between returns the text of s after start up to end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// attrOf returns attribute attr of the first element of raw that starts
// with tag (servers write attributes in any order).
func attrOf(raw, tag, attr string) string {
	_, rest, ok := strings.Cut(raw, tag)
	if !ok {
		return ""
	}
	elem, _, _ := strings.Cut(rest, ">")
	return between(" "+elem, " "+attr+`="`, `"`)
}

// TestGroupInviteOnConnect: a user whose platform account is already in a
// group is invited to its room as soon as the account connects.
func TestGroupInviteOnConnect(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	p := e.app.sandbox.Platform()
	const phone = "+15557650009"
	if err := p.AddHuman(phone, "Erin Example"); err != nil {
		t.Fatal(err)
	}
	if err := p.AddMember(sandbox.Alice, sandbox.Lounge, phone); err != nil {
		t.Fatal(err)
	}
	erin := e.user("erin")
	linkPhone(t, erin, phone)
	// Nobody invited her while the gateway watched: the gateway does.
	erin.waitRaw("an invitation from the room, by the gateway", `from="`+loungeJID+`"`, `<invite from="`+e2eComponent+`"`, "jabber:x:conference")
	erin.joinLounge("Erin", "")
}
