package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/redisstore"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// floodLog is what a flooding user received: the Echo Bot's echoes, the
// errors answering its messages, and the answers to its pings.
type floodLog struct {
	echoes   map[string]bool   // "K.." echoed
	msgErrs  map[string]string // message id → error condition
	pongs    map[string]bool   // ping id answered with a result
	pingErrs map[string]string // ping id → error condition
}

func (l *floodLog) record(t testing.TB, s xmpptest.Stanza) {
	t.Helper()
	if m, ok := asMessage(s.Packet); ok && bare(m.From) == echoJID {
		switch {
		case m.Type == "error":
			l.msgErrs[m.Id], _ = stanzaErrorCondition(s.Raw)
		case strings.HasPrefix(m.Body, "echo: K"):
			l.echoes[strings.TrimPrefix(m.Body, "echo: ")] = true
		}
		return
	}
	if !strings.HasPrefix(s.Raw, "<iq") || !strings.Contains(s.Raw, `id="P`) {
		return
	}
	id := s.Raw[strings.Index(s.Raw, `id="P`)+4:]
	id = id[:strings.IndexByte(id, '"')]
	if strings.Contains(s.Raw, `type="error"`) {
		l.pingErrs[id], _ = stanzaErrorCondition(s.Raw)
	} else {
		l.pongs[id] = true
	}
}

// readUntil reads u's stanzas into l until done holds (e2eWait at most).
func (l *floodLog) readUntil(t testing.TB, u *user, what string, done func() bool) {
	t.Helper()
	for !done() {
		s, err := u.c.Next(u.ctx())
		if err != nil {
			t.Fatalf("waiting for %s (echoes %v, message errors %v, pongs %v, ping errors %v): %v", what, l.echoes, l.msgErrs, l.pongs, l.pingErrs, err)
		}
		l.record(t, s)
	}
}

