package report

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// The group rows' tries, in the report's group room (env.joinGroup).

func groupTextToPlatform(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if err := e.x.send(`<message type='groupchat' to='%s' id='%s'><body>%s</body></message>`, e.room, tok, tok); err != nil {
		return tryResult{}, err
	}
	err := pollRefusal(ctx, e.x, tok, "the group text", func() bool {
		return slices.ContainsFunc(e.p().GroupMessages(e.group), func(m sandbox.Message) bool { return m.From == e.self && m.Body == tok })
	})
	return tryResult{latency: time.Since(start)}, err
}

func groupTextToXMPP(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if _, err := e.p().SendGroupAs(ctx, sandbox.Bob, e.group, tok); err != nil {
		return tryResult{}, err
	}
	_, err := e.x.wait(ctx, `type="groupchat"`, `from="`+e.room+`/`, `<body>`+tok+`</body>`)
	return tryResult{latency: time.Since(start)}, err
}

func groupMediaToPlatform(ctx context.Context, e *env, tok string) (tryResult, error) {
	m := e.media["image"]
	data := m.unique(tok)
	url := e.files.put(tok, m, data)
	start := time.Now()
	if err := e.x.send(`<message type='groupchat' to='%s' id='%s'><body>%s</body><x xmlns='jabber:x:oob'><url>%s</url></x></message>`, e.room, tok, url, url); err != nil {
		return tryResult{}, err
	}
	var got []byte
	err := pollRefusal(ctx, e.x, tok, "the group image", func() bool {
		for _, msg := range e.p().GroupMessages(e.group) {
			if msg.From == e.self && len(msg.Attachments) == 1 && bytes.HasSuffix(msg.Attachments[0].Data, []byte(tok)) {
				got = msg.Attachments[0].Data
				return true
			}
		}
		return false
	})
	return tryResult{latency: time.Since(start), bytes: len(got), equal: bytes.Equal(got, data)}, err
}

func groupMediaToXMPP(ctx context.Context, e *env, tok string) (tryResult, error) {
	m := e.media["image"]
	data := m.unique(tok)
	start := time.Now()
	id, err := e.p().SendGroupFileAs(ctx, sandbox.Bob, e.group, m.name, m.mime, data)
	if err != nil {
		return tryResult{}, err
	}
	s, err := e.x.wait(ctx, `type="groupchat"`, `from="`+e.room+`/`, `id="`+string(id)+`"`, `jabber:x:oob`)
	lat := time.Since(start)
	if err != nil {
		return tryResult{}, err
	}
	got, err := download(ctx, oobURL.FindStringSubmatch(s.Raw))
	return tryResult{latency: lat, bytes: len(got), equal: bytes.Equal(got, data)}, err
}

// nickOf is the room nick of a sandbox user: its name.
func (e *env) nickOf(u ids.UserID) string {
	if usr, ok := e.p().User(u); ok && usr.Name != "" {
		return usr.Name
	}
	return string(u)
}

// memberPresence waits for u's presence in the room with the fragments.
func (e *env) memberPresence(ctx context.Context, u ids.UserID, fragments ...string) error {
	_, err := e.x.wait(ctx, append([]string{`<presence`, `from="` + e.room + `/` + e.nickOf(u) + `"`}, fragments...)...)
	return err
}

// available is a presence fragment list that excludes unavailable
// presences by requiring the item of a present member.
func (e *env) addQuiet(ctx context.Context) error {
	if err := e.p().AddMember(sandbox.Alice, e.group, sandbox.QuietBot); err != nil {
		return err
	}
	return e.memberPresence(ctx, sandbox.QuietBot, `role="participant"`)
}

func groupJoinToXMPP(ctx context.Context, e *env, _ string) (tryResult, error) {
	start := time.Now()
	if err := e.addQuiet(ctx); err != nil {
		return tryResult{}, err
	}
	lat := time.Since(start)
	e.tr.note("platform: Alice removes Quiet Bot again (not timed)")
	if err := e.p().Kick(sandbox.Alice, e.group, sandbox.QuietBot); err != nil {
		return tryResult{}, err
	}
	return tryResult{latency: lat}, e.memberPresence(ctx, sandbox.QuietBot, `type="unavailable"`)
}

func groupLeaveToXMPP(ctx context.Context, e *env, _ string) (tryResult, error) {
	start := time.Now()
	if err := e.p().Leave(sandbox.Bob, e.group); err != nil {
		return tryResult{}, err
	}
	if err := e.memberPresence(ctx, sandbox.Bob, `type="unavailable"`); err != nil {
		return tryResult{}, err
	}
	lat := time.Since(start)
	e.tr.note("platform: Alice adds Bob back (not timed)")
	if err := e.p().AddMember(sandbox.Alice, e.group, sandbox.Bob); err != nil {
		return tryResult{}, err
	}
	return tryResult{latency: lat}, e.memberPresence(ctx, sandbox.Bob, `role="participant"`)
}

