package xmppcomponent

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Go tests of account linking where a stanza script cannot reach: the
// background follower run to its limits, QR images, session bounds.

const linkOwner ids.Owner = "alice@example.test"

// sentMessage is what these tests read of a message the component wrote.
type sentMessage struct {
	Type string `xml:"type,attr"`
	From string `xml:"from,attr"`
	To   string `xml:"to,attr"`
	Body string `xml:"body"`
	OOB  *struct {
		URL  string `xml:"url"`
		Desc string `xml:"desc"`
	} `xml:"jabber:x:oob x"`
}

// sentMessages decodes the messages among raw stanzas.
func sentMessages(t *testing.T, raw []string) []sentMessage {
	t.Helper()
	var out []sentMessage
	for _, r := range raw {
		if !strings.HasPrefix(r, "<message") {
			continue
		}
		var m sentMessage
		if err := xml.Unmarshal([]byte(r), &m); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		out = append(out, m)
	}
	return out
}

// seqLogin answers Wait from a list, then with endless if set.
type seqLogin struct {
	mu      sync.Mutex
	answers []loginAnswer
	endless *gateway.LoginStep
	waits   int
	cancels int
}

func (l *seqLogin) Last() gateway.LoginStep { return gateway.LoginStep{} }

func (l *seqLogin) Submit(context.Context, map[string]string) (gateway.LoginStep, error) {
	return gateway.LoginStep{}, errors.New("seqLogin takes no input")
}

func (l *seqLogin) Wait(context.Context) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	if len(l.answers) > 0 {
		a := l.answers[0]
		l.answers = l.answers[1:]
		return a.step, a.err
	}
	if l.endless != nil {
		return *l.endless, nil
	}
	return gateway.LoginStep{}, errors.New("seqLogin: no more answers")
}

func (l *seqLogin) Cancel() {
	l.mu.Lock()
	l.cancels++
	l.mu.Unlock()
}

// qrUploader keeps what it is given and answers a URL or fails.
type qrUploader struct {
	mu    sync.Mutex
	fail  error
	got   []event.Attachment
	bytes [][]byte
}

func (u *qrUploader) Upload(ctx context.Context, owner ids.Owner, _ ids.UserID, a event.Attachment) (string, error) {
	if u.fail != nil {
		return "", u.fail
	}
	r, err := a.Open(ctx)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.got = append(u.got, a)
	u.bytes = append(u.bytes, b)
	return fmt.Sprintf("https://files.example.test/%s/%d.png", owner, len(u.got)), nil
}

