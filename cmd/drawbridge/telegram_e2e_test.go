package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/adapters/telegram/telegramtest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/sealed"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// tgLoginURL finds a QR login code in a stanza.
var tgLoginURL = regexp.MustCompile(`tg://login\?token=[A-Za-z0-9_=-]+`)

// The Telegram cast: the account romeo links, and Alice, a contact of it.
const (
	tgOwnerID    = 1001
	tgOwnerPhone = "+15550000100"
	tgAliceID    = 2002
	tgAlicePhone = "+15550001111"
)

// startTelegramE2E runs the gateway with the Telegram adapter against a
// real Prosody and gotd's in-process MTProto server (package
// telegramtest): the adapter speaks real MTProto to it.
func startTelegramE2E(t *testing.T, backend string) (*e2e, *telegramtest.Server) {
	t.Helper()
	srv := telegramtest.New(t)
	srv.AddUser(tgOwnerID, tgOwnerPhone, "Romeo", "romeo")
	srv.AddUser(tgAliceID, tgAlicePhone, "Alice", "alice")
	srv.AddContact(tgOwnerID, tgAliceID)
	telegramOptions = []telegram.Option{telegram.WithClientOptions(srv.Options)}
	t.Cleanup(func() { telegramOptions = nil })
	e := startE2EConfig(t, backend, xmpptest.ProsodyOptions{}, func(cfg *config.Config) {
		cfg.Platforms = map[string]map[string]any{"telegram": {
			"enabled": true, "api_id": telegramtest.APIID, "api_hash": telegramtest.APIHash,
		}}
		cfg.Store.EncryptionKey = "ZTJlLWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc=" // 32 bytes
	})
	return e, srv
}