func groupKickToXMPP(ctx context.Context, e *env, _ string) (tryResult, error) {
	e.tr.note("platform: Alice adds Quiet Bot (not timed)")
	if err := e.addQuiet(ctx); err != nil {
		return tryResult{}, err
	}
	start := time.Now()
	if err := e.p().Kick(sandbox.Alice, e.group, sandbox.QuietBot); err != nil {
		return tryResult{}, err
	}
	err := e.memberPresence(ctx, sandbox.QuietBot, `type="unavailable"`, `code="307"`)
	return tryResult{latency: time.Since(start)}, err
}

func (e *env) member(u ids.UserID) (gateway.GroupMember, bool) {
	gi, err := e.p().Group(e.group, e.self)
	if err != nil {
		return gateway.GroupMember{}, false
	}
	return gi.Member(u)
}

func groupKickToPlatform(ctx context.Context, e *env, _ string) (tryResult, error) {
	e.tr.note("platform: Alice adds Quiet Bot (not timed)")
	if err := e.addQuiet(ctx); err != nil {
		return tryResult{}, err
	}
	start := time.Now()
	res, err := e.x.iq(ctx, "set", e.room, `<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='`+xmlAttr(e.nickOf(sandbox.QuietBot))+`' role='none'/></query>`)
	if err != nil {
		return tryResult{}, err
	}
	if !strings.Contains(res, `type="result"`) {
		return tryResult{}, fmt.Errorf("the kick was refused: %s", res)
	}
	err = poll(ctx, "the member removed", func() bool { _, in := e.member(sandbox.QuietBot); return !in })
	return tryResult{latency: time.Since(start)}, err
}

func groupTopicToPlatform(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if err := e.x.send(`<message type='groupchat' to='%s' id='%s'><subject>%s</subject></message>`, e.room, tok, tok); err != nil {
		return tryResult{}, err
	}
	err := pollRefusal(ctx, e.x, tok, "the topic", func() bool {
		gi, err := e.p().Group(e.group, e.self)
		return err == nil && gi.Topic == tok
	})
	return tryResult{latency: time.Since(start)}, err
}

func groupTopicToXMPP(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if err := e.p().SetTopic(sandbox.Alice, e.group, tok); err != nil {
		return tryResult{}, err
	}
	_, err := e.x.wait(ctx, `<message`, `from="`+e.room+`/`, `<subject>`+tok+`</subject>`)
	return tryResult{latency: time.Since(start)}, err
}

func groupAdminToPlatform(ctx context.Context, e *env, _ string) (tryResult, error) {
	bob := xmlAttr(string(sandbox.Bob) + "@" + e.d.Component)
	start := time.Now()
	res, err := e.x.iq(ctx, "set", e.room, `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='`+bob+`' affiliation='admin'/></query>`)
	if err != nil {
		return tryResult{}, err
	}
	if !strings.Contains(res, `type="result"`) {
		return tryResult{}, fmt.Errorf("the promotion was refused: %s", res)
	}
	err = poll(ctx, "Bob an admin", func() bool { m, ok := e.member(sandbox.Bob); return ok && m.Role == gateway.RoleAdmin })
	lat := time.Since(start)
	if err != nil {
		return tryResult{}, err
	}
	e.tr.note("XMPP: demote Bob again (not timed)")
	res, err = e.x.iq(ctx, "set", e.room, `<query xmlns='http://jabber.org/protocol/muc#admin'><item jid='`+bob+`' affiliation='member'/></query>`)
	if err != nil {
		return tryResult{}, err
	}
	if !strings.Contains(res, `type="result"`) {
		return tryResult{}, fmt.Errorf("the demotion was refused: %s", res)
	}
	return tryResult{latency: lat}, poll(ctx, "Bob a member", func() bool { m, ok := e.member(sandbox.Bob); return ok && m.Role == gateway.RoleMember })
}

func groupAdminToXMPP(ctx context.Context, e *env, _ string) (tryResult, error) {
	start := time.Now()
	if err := e.p().Promote(sandbox.Alice, e.group, sandbox.Bob); err != nil {
		return tryResult{}, err
	}
	if err := e.memberPresence(ctx, sandbox.Bob, `affiliation="admin"`); err != nil {
		return tryResult{}, err
	}
	lat := time.Since(start)
	e.tr.note("platform: Alice demotes Bob again (not timed)")
	if err := e.p().Demote(sandbox.Alice, e.group, sandbox.Bob); err != nil {
		return tryResult{}, err
	}
	return tryResult{latency: lat}, e.memberPresence(ctx, sandbox.Bob, `affiliation="member"`)
}