func (u *qrUploader) uploads() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func TestFollowRelaysLoginSteps(t *testing.T) {
	code := func(data string) loginAnswer {
		return loginAnswer{step: gateway.LoginStep{Kind: gateway.StepCode, Data: data}}
	}
	done := loginAnswer{step: gateway.LoginStep{Kind: gateway.StepDone, Account: "+15550001111"}}
	linked := "Your Sandbox account +15550001111 is now linked; its contacts are coming into your roster."
	endless := gateway.LoginStep{Kind: gateway.StepCode, Data: "AGAIN"}
	var tooMany []string
	for range loginFollowSteps {
		tooMany = append(tooMany, "Code: AGAIN")
	}
	tooMany = append(tooMany, `Linking took too many steps and was stopped. Send "link" to try again.`)

	for _, tc := range []struct {
		name        string
		answers     []loginAnswer
		endless     *gateway.LoginStep
		uploader    bool
		stoppedByMe bool
		bodies      []string
		images      int
		cancels     int
		chatInput   bool
	}{
		{name: "new code then done", answers: []loginAnswer{code("ABCD"), done},
			bodies: []string{"Code: ABCD", linked}},
		{name: "new QR code as an image", uploader: true,
			answers: []loginAnswer{{step: gateway.LoginStep{Kind: gateway.StepQR, Data: "2@abc"}}, done},
			bodies:  []string{"QR code data: 2@abc", "https://files.example.test/alice@example.test/1.png", linked}, images: 1},
		{name: "failure", answers: []loginAnswer{{err: fmt.Errorf("the phone said no: %w", gateway.ErrForbidden)}},
			bodies: []string{"Linking failed: the phone said no\nSend \"link\" to try again."}, cancels: 1},
		{name: "failure of the gateway", answers: []loginAnswer{{err: errors.New("dial tcp 10.0.0.7:6379: connection refused")}},
			bodies: []string{"Linking failed: the gateway failed to handle this; the operator has the details in the log\nSend \"link\" to try again."}, cancels: 1},
		{name: "more input, by chat", answers: []loginAnswer{{step: gateway.LoginStep{Kind: gateway.StepInput, Fields: []gateway.LoginField{{ID: "pw", Label: "Password"}}}}},
			bodies: []string{"Reply with your password. Send \"cancel\" to stop."}, chatInput: true},
		{name: "too many steps", endless: &endless, bodies: tooMany, cancels: 1},
		{name: "cancelled by the user", stoppedByMe: true,
			answers: []loginAnswer{{err: fmt.Errorf("this login was cancelled: %w", gateway.ErrBadRequest)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			if tc.uploader {
				s.c.cfg.Uploader = &qrUploader{}
			}
			run := &seqLogin{answers: tc.answers, endless: tc.endless}
			if tc.stoppedByMe {
				s.c.stopped[linkOwner] = run
			}
			s.c.follow(linkOwner, run) // runs until the flow ends

			msgs := sentMessages(t, s.rec.take())
			var bodies []string
			images := 0
			for _, m := range msgs {
				if m.From != "gw.example.test" || m.To != string(linkOwner) || m.Type != "chat" {
					t.Errorf("message from %q to %q type %q, want a chat from the gateway to the bare JID", m.From, m.To, m.Type)
				}
				bodies = append(bodies, m.Body)
				if m.OOB != nil {
					images++
					if m.OOB.URL != m.Body {
						t.Errorf("OOB URL %q, body %q: want the same", m.OOB.URL, m.Body)
					}
				}
			}
			if strings.Join(bodies, "\n--\n") != strings.Join(tc.bodies, "\n--\n") {
				t.Errorf("messages:\n%q\nwant:\n%q", bodies, tc.bodies)
			}
			if images != tc.images {
				t.Errorf("%d images, want %d", images, tc.images)
			}
			if run.cancels != tc.cancels {
				t.Errorf("%d Cancel calls, want %d", run.cancels, tc.cancels)
			}
			s.c.mu.Lock()
			defer s.c.mu.Unlock()
			if p := s.c.chat[linkOwner]; (p != nil && p.run == LoginRun(run)) != tc.chatInput {
				t.Errorf("chat input pending: %v, want %v", p != nil, tc.chatInput)
			}
			if _, ok := s.c.stopped[linkOwner]; ok {
				t.Error("the cancelled login is still remembered after its follower ended")
			}
		})
	}
}

func TestSendQR(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     string
		uploader *qrUploader
		sent     bool
	}{
		{name: "an image with its URL", data: "2@abcdef,ghijkl,mnopqr==", uploader: &qrUploader{}, sent: true},
		{name: "no file host", data: "2@abc"},
		{name: "no data", data: "", uploader: &qrUploader{}},
		{name: "upload fails", data: "2@abc", uploader: &qrUploader{fail: errors.New("disk full")}},
		{name: "too long for a QR code", data: strings.Repeat("x", 4000), uploader: &qrUploader{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			if tc.uploader != nil {
				s.c.cfg.Uploader = tc.uploader
			}
			s.c.sendQR(linkOwner, tc.data)
			msgs := sentMessages(t, s.rec.take())
			if !tc.sent {
				if len(msgs) != 0 {
					t.Fatalf("sent %v, want nothing", msgs)
				}
				if tc.uploader != nil && tc.uploader.fail == nil && tc.uploader.uploads() != 0 {
					t.Fatalf("uploaded %d files, want none", tc.uploader.uploads())
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("sent %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			const url = "https://files.example.test/alice@example.test/1.png"
			if m.From != "gw.example.test" || m.To != string(linkOwner) || m.Body != url || m.OOB == nil || m.OOB.URL != url ||
				!strings.Contains(m.OOB.Desc, "Sandbox") {
				t.Errorf("message %+v (oob %+v), want the URL as body and OOB from the gateway", m, m.OOB)
			}
			a, b := tc.uploader.got[0], tc.uploader.bytes[0]
			if a.Name != "link-sandbox.png" || a.MIMEType != "image/png" || a.Kind != event.KindImage || a.Size != int64(len(b)) {
				t.Errorf("attachment %+v (%d bytes)", a, len(b))
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("the upload is not a PNG: %v", err)
			}
			if r := img.Bounds(); r.Dx() != 512 || r.Dy() != 512 {
				t.Errorf("QR image is %v, want 512×512", r)
			}
		})
	}
}

// TestLinkCommandSendsQRImage runs the path a script avoids: the first QR
// code of a link command is uploaded and sent in the background.
func TestLinkCommandSendsQRImage(t *testing.T) {
	s := newScript(t)
	up := &qrUploader{}
	s.c.cfg.Uploader = up
	h := loginHubOf(s)
	h.plans[linkOwner] = gateway.LoginStep{Kind: gateway.StepQR, Data: "2@first"}
	h.flows = h.flows[:1]

	handleScriptLine(t, s, `<iq type='set' id='q1' from='alice@example.test/laptop' to='gw.example.test'><command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/></iq>`)
	var out []string
	if !testutil.Poll(5*time.Second, func() bool {
		out = append(out, s.rec.take()...)
		return len(sentMessages(t, out)) > 0
	}) {
		t.Fatalf("no QR image was sent; wrote %q", out)
	}
	if len(out) != 2 || !strings.Contains(out[0]+out[1], `id="q1"`) {
		t.Fatalf("wrote %q, want the command's result and one image", out)
	}
	if m := sentMessages(t, out)[0]; m.OOB == nil || up.uploads() != 1 {
		t.Errorf("image message %+v, %d uploads", m, up.uploads())
	}
	// The follower waits for the phone; let it finish.
	l, err := h.run(linkOwner)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.answerWait(s, linkOwner, loginAnswer{step: gateway.LoginStep{Kind: gateway.StepDone, Account: "+15550001111"}}); err != nil {
		t.Fatal(err)
	}
}

// handleScriptLine gives one stanza to the script's component.
func handleScriptLine(t *testing.T, s *script, line string) {
	t.Helper()
	p, err := xmpptest.ParseStanza(line)
	if err != nil {
		t.Fatal(err)
	}
	s.c.HandleNow(t.Context(), p)
}

func TestAdhocSessionsAreBounded(t *testing.T) {
	s := newScript(t)
	old := time.Now().Add(-adhocSessionTTL - time.Second)
	s.c.adhoc["stale"] = &adhocSession{owner: "bob@example.test", choosing: true, created: old}
	for i := range adhocMax - 1 {
		s.c.adhoc[fmt.Sprint(i)] = &adhocSession{owner: "bob@example.test", choosing: true, created: time.Now()}
	}
	handleScriptLine(t, s, `<iq type='set' id='b1' from='alice@example.test/laptop' to='gw.example.test'><command xmlns='http://jabber.org/protocol/commands' node='link' action='execute'/></iq>`)
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if len(s.c.adhoc) > adhocMax {
		t.Errorf("%d sessions, want at most %d", len(s.c.adhoc), adhocMax)
	}
	if _, ok := s.c.adhoc["stale"]; ok {
		t.Error("a session past its time to live was kept")
	}
	mine := 0
	for _, sess := range s.c.adhoc {
		if sess.owner == linkOwner {
			mine++
		}
	}
	if mine != 1 {
		t.Errorf("alice has %d sessions, want the new one", mine)
	}
}

func TestAdminSessions(t *testing.T) {
	const admin, other ids.Owner = "admin@example.test", "root@example.test"
	a := &AdminCommands{}
	a.put("old", admin, NodeAdminUserInfo)
	a.sessions["old"] = adminSession{admin: admin, node: NodeAdminUserInfo, created: time.Now().Add(-adminSessionTTL - time.Second)}
	for i := range adminSessionMax + 10 {
		a.put(fmt.Sprint(i), admin, NodeAdminUnlink)
	}
	if n := len(a.sessions); n > adminSessionMax {
		t.Errorf("%d sessions, want at most %d", n, adminSessionMax)
	}
	if _, ok := a.sessions["old"]; ok {
		t.Error("a session past its time to live was kept")
	}
	a.put("s", admin, NodeAdminUnlink)
	a.put("stale", admin, NodeAdminUnlink)
	a.sessions["stale"] = adminSession{admin: admin, node: NodeAdminUnlink, created: time.Now().Add(-adminSessionTTL - time.Second)}
	for _, tc := range []struct {
		sid   string
		admin ids.Owner
		node  string
		want  bool
	}{
		{"s", other, NodeAdminUnlink, false},
		{"s", admin, NodeAdminUserInfo, false},
		{"stale", admin, NodeAdminUnlink, false},
		{"nope", admin, NodeAdminUnlink, false},
		{"s", admin, NodeAdminUnlink, true},
		{"s", admin, NodeAdminUnlink, false}, // taken
	} {
		if got := a.take(tc.sid, tc.admin, tc.node); got != tc.want {
			t.Errorf("take(%s, %s, %s) = %v, want %v", tc.sid, tc.admin, tc.node, got, tc.want)
		}
	}
}

func TestIsAdmin(t *testing.T) {
	yes := func(ids.Owner) bool { return true }
	for _, tc := range []struct {
		name string
		cmds *AdminCommands
		want bool
	}{
		{"no admin commands", nil, false},
		{"no use cases", &AdminCommands{IsAdmin: yes}, false},
		{"nobody is admin", &AdminCommands{Admin: &scriptAdmin{}}, false},
		{"not this one", &AdminCommands{Admin: &scriptAdmin{}, IsAdmin: func(o ids.Owner) bool { return o == "root@example.test" }}, false},
		{"admin", &AdminCommands{Admin: &scriptAdmin{}, IsAdmin: yes}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			s.c.cfg.Admin = tc.cmds
			if got := s.c.isAdmin(linkOwner); got != tc.want {
				t.Errorf("isAdmin = %v, want %v", got, tc.want)
			}
			if got := len(s.c.visibleCommands(jid.MustParse(string(linkOwner)+"/laptop"))) > len(commands); got != tc.want {
				t.Errorf("admin commands listed: %v, want %v", got, tc.want)
			}
		})
	}
}

func TestForgetDropsOnlyThatOwner(t *testing.T) {
	s := newScript(t)
	c := s.c
	for _, o := range []ids.Owner{linkOwner, "bob@example.test"} {
		k := contactKey{owner: o, user: "+15550001111"}
		c.contacts[k] = contactState{shown: true, asked: true, avatar: avatarState{known: true}}
		c.chat[o] = &chatLogin{}
		c.stopped[o] = &seqLogin{}
		c.adhoc["sid-"+string(o)] = &adhocSession{owner: o}
	}
	c.forget(linkOwner)
	counts := func(o ids.Owner) []int {
		n := make([]int, 6)
		for k, st := range c.contacts {
			if k.owner != o {
				continue
			}
			for i, kept := range []bool{st.shown, st.asked, st.avatar.known} {
				if kept {
					n[i]++
				}
			}
		}
		if c.chat[o] != nil {
			n[3]++
		}
		if c.stopped[o] != nil {
			n[4]++
		}
		for _, sess := range c.adhoc {
			if sess.owner == o {
				n[5]++
			}
		}
		return n
	}
	if got := fmt.Sprint(counts(linkOwner)); got != "[0 0 0 0 0 0]" {
		t.Errorf("alice's state after forget (presence asked avatars chat stopped adhoc): %s", got)
	}
	if got := fmt.Sprint(counts("bob@example.test")); got != "[1 1 1 1 1 1]" {
		t.Errorf("bob's state after forgetting alice: %s", got)
	}
}

func TestStatusText(t *testing.T) {
	for _, tc := range []struct {
		name string
		acct *store.Account
		fail error
		want string
	}{
		{"not registered", nil, nil, `You are not registered. Send "link" to link your Sandbox account.`},
		{"registered", &store.Account{Owner: linkOwner}, nil, `You are registered, but no Sandbox account is linked. Send "link".`},
		{"linked", &store.Account{Owner: linkOwner, ID: "+15550001111", State: event.StateConnected}, nil, "Sandbox account +15550001111: connected"},
		{"with a detail", &store.Account{Owner: linkOwner, ID: "+15550001111", State: event.StateDisconnected, StateDetail: "phone offline"}, nil,
			"Sandbox account +15550001111: disconnected (phone offline)"},
		{"store failure", nil, errors.New("redis: i/o timeout"), "Cannot read your status: the gateway failed to handle this; the operator has the details in the log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			if tc.acct != nil {
				s.hub.accounts[linkOwner] = *tc.acct
			}
			if tc.fail != nil {
				s.hub.fail["Account"] = tc.fail
			}
			if got := s.c.statusText(t.Context(), linkOwner); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