// inboxLen is the number of entries in owner's inbox (read and not
// acknowledged, or not read yet).
func inboxLen(t testing.TB, rc redis.UniversalClient, owner string) int64 {
	t.Helper()
	n, err := rc.XLen(t.Context(), cluster.NewOwnerInbox(rc, redisstore.DefaultKeyPrefix, owner).Key()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShardedFrontAdmission: in a sharded cluster of two processes with
// a message rate of 5 at once (then 1 a minute) and cluster.max_inbox
// 10, a user whose owner the front itself serves floods while its worker
// is stuck on its first message (a file that does not come): the front
// refuses its messages past the rate at once (policy-violation) and
// posts only the admitted ones, then refuses its pings once its inbox
// holds 10 entries (wait/resource-constraint); the inbox never holds
// more. Meanwhile another user, served by the other process, chats with
// the Echo Bot and gets every echo. Once the file comes, every message
// admitted is echoed (the worker took no second token of the sender's
// rate, which in this process is the front's too) and every ping posted
// answered.
func TestShardedFrontAdmission(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway binary; needs prosody and redis-server")
	}
	const (
		maxInbox = 10
		burst    = 5
		flood    = 30 // messages after the stuck one
		pings    = 20
	)
	bin := buildGateway(t)
	redisAddr := storetest.StartRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rc.Close() })
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	st := idleStore(t, config.BackendRedis, redisAddr, 0)
	cfg := gatewayConfig(t, st, p.ComponentAddr, `""`, false)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	editFile(t, cfg, "    per_jid: 0\n", fmt.Sprintf("    per_jid: 1\n    per_jid_burst: %d\n", burst))
	files := newStuckFiles(t)
	editFile(t, cfg, "  server_upload: false\n", "  server_upload: false\n  allow_private_fetch: true\n")
	seedShardOwners(t, st, linkTemplate(t, bin), 10)

	extra := fmt.Sprintf("  mode: sharded\n  max_inbox: %d\n", maxInbox)
	nodes := map[string]*clusterNode{"gw-a": startClusterNodeWith(t, bin, cfg, "gw-a", extra)}
	if front := waitFront(t, rc); front.Holder != "gw-a" {
		t.Fatalf("front %+v, want gw-a", front)
	}
	nodes["gw-b"] = startClusterNodeWith(t, bin, cfg, "gw-b", extra)
	ownedOnce(t, rc, nodes, 10)

	e := &e2e{t: t, prosody: p}
	ab := []string{"gw-a", "gw-b"}
	mallory := e.user(userOn(t, "flood", "gw-a", ab))
	alice := e.user(userOn(t, "fair", "gw-b", ab))
	waitComponent(t, mallory, true)
	linkPhone(t, mallory, "+15557662001")
	linkPhone(t, alice, "+15557662002")
	waitFor(t, "the flooder's owner held by the front gw-a, the other user's by gw-b", func() bool {
		return holderOf(t, rc, mallory.bare) == "gw-a" && holderOf(t, rc, alice.bare) == "gw-b"
	})

	// The worker holds mallory's first message (its file does not come),
	// so everything behind it waits in the inbox.
	mallory.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body><x xmlns='jabber:x:oob'><url>%s/file.txt</url></x></message>`, echoJID, shardKey(0), shardKey(0), files.URL))
	select {
	case <-files.fetched:
	case <-t.Context().Done():
		t.Fatal("the stuck message's file was not fetched")
	}
	for i := 1; i <= flood; i++ {
		mallory.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, shardKey(i), shardKey(i)))
	}
	log := &floodLog{echoes: map[string]bool{}, msgErrs: map[string]string{}, pongs: map[string]bool{}, pingErrs: map[string]string{}}
	refusedAtFront := flood + 1 - burst
	log.readUntil(t, mallory, fmt.Sprintf("%d messages past the rate refused at the front", refusedAtFront), func() bool { return len(log.msgErrs) >= refusedAtFront })
	for i := burst; i <= flood; i++ {
		if c := log.msgErrs[shardKey(i)]; c != "policy-violation" {
			t.Errorf("%s past the rate: error %q, want policy-violation", shardKey(i), c)
		}
	}
	if n := inboxLen(t, rc, mallory.bare); n != burst {
		t.Errorf("the flooder's inbox holds %d entries after its messages, want the %d admitted", n, burst)
	}

	// Pings are not rate-limited: the inbox bound stops them.
	for i := range pings {
		mallory.raw(fmt.Sprintf(`<iq type='get' to='%s' id='P%02d'><ping xmlns='urn:xmpp:ping'/></iq>`, e2eComponent, i))
	}
	refusedFull := pings - (maxInbox - burst)
	log.readUntil(t, mallory, fmt.Sprintf("%d pings refused on a full inbox", refusedFull), func() bool { return len(log.pingErrs) >= refusedFull })
	for id, c := range log.pingErrs {
		if c != "resource-constraint" {
			t.Errorf("ping %s: error %q, want resource-constraint", id, c)
		}
	}
	if n := inboxLen(t, rc, mallory.bare); n != maxInbox {
		t.Errorf("the flooder's inbox holds %d entries, want the bound %d", n, maxInbox)
	}

	// Another user on the same cluster is served all along.
	ca := newShardChat(t, alice)
	ca.chat(0, burst)
	ca.check(burst)

	// The file comes: every admitted message is echoed (no second token
	// taken by the worker, in the same process as the front), every ping
	// posted answered; nothing refused at the front is handled.
	files.release()
	log.readUntil(t, mallory, "the admitted messages echoed and the posted pings answered", func() bool {
		return len(log.echoes) >= burst && len(log.pongs)+len(log.pingErrs) >= pings
	})
	for i := range burst {
		if !log.echoes[shardKey(i)] {
			t.Errorf("admitted message %s was not echoed", shardKey(i))
		}
		if c, ok := log.msgErrs[shardKey(i)]; ok {
			t.Errorf("admitted message %s refused: %s", shardKey(i), c)
		}
	}
	if len(log.echoes) != burst {
		t.Errorf("echoes %v, want only the %d admitted", log.echoes, burst)
	}
	if len(log.pongs) != maxInbox-burst {
		t.Errorf("%d pings answered, want the %d posted", len(log.pongs), maxInbox-burst)
	}
	waitFor(t, "the flooder's inbox emptied", func() bool { return inboxLen(t, rc, mallory.bare) == 0 })
}