// TestTelegramEndToEnd links a Telegram account with the XEP-0050 link
// command (phone number, then the login code Telegram sent; or a QR code
// the phone accepts), receives a Telegram message and a photo, answers
// from XMPP, corrects the answer, and sees Alice's read marker, on both
// stores; the session is sealed at rest (store.encryption_key) and the
// api_hash is not in the debug log.
func TestTelegramEndToEnd(t *testing.T) {
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		t.Run(backend, func(t *testing.T) {
			e, srv := startTelegramE2E(t, backend)
			u := e.user("romeo")

			// Link: the command offers both flows; sqlite links by phone
			// and code, Redis by QR code.
			choice := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
			if !containsAll(choice.Raw, `var="flow"`, `<value>phone</value>`, `<value>qr</value>`) {
				t.Fatalf("link command should offer both ways to link: %s", choice.Raw)
			}
			submit := func(sid, field, value string) xmpptest.Stanza {
				return u.iq("set", e2eComponent, fmt.Sprintf(`<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='%s'><value>%s</value></field></x></command>`, sid, field, value))
			}
			if backend == config.BackendSQLite {
				first := submit(attr(choice.Raw, "sessionid"), "flow", "phone")
				if !containsAll(first.Raw, `status="executing"`, `var="phone"`) {
					t.Fatalf("link stage 1: %s", first.Raw)
				}
				codeForm := submit(attr(first.Raw, "sessionid"), "phone", tgOwnerPhone)
				if !containsAll(codeForm.Raw, `status="executing"`, `var="code"`, "Telegram sent a login code") {
					t.Fatalf("link stage 2 should ask for the code: %s", codeForm.Raw)
				}
				code, err := srv.LastCode(u.ctx(), tgOwnerPhone)
				if err != nil {
					t.Fatal(err)
				}
				done := submit(attr(codeForm.Raw, "sessionid"), "code", code)
				if !containsAll(done.Raw, `status="completed"`) {
					t.Fatalf("link stage 3: %s", done.Raw)
				}
			} else {
				res := submit(attr(choice.Raw, "sessionid"), "flow", "qr")
				url := tgLoginURL.FindString(res.Raw)
				if url == "" {
					t.Fatalf("the QR flow shows no tg://login code: %s", res.Raw)
				}
				if err := srv.AcceptLoginToken(u.ctx(), tgOwnerID, url); err != nil {
					t.Fatal(err)
				}
				u.waitMessage(e2eComponent, "is now linked")
			}

			// The session (auth key) is in the store, sealed.
			sealedStore, ok := e.app.store.(*sealed.Store)
			if !ok {
				t.Fatalf("the store is %T, want it sealed", e.app.store)
			}
			waitFor(t, "the stored session", func() bool {
				_, err := sealedStore.GetKV(u.ctx(), telegram.PlatformID, "1001", "session")
				return err == nil
			})
			clear, err := sealedStore.GetKV(u.ctx(), telegram.PlatformID, "1001", "session")
			if err != nil || !strings.Contains(string(clear), "AuthKey") {
				t.Fatalf("the session read through the store = %.40q, %v; want gotd's session", clear, err)
			}
			raw, err := sealedStore.Store.GetKV(u.ctx(), telegram.PlatformID, "1001", "session")
			if err != nil || strings.Contains(string(raw), "AuthKey") || bytes.Contains(raw, clear[:min(len(clear), 32)]) {
				t.Errorf("the session at rest is not sealed: %.60q, %v", raw, err)
			}

			// Telegram → XMPP, with an entity turned into XEP-0393 styling.
			alice := fmt.Sprintf("%d@%s", tgAliceID, e2eComponent)
			in, err := srv.Send(tgAliceID, tgOwnerID, "hello from Telegram")
			if err != nil {
				t.Fatal(err)
			}
			got := u.waitMessage(alice, "hello from Telegram")
			if got.Id != fmt.Sprint(in.ID) {
				t.Errorf("inbound stanza id = %q, want the Telegram message id %d", got.Id, in.ID)
			}

			// A photo: fetched over MTProto, served by the file host.
			jpeg := []byte("\xff\xd8\xff\xe0 a JPEG from Telegram")
			if _, err := srv.SendPhoto(tgAliceID, tgOwnerID, "", jpeg); err != nil {
				t.Fatal(err)
			}
			photo := u.waitRaw("the photo", `from="`+alice, `<x xmlns="jabber:x:oob">`)
			if m := oobURL.FindStringSubmatch(photo.Raw); m == nil {
				t.Errorf("no URL for the photo: %s", photo.Raw)
			} else if res, err := http.Get(m[1]); err != nil {
				t.Error(err)
			} else {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.Equal(b, jpeg) {
					t.Errorf("the photo's URL serves %d bytes, want the %d sent", len(b), len(jpeg))
				}
			}

			// XMPP → Telegram, then a correction (XEP-0308).
			u.raw(`<message type='chat' to='` + alice + `' id='x1'><body>hi back</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>`)
			waitFor(t, "the answer on Telegram", func() bool { _, ok := srv.Find(tgAliceID, "hi back"); return ok })
			u.raw(`<message type='chat' to='` + alice + `' id='x2'><body>hi back!</body><replace xmlns='urn:xmpp:message-correct:0' id='x1'/></message>`)
			waitFor(t, "the correction on Telegram", func() bool { _, ok := srv.Find(tgAliceID, "hi back!"); return ok })

			// Alice reads it: a displayed marker for the XMPP client's id.
			m, _ := srv.Find(tgAliceID, "hi back!")
			srv.Read(tgAliceID, tgOwnerID, m.ID)
			u.waitRaw("Alice's read marker", `from="`+alice, `<displayed xmlns="urn:xmpp:chat-markers:0" id="x1"`)

			// The api_hash never reaches the (debug) log.
			if logs := e.logs.String(); !strings.Contains(logs, "level=DEBUG") || strings.Contains(logs, telegramtest.APIHash) {
				t.Error("the gateway's debug log is off, or contains the api_hash")
			}
		})
	}
}

// TestTelegramConfigCheck: `config check` validates the Telegram section
// the example documents: the keys are named when missing or mistyped,
// and the api_hash is never printed.
func TestTelegramConfigCheck(t *testing.T) {
	example := config.Example()
	if !containsAll(example, "# telegram:", "#   api_id:", "#   api_hash:") {
		t.Fatalf("config example does not document the telegram section")
	}
	const head = "component:\n  jid: gw.example.org\n  secret: a-test-secret-of-24-chars\nplatforms:\n  telegram:\n"
	for _, tc := range []struct {
		name, section string
		want          []string // "" : ok
		notWant       string
	}{
		{"good", "    api_id: 12345\n    api_hash: 0123456789abcdef\n", nil, ""},
		{"missing hash", "    api_id: 12345\n", []string{"platforms.telegram.api_hash: required"}, ""},
		{"missing id", "    api_hash: 0123456789abcdef\n", []string{"platforms.telegram.api_id: required"}, "0123456789abcdef"},
		{"typo", "    api_id: 12345\n    api_hash: x\n    api_hsah: y\n", []string{"platforms.telegram.api_hsah: unknown key (did you mean api_hash?)"}, ""},
		{"a bad hash is not quoted", "    api_id: 12345\n    api_hash: [s3cr3t]\n", []string{"platforms.telegram.api_hash: want a string"}, "s3cr3t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(head+tc.section), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := run(t.Context(), []string{"config", "check", path}, &out, &out)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("config check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("config check passed; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("config check = %v; want %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error()+out.String(), tc.notWant) {
				t.Errorf("config check printed %q: %v", tc.notWant, err)
			}
		})
	}
}

