package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// This file holds the fault tests of issue 8 that run through a real
// Prosody: each sends a known set of messages both ways while the fault
// happens, then counts what arrived. Every message must arrive exactly once
// and in per-chat order.

// TestRedisOutageLosesNothing SIGKILLs the gateway's redis-server (append-
// only file, fsync on every write) in the middle of a conversation and
// restarts it on the same directory and port. While it is down the platform
// keeps writing to the user, and the user keeps writing to the Echo Bot:
// the hub cannot journal the platform's messages (nor the bot's echoes), so
// the sandbox platform keeps them and offers them again, as a real platform
// does with what a device did not acknowledge; once redis is back they are
// journaled and delivered. Nothing is lost, nothing is duplicated, and each
// chat keeps its order.
func TestRedisOutageLosesNothing(t *testing.T) {
	const (
		before = 5  // messages each way before the kill
		during = 15 // ... up to this index while redis is down
		n      = 20 // ... up to this index after the restart
	)
	if testing.Short() {
		t.Skip("fault test: needs prosody and redis-server")
	}
	rp := storetest.StartRedisProcess(t, "--appendonly", "yes", "--appendfsync", "always")
	e := startE2EConfig(t, config.BackendRedis, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Store.Redis.URL = "redis://" + rp.Addr() + "/0"
	})
	u := e.user("alice")
	linkByChat(t, u)
	aliceJID := string(sandbox.Alice) + "@" + e2eComponent
	platform := e.app.sandbox.Platform()
	ctx := t.Context()

	// toXMPP: Alice, on the platform, writes p<i> to the user.
	toXMPP := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := platform.SendAs(ctx, sandbox.Alice, alicePhone, fmt.Sprintf("p%02d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// toPlatform: the user writes m<i> to the Echo Bot, without waiting
	// for the echoes.
	toPlatform := func(from, to int) {
		for i := from; i < to; i++ {
			u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='m%02d'><body>m%02d</body></message>`, echoJID, i, i))
		}
	}
	botGot := func(body string) bool {
		for _, m := range platform.Received(sandbox.EchoBot) {
			if m.Body == body {
				return true
			}
		}
		return false
	}
	inbox := &chatLog{}

	// Before: both directions flow. redis-server crashes while the
	// first set is still on its way (being journaled, delivered, or
	// removed from the journal), and both sides keep talking.
	toPlatform(0, before)
	toXMPP(0, before)
	inbox.readUntil(t, u, aliceJID, func() bool {
		return inbox.has(echoJID, "echo: m00") && inbox.has(aliceJID, "p00")
	})
	rp.Kill()
	toPlatform(before, during)
	toXMPP(before, during)
	// The user's messages reach the platform (sending needs no store), and
	// the hub has refused at least one event it could not journal, so the
	// outage was felt on the platform→XMPP path before redis comes back.
	waitFor(t, "the Echo Bot to receive the messages sent during the outage", func() bool {
		return botGot(fmt.Sprintf("m%02d", during-1))
	})
	waitFor(t, "the hub to refuse an event it cannot journal", func() bool {
		return strings.Contains(e.logs.String(), "the hub could not take an event over; redelivering")
	})
	rp.Restart()

	// After: the conversation goes on; what waited arrives.
	toPlatform(during, n)
	toXMPP(during, n)
	inbox.readUntil(t, u, aliceJID, func() bool {
		return inbox.distinct(echoJID) >= n && inbox.distinct(aliceJID) >= n
	})
	// Once the journal is empty nothing is left to replay; one more message
	// each way then comes last, so a copy of an earlier one would show up
	// before it and be counted.
	owner := ids.Owner(u.bare)
	waitFor(t, "an empty journal", func() bool {
		items, err := e.app.store.Pending(ctx, owner, 0)
		return err == nil && len(items) == 0
	})
	toPlatform(n, n+1)
	toXMPP(n, n+1)
	inbox.readUntil(t, u, aliceJID, func() bool {
		return inbox.has(echoJID, fmt.Sprintf("echo: m%02d", n)) && inbox.has(aliceJID, fmt.Sprintf("p%02d", n))
	})

	var atBot []string
	for _, m := range platform.Received(sandbox.EchoBot) {
		atBot = append(atBot, m.Body)
	}
	checkOnceInOrder(t, "XMPP→platform (at the Echo Bot)", atBot, "m%02d", n+1)
	checkOnceInOrder(t, "echoes at the XMPP user", inbox.bodies(echoJID), "echo: m%02d", n+1)
	checkOnceInOrder(t, "platform→XMPP", inbox.bodies(aliceJID), "p%02d", n+1)
	t.Logf("platform→XMPP: %d sent (%d during the redis outage), %d arrived, %d distinct, in order; XMPP→platform: %d sent (%d during the outage), %d at the Echo Bot, %d echoes arrived, %d distinct, in order",
		n+1, during-before, len(inbox.bodies(aliceJID)), inbox.distinct(aliceJID),
		n+1, during-before, len(atBot), len(inbox.bodies(echoJID)), inbox.distinct(echoJID))
}

// chatLog records, in arrival order and per sender, the bodies of the test
// messages an XMPP user received: echoes ("echo: m..") from the Echo Bot,
// and the platform's "p.." from Alice.
type chatLog struct {
	got map[string][]string // bare sender JID → bodies
}

// readUntil reads u's stanzas in order, recording the test messages, until
// done holds; it fails the test after e2eWait.
func (l *chatLog) readUntil(t *testing.T, u *user, aliceJID string, done func() bool) {
	t.Helper()
	if l.got == nil {
		l.got = map[string][]string{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	for !done() {
		s, err := u.c.Next(ctx)
		if err != nil {
			t.Fatalf("reading the user's stanzas (so far: echoes %v, platform %v): %v", l.got[echoJID], l.got[aliceJID], err)
		}
		m, ok := asMessage(s.Packet)
		if !ok || m.Type == "error" {
			if ok {
				t.Errorf("error stanza at the user: %s", s.Raw)
			}
			continue
		}
		from := bare(m.From)
		switch {
		case from == echoJID && strings.HasPrefix(m.Body, "echo: m"),
			from == aliceJID && strings.HasPrefix(m.Body, "p"):
			l.got[from] = append(l.got[from], m.Body)
		}
	}
}

func (l *chatLog) bodies(from string) []string { return l.got[from] }

func (l *chatLog) has(from, body string) bool {
	for _, b := range l.got[from] {
		if b == body {
			return true
		}
	}
	return false
}

func (l *chatLog) distinct(from string) int {
	seen := map[string]bool{}
	for _, b := range l.got[from] {
		seen[b] = true
	}
	return len(seen)
}

// checkOnceInOrder fails the test unless got is exactly format(0),
// format(1), ... format(n-1): every message once, in order.
func checkOnceInOrder(t *testing.T, what string, got []string, format string, n int) {
	t.Helper()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf(format, i)
	}
	checkExactlyOnce(t, what, got, want)
}

// TestGatewaySIGKILLThroughProsody SIGKILLs the real gateway binary, attached
// to a real Prosody, while the user's messages to the Echo Bot and the
// bot's echoes are in flight, then starts it again on the same store. The
// platform lives inside the binary, so both directions are counted through
// the echoes: every message K<i> the user sent must be echoed exactly once,
// and the echoes must arrive in order. What the bot answered before the
// kill but the gateway had not yet delivered comes from the gateway's
// journal after the restart.
//
// XEP-0114 has no acknowledgements, so the test client does what a careful
// client does with a message that got no answer: it sends it again, with
// the same id, once the gateway is back, and before any newer message (to
// keep the chat's order). Those are the messages Prosody bounced with an
// error stanza while the component was down, those Prosody wrote to the
// dying connection (nobody read them, nobody bounced them), and those the
// simulated platform took but died with before its bot answered (it lives
// in the killed process). To tell them from answers still on their way, the
// client decides only once the gateway's journal is empty, i.e. everything
// answered before the kill has been delivered again.
//
// The gateway's delivery is at-least-once (gateway/delivery/journal.go): echoes it
// wrote just before the kill, which Prosody routed but whose confirmation
// (a ping round trip) the gateway never read, are delivered again after the
// restart, with the same stanza id and XEP-0359 origin-id. The client, like
// any that follows XEP-0359, drops such a copy; the test counts the copies
// (the log line's "replayed copies") and fails if a copy differs in id or
// origin-id from the first, if two different echoes share an origin-id, or
// if a message sent after the kill is echoed twice. After that
// deduplication, each K must be echoed exactly once, in order.
func TestGatewaySIGKILLThroughProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody")
	}
	bin := buildGateway(t)
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		t.Run(backend, func(t *testing.T) {
			if _, err := exec.LookPath("redis-server"); backend == config.BackendRedis && err != nil {
				t.Skip("redis-server is not installed")
			}
			testGatewaySIGKILLThroughProsody(t, bin, backend)
		})
	}
}

func testGatewaySIGKILLThroughProsody(t *testing.T, bin, backend string) {
	const (
		before = 10 // sent and echoed before the kill
		burst  = 20 // ... up to this index written just before the kill
		dead   = 25 // ... up to this index sent while the gateway is dead
		n      = 30 // ... up to this index sent after the restart
	)
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	// loadConfig's gateway, as the e2e tests' component (so that linkByChat
	// and echoJID apply), with info logs for the failure output.
	cfg := loadConfig(t, backend, p.ComponentAddr)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	editFile(t, cfg, "level: warn", "level: info")

	e := &e2e{t: t, prosody: p}
	u := e.user("alice")
	pid := startGatewayProcess(t, bin, cfg)
	waitComponent(t, u, true)
	linkByChat(t, u)

	send := func(id string) {
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, id, id))
	}
	k := func(i int) string { return fmt.Sprintf("K%02d", i) }
	r := echoReader{bounced: map[string]string{}}
	for i := range before {
		send(k(i))
	}
	r.readUntil(t, u, func() bool { return r.distinct() >= before })

	// A burst, and the gateway dies in the middle of it: as soon as the
	// first message of the burst is echoed, the rest is on the way in (in
	// Prosody, in the socket, in the gateway) and their echoes on the way
	// out (journaled, written, unconfirmed).
	for i := before; i < burst; i++ {
		send(k(i))
	}
	r.readUntil(t, u, func() bool { return r.has(k(before)) })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	waitComponent(t, u, false)
	for i := burst; i < dead; i++ {
		send(k(i))
	}
	r.readUntil(t, u, func() bool {
		for i := burst; i < dead; i++ {
			if r.bounced[k(i)] == "" {
				return false
			}
		}
		return true
	})

	// The same binary on the same store. Once it has delivered all it
	// journaled, and the client has read it, the client re-sends what
	// got no echo.
	startGatewayProcess(t, bin, cfg)
	waitComponent(t, u, true)
	st := openConfiguredStore(t, cfg)
	waitFor(t, "the gateway to deliver what it journaled before the kill", func() bool {
		items, err := st.Pending(t.Context(), ids.Owner(u.bare), 0)
		return err == nil && len(items) == 0
	})
	// Prosody routed those echoes before confirming them; anything it
	// answers now comes after them.
	waitComponent(t, u, true)
	r.readAvailable(t, u)
	var resent []string
	for i := before; i < dead; i++ {
		if !r.has(k(i)) {
			resent = append(resent, k(i))
			send(k(i))
		}
	}
	for i := dead; i < n; i++ {
		send(k(i))
	}
	r.readUntil(t, u, func() bool { return r.distinct() >= n })
	// One more: its echo comes last, so a copy of an earlier one would
	// show up before it and be counted.
	send(k(n))
	r.readUntil(t, u, func() bool { return r.has(k(n)) })

	// A copy is the same stanza again: same id, same origin-id. Only echoes
	// written before the kill may be copied.
	var shown []string
	first := map[string]echo{}
	byOrigin := map[string]string{} // origin-id → body
	copies := 0
	for _, e := range r.echoes {
		if e.originID == "" {
			t.Errorf("echo %s without an origin-id: a client cannot recognize a copy of it", e.body)
		}
		if b, ok := byOrigin[e.originID]; ok && b != e.body {
			t.Errorf("echoes %s and %s share the origin-id %s: a client drops the second as a copy", b, e.body, e.originID)
		}
		byOrigin[e.originID] = e.body
		f, dup := first[e.body]
		if !dup {
			first[e.body] = e
			shown = append(shown, e.body)
			continue
		}
		copies++
		if e.id != f.id || e.originID != f.originID {
			t.Errorf("%s arrived twice with different ids (%s/%s, then %s/%s): a client shows it twice", e.body, f.id, f.originID, e.id, e.originID)
		}
		if e.body >= k(burst) {
			t.Errorf("%s, sent after the kill, arrived twice", e.body)
		}
	}
	checkOnceInOrder(t, "echoes at the user, copies dropped", shown, "K%02d", n+1)
	conds := map[string]bool{}
	for _, c := range r.bounced {
		conds[c] = true
	}
	t.Logf("XMPP→platform: %d sent, %d bounced while the gateway was dead (%v), %d re-sent for want of an echo (%v), %d echoed; platform→XMPP: %d echoes arrived (%d replayed copies with the same id and origin-id), %d distinct, in order",
		n+1, len(r.bounced), slices.Sorted(maps.Keys(conds)), len(resent), resent, r.distinct(), len(r.echoes), copies, len(shown))
}

// editFile replaces the first old in the file at path with new.
func editFile(t testing.TB, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitComponent waits until Prosody routes to the gateway's component
// (up) or bounces what is sent to it (!up), asking it disco#info. A probe
// Prosody wrote to a connection that was dying gets no answer at all: after
// componentProbeWait the next probe goes out.
func waitComponent(t testing.TB, u *user, up bool) {
	t.Helper()
	seq := 0
	waitFor(t, fmt.Sprintf("the component to be up=%v", up), func() bool {
		seq++
		iq := &stanza.IQ{
			XMLName: xml.Name{Local: "iq"},
			Attrs:   stanza.Attrs{Type: stanza.IQTypeGet, To: e2eComponent, Id: fmt.Sprintf("probe-%v-%d", up, seq)},
			Payload: &stanza.DiscoInfo{},
		}
		ctx, cancel := context.WithTimeout(t.Context(), componentProbeWait)
		defer cancel()
		res, err := u.c.SendIQ(ctx, iq)
		return err == nil && strings.Contains(res.Raw, `type="result"`) == up
	})
}

// componentProbeWait bounds the wait for the answer to one probe of
// waitComponent.
const componentProbeWait = 2 * time.Second

// echoReader reads, in arrival order, the Echo Bot's answers ("echo:
// K..") to the user and the error stanzas Prosody bounced for messages K...
type echoReader struct {
	echoes  []echo
	bounced map[string]string // id → error condition
}

// echo is one answer of the Echo Bot as the user received it.
type echo struct {
	body     string // "K.."
	id       string // the stanza id
	originID string // XEP-0359
}

// readUntil reads u's stanzas until done holds, failing after e2eWait.
func (r *echoReader) readUntil(t testing.TB, u *user, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	for !done() {
		s, err := u.c.Next(ctx)
		if err != nil {
			t.Fatalf("reading the user's stanzas (echoes so far %v, bounced %v): %v", r.echoes, r.bounced, err)
		}
		r.record(t, s)
	}
}

// readAvailable reads the stanzas u has already received.
func (r *echoReader) readAvailable(t testing.TB, u *user) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Next returns what is there, then the context's error
	for range maxAvailable {
		s, err := u.c.Next(ctx)
		if err != nil {
			return
		}
		r.record(t, s)
	}
	t.Fatalf("more than %d stanzas waiting", maxAvailable)
}

// maxAvailable bounds readAvailable.
const maxAvailable = 10_000

func (r *echoReader) record(t testing.TB, s xmpptest.Stanza) {
	t.Helper()
	m, ok := asMessage(s.Packet)
	if !ok || bare(m.From) != echoJID {
		return
	}
	switch {
	case m.Type == "error" && strings.HasPrefix(m.Id, "K"):
		cond, _ := stanzaErrorCondition(s.Raw)
		r.bounced[m.Id] = cond
	case m.Type == "error":
		t.Errorf("unexpected error stanza: %s", s.Raw)
	case strings.HasPrefix(m.Body, "echo: K"):
		e := echo{body: strings.TrimPrefix(m.Body, "echo: "), id: m.Id}
		for _, x := range m.Extensions {
			if o, ok := x.(*xep.OriginID); ok {
				e.originID = o.ID
			}
		}
		r.echoes = append(r.echoes, e)
	}
}

func (r *echoReader) has(k string) bool {
	return slices.ContainsFunc(r.echoes, func(e echo) bool { return e.body == k })
}

func (r *echoReader) distinct() int {
	seen := map[string]bool{}
	for _, e := range r.echoes {
		seen[e.body] = true
	}
	return len(seen)
}
