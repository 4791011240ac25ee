package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// webScreenshot, when set, is where TestWebPageChromium also writes the
// screenshot of the one-to-one chat (the README's picture:
// go test ./cmd/drawbridge/ -run TestWebPageChromium -web-screenshot ../../docs/sandbox-web.png).
var webScreenshot = flag.String("web-screenshot", "", "also write the sandbox web page's screenshot to this file")

// webArtifacts is where the test keeps its screenshots (ignored by git).
const webArtifacts = "testdata/artifacts"

// chromium finds the browser: Debian's chromium, or $CHROMIUM.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("no chromium: install Debian's chromium (apt-get install chromium; .ci/run does), or set CHROMIUM")
	return ""
}

// page is the browser tab of the test.
type page struct {
	t   *testing.T
	ctx context.Context
}

// run runs chromedp actions in order, failing the test with what they
// were for.
func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("page: %s: %v", what, err)
	}
}

// waitJS waits until the JavaScript expression is true on the page.
func (p *page) waitJS(what, expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(e2eWait))); err != nil {
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("page: waiting for %s (%s): %v\npage text:\n%s", what, expr, err, body)
	}
}

// clickJS clicks the element the CSS selector finds, in one step in the
// page (the lists re-render as the platform changes: a click in two steps
// could find an element that a re-rendering replaced).
func (p *page) clickJS(what, sel string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel)
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		p.t.Fatalf("page: %s: no %s (%v)", what, sel, err)
	}
}

// msgJS is a JavaScript expression for the page's message with id.
func msgJS(id string) string {
	return fmt.Sprintf(`document.querySelector('#messages .msg[data-id="%s"]')`, id)
}