// TestTelegramGroupEndToEnd: a basic group of the linked account is a
// room: the user is invited on connect, joins and sees the members with
// their roles and the group's description as subject, messages go both
// ways, a member's reaction on Telegram shows, and members added and
// removed on Telegram come and go.
func TestTelegramGroupEndToEnd(t *testing.T) {
	e, srv := startTelegramE2E(t, config.BackendSQLite)
	const bobID = 3003
	srv.AddUser(bobID, "+15550003333", "Bob", "")
	srv.AddGroup(42, "Book club", "Monthly picks", tgAliceID, []int64{bobID}, bobID, tgOwnerID)
	u := e.user("romeo")
	choice := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
	submit := func(sid, field, value string) xmpptest.Stanza {
		return u.iq("set", e2eComponent, fmt.Sprintf(`<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='%s'><value>%s</value></field></x></command>`, sid, field, value))
	}
	first := submit(attr(choice.Raw, "sessionid"), "flow", "phone")
	codeForm := submit(attr(first.Raw, "sessionid"), "phone", tgOwnerPhone)
	code, err := srv.LastCode(u.ctx(), tgOwnerPhone)
	if err != nil {
		t.Fatal(err)
	}
	if done := submit(attr(codeForm.Raw, "sessionid"), "code", code); !containsAll(done.Raw, `status="completed"`) {
		t.Fatalf("link: %s", done.Raw)
	}

	room := "#g42@" + e2eComponent
	u.waitRaw("a direct invitation", "jabber:x:conference", `jid="`+room+`"`)
	u.raw(`<presence to='` + room + `/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	u.waitRaw("Alice, the creator", `from="`+room+`/`, `affiliation="owner"`)
	u.waitRaw("Bob, an admin", `from="`+room+`/`, `affiliation="admin"`)
	u.waitRaw("the self-presence", `from="`+room+`/romeo"`, `code="110"`)
	u.waitRaw("the subject", `from="`+room+`"`, "<subject>Monthly picks</subject>")

	// Telegram → room.
	if err := srv.SendGroup(tgAliceID, 42, "hello book club"); err != nil {
		t.Fatal(err)
	}
	hello := u.waitRaw("Alice's message in the room", `type="groupchat"`, `from="`+room+`/`, "hello book club")

	// Bob reacts to it on Telegram: his reaction in the room, on it.
	bobsCopy, ok := srv.Find(bobID, "hello book club")
	if !ok {
		t.Fatal("Bob has no copy of Alice's message")
	}
	if err := srv.ReactInGroup(bobID, 42, bobsCopy.ID, "❤"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("Bob's reaction in the room", `type="groupchat"`, `from="`+room+`/Bob"`, "urn:xmpp:reactions:0",
		`id="`+attr(hello.Raw, "id")+`"`, "<reaction>❤</reaction>")

	// Room → Telegram: every member gets it.
	u.raw(`<message type='groupchat' to='` + room + `' id='tg1'><body>hi from XMPP</body></message>`)
	waitFor(t, "the message in Bob's copy of the group", func() bool { _, ok := srv.Find(bobID, "hi from XMPP"); return ok })
	u.waitRaw("the reflection", `id="tg1"`, `from="`+room+`/romeo"`, "hi from XMPP")

	// Alice adds Dave, then removes Bob: presences in the room.
	srv.AddUser(4004, "+15550004444", "Dave", "")
	if err := srv.AddToGroup(tgAliceID, 42, 4004); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("Dave joining", `from="`+room+`/Dave"`, `affiliation="member"`)
	if err := srv.RemoveFromGroup(tgAliceID, 42, bobID); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("Bob removed", `from="`+room+`/Bob"`, `type="unavailable"`)

	// Alice renames the group: the room's configuration changed (status
	// 104), its subject kept.
	if err := srv.RenameGroup(tgAliceID, 42, "Book & film club"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("the rename", `from="`+room+`"`, `code="104"`)

	// Alice sets a group photo: the room announces its new avatar hash
	// (XEP-0486) and its vCard carries the picture.
	photo := []byte("\xff\xd8\xff\xe0 the club's photo")
	if err := srv.SetGroupPhoto(tgAliceID, 42, photo); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(photo)
	u.waitRaw("the room's new avatar", `from="`+room+`"`, "vcard-temp:x:update", hex.EncodeToString(sum[:]))
	if card := u.iq("get", room, `<vCard xmlns='vcard-temp'/>`); !containsAll(card.Raw, base64.StdEncoding.EncodeToString(photo)) {
		t.Errorf("the room's vCard = %s, want the photo", card.Raw)
	}
}

// TestTelegramChannelEndToEnd: through a real Prosody, a Telegram
// broadcast channel with many subscribers is a read-only room (the
// account a visitor, its message refused with forbidden, disco saying
// muc_moderated and the channel's size) whose posts come from the
// channel; a forum topic is a room of its own, both ways.
func TestTelegramChannelEndToEnd(t *testing.T) {
	e, srv := startTelegramE2E(t, config.BackendSQLite)
	srv.AddChannel(telegramtest.Channel{ID: 78, Title: "News", Broadcast: true, Creator: tgAliceID, Members: []int64{tgOwnerID}, Hidden: 5000})
	srv.AddChannel(telegramtest.Channel{ID: 80, Title: "Project", Forum: true, Creator: tgAliceID, Members: []int64{tgOwnerID}})
	topic, err := srv.AddTopic(tgAliceID, 80, "Releases")
	if err != nil {
		t.Fatal(err)
	}
	u := e.user("romeo")
	choice := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/>`)
	submit := func(sid, field, value string) xmpptest.Stanza {
		return u.iq("set", e2eComponent, fmt.Sprintf(`<command xmlns='http://jabber.org/protocol/commands' node='link' sessionid='%s'><x xmlns='jabber:x:data' type='submit'><field var='%s'><value>%s</value></field></x></command>`, sid, field, value))
	}
	first := submit(attr(choice.Raw, "sessionid"), "flow", "phone")
	codeForm := submit(attr(first.Raw, "sessionid"), "phone", tgOwnerPhone)
	code, err := srv.LastCode(u.ctx(), tgOwnerPhone)
	if err != nil {
		t.Fatal(err)
	}
	if done := submit(attr(codeForm.Raw, "sessionid"), "code", code); !containsAll(done.Raw, `status="completed"`) {
		t.Fatalf("link: %s", done.Raw)
	}

	news := "#c78@" + e2eComponent
	u.waitRaw("an invitation to the channel", "jabber:x:conference", `jid="`+news+`"`)
	u.raw(`<presence to='` + news + `/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	u.waitRaw("the channel itself, an owner", `from="`+news+`/News"`, `affiliation="owner"`, `role="moderator"`)
	u.waitRaw("the self-presence as a visitor", `from="`+news+`/romeo"`, `role="visitor"`, `code="110"`)
	info := u.iq("get", news, `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if !containsAll(info.Raw, `var="muc_moderated"`, `<value>5003</value>`) {
		t.Errorf("channel disco#info: %s", info.Raw)
	}
	if _, err := srv.Post(tgAliceID, 78, 0, "issue 1 is out"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("the post, from the channel", `type="groupchat"`, `from="`+news+`/News"`, "issue 1 is out")
	u.raw(`<message type='groupchat' to='` + news + `' id='ro1'><body>can I post?</body></message>`)
	u.waitRaw("the refusal", `id="ro1"`, `type="error"`, "<forbidden", "read-only")

	room := fmt.Sprintf("#c80t%d@%s", topic, e2eComponent)
	u.waitRaw("an invitation to the topic", "jabber:x:conference", `jid="`+room+`"`)
	u.raw(`<presence to='` + room + `/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	u.waitRaw("the topic's self-presence", `from="`+room+`/romeo"`, `role="participant"`, `code="110"`)
	if _, err := srv.Post(tgAliceID, 80, topic, "v1.0 released"); err != nil {
		t.Fatal(err)
	}
	u.waitRaw("the topic's message", `type="groupchat"`, `from="`+room+`/`, "v1.0 released")
	u.raw(`<message type='groupchat' to='` + room + `' id='tp1'><body>congrats</body></message>`)
	u.waitRaw("the reflection", `id="tp1"`, `from="`+room+`/romeo"`, "congrats")
	waitFor(t, "the message in the topic", func() bool {
		msgs := srv.ChannelMessages(80)
		last := msgs[len(msgs)-1]
		h, ok := last.ReplyTo.(*tg.MessageReplyHeader)
		return last.Message == "congrats" && ok && h.ForumTopic && h.ReplyToMsgID == topic
	})
}