// screenshot saves the page as name under webArtifacts and returns the
// PNG.
func (p *page) screenshot(name string) []byte {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("page: screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(webArtifacts, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(webArtifacts, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	return png
}

// TestWebPageChromium drives the sandbox platform's web page in headless
// Chromium against a real Prosody: a person created on the page sends a
// text and an image to an XMPP user, who receives both (the image's bytes
// compared); the XMPP user replies, reacts, corrects and reads, and types,
// and the page shows each (asserted from its DOM), its read tick turning
// to read; the page reads the XMPP user's message (a displayed marker
// reaches them), reacts to it, types, corrects its text and retracts its
// image, and the XMPP user gets each; a group made on the page becomes a
// room the XMPP user is invited to, joins, and hears the page in; its
// topic and the XMPP user's promotion, set on the page, reach the room;
// the page's presence reaches the XMPP user. On a phone-sized screen the
// page fits the width.
func TestWebPageChromium(t *testing.T) {
	browser := chromium(t)
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Platforms["sandbox"]["web"] = map[string]any{"listen": "127.0.0.1:0"}
	})
	const (
		alicePhone = "+15557660001"
		carolPhone = "+15557660003"
	)
	alice := e.user("alice")
	linkPhone(t, alice, alicePhone)
	carolJID := carolPhone + "@" + e2eComponent
	url := e.app.sandbox.WebURL()
	if url == "" {
		t.Fatal("the gateway serves no web page with platforms.sandbox.web.listen set")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // CI runs as root
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, 4*time.Minute)
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}

	// A new person, by the form.
	p.run("open the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#me")))
	p.run("create Carol",
		chromedp.Click(chromedp.CSS("details.newuser summary")),
		chromedp.SendKeys(chromedp.CSS("#nu-phone"), "+1 555 766 0003"),
		chromedp.SendKeys(chromedp.CSS("#nu-name"), "Carol Page"),
		chromedp.Click(chromedp.CSS(`#newuser button[type="submit"]`)))
	p.waitJS("Carol played", `document.querySelector('#me').value === '`+carolPhone+`'`)

	// A chat with the XMPP user's sandbox account: a text, then an image.
	p.waitJS("Alice's account in the directory", `document.querySelector('#nc-peer option[value="`+alicePhone+`"]')`)
	p.run("open the chat with Alice",
		chromedp.SetValue(chromedp.CSS("#nc-peer"), alicePhone),
		chromedp.Click(chromedp.CSS(`#newchat button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#composer")))
	p.run("write", chromedp.SendKeys(chromedp.CSS("#body"), "Hello from the page"), chromedp.Click(chromedp.CSS("#send")))
	text := alice.waitMessage(carolJID, "Hello from the page")
	p.waitJS("the text in the chat", msgJS(text.Id))

	img := noisePNG(t, 16)
	imgPath := filepath.Join(t.TempDir(), "harbour.png")
	if err := os.WriteFile(imgPath, img, 0o644); err != nil {
		t.Fatal(err)
	}
	p.run("attach and send the image",
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{imgPath}),
		chromedp.Click(chromedp.CSS("#send")))
	s := alice.waitRaw("the image", `from="`+carolJID, `<x xmlns="jabber:x:oob">`)
	m := oobURL.FindStringSubmatch(s.Raw)
	if m == nil {
		t.Fatalf("no OOB URL in %s", s.Raw)
	}
	res, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(got, img) {
		t.Fatalf("the XMPP user downloaded %d bytes (%s), not the %d sent", len(got), res.Status, len(img))
	}
	p.waitJS("the image shown inline", `[...document.querySelectorAll('#messages .msg.mine img')].some(i => i.alt === 'harbour.png' && i.complete && i.naturalWidth === 256)`)
	if tick := textOf(p, msgJS(text.Id)+`.querySelector('.tick').dataset.status`); tick == "read" {
		t.Fatalf("the text is read before the XMPP user read it")
	}

	// The XMPP user answers: a reply, a reaction, a correction, a
	// displayed marker, typing.
	alice.raw(`<message type='chat' to='` + carolJID + `' id='a1'><body>Nice to meet you</body><reply xmlns='urn:xmpp:reply:0' to='` + carolJID + `' id='` + text.Id + `'/></message>`)
	p.waitJS("the reply with its quote", `[...document.querySelectorAll('#messages .msg')].some(li => li.querySelector('.quote')?.textContent.includes('Hello from the page') && li.querySelector('.body')?.textContent === 'Nice to meet you')`)
	alice.raw(`<message type='chat' to='` + carolJID + `' id='a2'><reactions xmlns='urn:xmpp:reactions:0' id='` + text.Id + `'><reaction>👍</reaction></reactions></message>`)
	p.waitJS("the reaction", msgJS(text.Id)+`?.querySelector('.reaction[data-emoji="👍"]')`)
	alice.raw(`<message type='chat' to='` + carolJID + `' id='a3'><body>Nice to meet you, Carol</body><replace xmlns='urn:xmpp:message-correct:0' id='a1'/></message>`)
	p.waitJS("the correction", `[...document.querySelectorAll('#messages .msg')].some(li => li.querySelector('.body')?.textContent === 'Nice to meet you, Carol' && li.querySelector('.edited'))`)
	alice.raw(`<message to='` + carolJID + `' id='a4'><displayed xmlns='urn:xmpp:chat-markers:0' id='` + text.Id + `'/></message>`)
	p.waitJS("the read tick", msgJS(text.Id)+`?.querySelector('.tick[data-status="read"]')`)
	alice.raw(`<message type='chat' to='` + carolJID + `' id='a5'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	p.waitJS("the typing notice", `document.querySelector('#typing').textContent.includes('typing')`)
	// The page read Alice's reply: she gets a displayed marker for it.
	alice.waitRaw("Carol's displayed marker", `from="`+carolJID, `<displayed xmlns="urn:xmpp:chat-markers:0"`)

	// The page reacts to the reply; Alice gets the reaction.
	p.clickJS("react to the reply", `#messages .msg:not(.mine) button[aria-label="React with ❤️"]`)
	alice.waitRaw("Carol's reaction", `from="`+carolJID, `<reactions xmlns="urn:xmpp:reactions:0"`, "❤️")
	p.waitJS("Carol's reaction on the page", `document.querySelector('#messages .msg:not(.mine) .reaction[data-emoji="❤️"]')`)
	shot := p.screenshot("sandbox-web-chat.png")
	if *webScreenshot != "" {
		if err := os.WriteFile(*webScreenshot, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The page types, corrects its text and retracts its image; Alice gets
	// each.
	p.run("type", chromedp.SendKeys(chromedp.CSS("#body"), "Let me"))
	alice.waitRaw("Carol typing", `from="`+carolJID, `<composing xmlns="http://jabber.org/protocol/chatstates"`)
	p.clickJS("edit the text", `#messages .msg[data-id="`+text.Id+`"] .action-edit`)
	if got := textOf(p, `document.querySelector('#body').value`); got != "Hello from the page" {
		t.Errorf("the composer holds %q to edit, want the message's text", got)
	}
	textOf(p, `(document.querySelector('#body').value = '')`)
	p.run("write the correction",
		chromedp.SendKeys(chromedp.CSS("#body"), "Hello from the sandbox page"),
		chromedp.Click(chromedp.CSS("#send")))
	alice.waitRaw("Carol's correction", `from="`+carolJID, `<replace xmlns="urn:xmpp:message-correct:0" id="`+text.Id+`"`, "Hello from the sandbox page")
	p.waitJS("the edit on the page", msgJS(text.Id)+`?.querySelector('.edited') && `+msgJS(text.Id)+`.querySelector('.body').textContent === 'Hello from the sandbox page'`)
	imageID := textOf(p, `document.querySelector('#messages .msg.mine img').closest('.msg').dataset.id`)
	p.clickJS("retract the image", `#messages .msg[data-id="`+imageID+`"] .action-retract`)
	alice.waitRaw("Carol's retraction", `from="`+carolJID, `<retract xmlns="urn:xmpp:message-retract:1" id="`+imageID+`"`)
	p.waitJS("the retraction on the page", msgJS(imageID)+`?.querySelector('.retracted')`)

	// A group from the page: Alice is invited to its room, joins, and
	// hears the page there.
	p.run("create a group",
		chromedp.SendKeys(chromedp.CSS("#ng-name"), "Regulator demo"),
		chromedp.Click(chromedp.CSS(`#ng-members input[value="`+alicePhone+`"]`)),
		chromedp.Click(chromedp.CSS(`#newgroup button[type="submit"]`)))
	p.waitJS("the group open", `document.querySelector('#chat-title').textContent.includes('Regulator demo')`)
	group := textOf(p, `document.querySelector('#chats button[data-chat^="group-"]').dataset.chat`)
	room := "#" + group + "@" + e2eComponent
	alice.waitRaw("the invitation to the group's room", `from="`+room+`"`, "jabber:x:conference", `jid="`+room+`"`)
	alice.raw(`<presence to='` + room + `/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	alice.waitRaw("the room's subject ending the join", `from="`+room+`"`, `<subject`)
	p.run("write in the group", chromedp.SendKeys(chromedp.CSS("#body"), "Welcome to the group"), chromedp.Click(chromedp.CSS("#send")))
	alice.waitRaw("the group message", `from="`+room+`/`, `type="groupchat"`, "Welcome to the group")
	p.waitJS("the group message on the page", `[...document.querySelectorAll('#messages .msg.mine .body')].some(b => b.textContent === 'Welcome to the group')`)

	// The page's admin controls: a topic, Alice made an admin.
	textOf(p, `(document.querySelector('#gt-topic').value = '')`)
	p.run("set the topic", chromedp.SendKeys(chromedp.CSS("#gt-topic"), "Article 7 interoperability"),
		chromedp.Click(chromedp.CSS(`#topic button[type="submit"]`)))
	alice.waitRaw("the new subject", `from="`+room+`/Carol Page"`, "<subject>Article 7 interoperability</subject>")
	p.clickJS("make Alice an admin", `#members li[data-member="`+alicePhone+`"] button[data-action="promote"]`)
	alice.waitRaw("her promotion", `from="`+room+`/alice"`, `affiliation="admin"`, `code="110"`)
	p.waitJS("Alice an admin on the page", `document.querySelector('#members li[data-member="`+alicePhone+`"]').textContent.includes('admin')`)

	// Presence: Alice subscribes to Carol, who goes offline with a
	// status; Alice sees it.
	alice.raw(`<presence to='` + carolJID + `' type='subscribe'/>`)
	alice.waitRaw("Carol's approval", `from="`+carolJID+`"`, `type="subscribed"`)
	p.run("go offline",
		chromedp.SetValue(chromedp.CSS("#pr-state"), "off"),
		chromedp.SendKeys(chromedp.CSS("#pr-status"), "at the hearing"),
		chromedp.Click(chromedp.CSS(`#presence button[type="submit"]`)))
	alice.waitRaw("Carol's presence", `from="`+carolJID, `type="unavailable"`, "at the hearing")
	p.screenshot("sandbox-web-group.png")

	// On a phone-sized screen the page reflows: nothing wider than the
	// screen.
	p.run("a phone-sized screen", chromedp.EmulateViewport(390, 844))
	p.waitJS("one column", `document.documentElement.scrollWidth <= window.innerWidth && document.querySelector('.side').getBoundingClientRect().right <= window.innerWidth`)
	p.screenshot("sandbox-web-phone.png")
}

// textOf evaluates a JavaScript expression that gives a string.
func textOf(p *page, expr string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("page: reading %s: %v", expr, err)
	}
	return strings.TrimSpace(s)
}
