package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestStalledLinkLosesNothing stalls the XMPP server's reading side of the
// component link: a proxy between the gateway and Prosody stops reading
// from the gateway, while Prosody's stanzas keep flowing to it. Meanwhile
// the platform sends 1500 ~4 KB messages (more than the socket buffers
// hold: the gateway's kernel send buffer grows to about 4 MiB) and the XMPP
// user sends 20 to the echo bot, whose echoes queue behind the stall.
//
//   - blocked: the stall lasts until the gateway's writer is blocked with
//     stanzas queued behind it, then ends before the gateway gives up on
//     the write (WriteTimeout, 10s).
//   - dropped: the stall lasts until the gateway drops the link (a write
//     blocked for WriteTimeout kills the connection; the acknowledgement
//     ping, unanswerable while the writer is blocked, would only time out
//     after 2×PingInterval = 30s) and is trying to reconnect.
//
// After a blocked stall every message in both directions has arrived
// exactly once and in per-chat order. After a dropped link nothing is lost
// and the order holds, but XEP-0114 has no acknowledgements: what the
// server had already taken into its socket buffer when the link dropped is
// routed when it reads again, and the gateway, which never saw it
// confirmed, sends it again on the new link. Those copies carry the same
// stanza id (the platform's message id), which is what clients deduplicate
// by (XEP-0359); the test counts them, checks that every copy has its
// original's id, and checks exactly-once and order after dropping them.
func TestStalledLinkLosesNothing(t *testing.T) {
	t.Run("blocked", func(t *testing.T) { testStalledLink(t, false) })
	t.Run("dropped", func(t *testing.T) { testStalledLink(t, true) })
}

func testStalledLink(t *testing.T, drop bool) {
	const (
		nPlatform = 1500 // platform → XMPP, ~4 KB each
		nXMPP     = 20   // XMPP → platform (echo bot), echoed back
	)
	var proxy *stallProxy
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(cfg *config.Config) {
		// cfg.Component.Server is Prosody's component port here.
		proxy = startStallProxy(t, cfg.Component.Server)
		cfg.Component.Server = proxy.addr()
	})
	conn := e.app.component.Conn()
	u := e.user("alice")
	linkByChat(t, u)
	aliceJID := string(sandbox.Alice) + "@" + e2eComponent
	platform := e.app.sandbox.Platform()
	ctx := t.Context()

	pad := strings.Repeat("x", 4000)
	platformBody := func(i int) string { return fmt.Sprintf("p%04d %s", i, pad) }
	sendXMPP := func(body string) {
		t.Helper()
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, body, body))
	}

	// Before: both directions work through the proxy, and everything the
	// gateway wrote is confirmed.
	sendXMPP("warmup")
	u.waitMessage(echoJID, "echo: warmup")
	if _, err := platform.SendAs(ctx, sandbox.Alice, alicePhone, "warmup"); err != nil {
		t.Fatal(err)
	}
	u.waitMessage(aliceJID, "warmup")
	waitFor(t, "the gateway's stanzas to be confirmed", func() bool {
		s := conn.Stats()
		return s.InFlight == 0 && s.Queued == 0
	})
	before := conn.Stats()
	echoesBefore := len(platform.Received(sandbox.EchoBot))

	// The stall. XMPP → platform keeps flowing: the user's messages reach
	// the echo bot, whose echoes queue behind the stall.
	forwardedAtStall := proxy.stall()
	stalledAt := time.Now()
	for i := range nXMPP {
		sendXMPP(fmt.Sprintf("m%02d", i))
	}
	waitFor(t, "the user's messages to reach the echo bot during the stall", func() bool {
		return len(platform.Received(sandbox.EchoBot)) == echoesBefore+nXMPP
	})
	for i := range nPlatform {
		if _, err := platform.SendAs(ctx, sandbox.Alice, alicePhone, platformBody(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The buffers are full: the writer is blocked. Stanzas stay queued and
	// none is written for a second (the kernel grows the send buffer of a
	// blocked socket in steps, up to net.ipv4.tcp_wmem's 4 MiB), and
	// nothing reached the server since the stall began.
	maxQueued, last, lastOut := 0, conn.Stats(), time.Now()
	waitFor(t, "the gateway's writer to block with stanzas queued", func() bool {
		s := conn.Stats()
		maxQueued = max(maxQueued, s.Queued)
		if s.StanzasOut != last.StanzasOut || s.Queued == 0 {
			last, lastOut = s, time.Now()
			return false
		}
		if time.Since(lastOut) < time.Second {
			return false
		}
		last = s
		return true
	})
	if s := conn.Stats(); s.Disconnects != before.Disconnects {
		t.Fatalf("the gateway dropped the link before its writer was seen blocked: %+v", s)
	}
	if got := proxy.forwarded.Load() - forwardedAtStall; got != 0 {
		t.Fatalf("the proxy forwarded %d bytes during the stall", got)
	}
	if drop {
		// Keep stalling until the gateway gives up on the blocked write
		// and drops the link; it then tries to reconnect, and the new
		// connection's handshake stalls too.
		waitFor(t, "the gateway to drop the stalled link", func() bool {
			return conn.Stats().Disconnects > before.Disconnects
		})
		waitFor(t, "the gateway to try to reconnect during the stall", func() bool {
			return proxy.accepted.Load() >= 2
		})
	}
	stalledFor, atUnstall := time.Since(stalledAt), conn.Stats()
	if !drop && conn.Stats().Disconnects != before.Disconnects {
		t.Fatalf("the gateway dropped the link after a %v stall", stalledFor)
	}
	proxy.unstall()

	wctx, cancel := context.WithTimeout(ctx, e2eWait)
	defer cancel()
	if err := conn.WaitConnected(wctx); err != nil {
		t.Fatalf("gateway did not reconnect after the stall: %v", err)
	}
	// Markers in both chats: per-chat order means that once they arrive,
	// everything sent before them (and any copy of it) has arrived.
	waitFor(t, "the gateway's queue to drain after the stall", func() bool {
		s := conn.Stats()
		return s.InFlight == 0 && s.Queued == 0
	})
	if _, err := platform.SendAs(ctx, sandbox.Alice, alicePhone, "p-end"); err != nil {
		t.Fatal(err)
	}
	sendXMPP("m-end")

	var gotP, gotE []string
	var idsP, idsE []string // the stanza id of each arrival
	pEnd, eEnd := false, false
	nctx, ncancel := context.WithTimeout(ctx, e2eWait)
	defer ncancel()
	for range 10 * (nPlatform + nXMPP) {
		if pEnd && eEnd {
			break
		}
		s, err := u.c.Next(nctx)
		if err != nil {
			t.Fatalf("after the stall, %d platform messages and %d echoes arrived, markers %v/%v: %v", len(gotP), len(gotE), pEnd, eEnd, err)
		}
		m, ok := asMessage(s.Packet)
		if !ok || m.Body == "" {
			continue
		}
		switch from := bare(m.From); {
		case from == aliceJID && m.Body == "p-end":
			pEnd = true
		case from == aliceJID:
			gotP, idsP = append(gotP, m.Body), append(idsP, m.Id)
		case from == echoJID && m.Body == "echo: m-end":
			eEnd = true
		case from == echoJID:
			gotE, idsE = append(gotE, m.Body), append(idsE, m.Id)
		}
	}
	if !pEnd || !eEnd {
		t.Fatalf("markers did not arrive: platform %v, echo %v", pEnd, eEnd)
	}

	var wantP, wantX, wantE []string
	for i := range nPlatform {
		wantP = append(wantP, platformBody(i))
	}
	for i := range nXMPP {
		wantX = append(wantX, fmt.Sprintf("m%02d", i))
		wantE = append(wantE, fmt.Sprintf("echo: m%02d", i))
	}
	var gotX []string
	for _, m := range platform.Received(sandbox.EchoBot)[echoesBefore:] {
		if m.Body != "m-end" {
			gotX = append(gotX, m.Body)
		}
	}
	arrivedP, arrivedE := len(gotP), len(gotE)
	var copiesP, copiesE int
	if drop {
		gotP, copiesP = dropCopiesByID(t, "platform→XMPP", gotP, idsP)
		gotE, copiesE = dropCopiesByID(t, "echoes", gotE, idsE)
	}
	pDistinct, pOrder := checkExactlyOnce(t, "platform→XMPP", gotP, wantP)
	xDistinct, xOrder := checkExactlyOnce(t, "XMPP→platform", gotX, wantX)
	eDistinct, eOrder := checkExactlyOnce(t, "echoes", gotE, wantE)
	after := conn.Stats()
	t.Logf("platform→XMPP: %d sent, %d arrived (%d copies with the original's id), %d distinct, %s; XMPP→platform: %d sent, %d arrived, %d distinct, %s; "+
		"echoes: %d sent, %d arrived (%d copies with the original's id), %d distinct, %s; stalled for %v with %d stanzas queued (max %d) and %d written unconfirmed; "+
		"%d reconnects, %d proxy connections",
		nPlatform, arrivedP, copiesP, pDistinct, pOrder, nXMPP, len(gotX), xDistinct, xOrder,
		nXMPP, arrivedE, copiesE, eDistinct, eOrder,
		stalledFor.Round(time.Millisecond), atUnstall.Queued, maxQueued, atUnstall.InFlight,
		after.Connects-before.Connects, proxy.accepted.Load())
}

// checkExactlyOnce fails the test unless got is want, and describes it: the
// number of distinct items and whether they came in order.
func checkExactlyOnce(t *testing.T, what string, got, want []string) (distinct int, order string) {
	t.Helper()
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	order = "in order"
	for i := 1; i < len(got); i++ {
		if slices.Index(want, got[i]) < slices.Index(want, got[i-1]) {
			order = "OUT OF ORDER"
			break
		}
	}
	if slices.Equal(got, want) {
		return len(count), order
	}
	short := func(s string) string { return strings.TrimSuffix(s[:min(len(s), 12)], " ") }
	for _, w := range want {
		if n := count[w]; n != 1 {
			t.Errorf("%s: %q arrived %d times", what, short(w), n)
		}
	}
	for g := range count {
		if !slices.Contains(want, g) {
			t.Errorf("%s: unexpected %q", what, short(g))
		}
	}
	if order != "in order" {
		var seq []string
		for _, g := range got {
			seq = append(seq, short(g))
		}
		t.Errorf("%s: out of order: %v", what, seq)
	}
	return len(count), order
}

// dropCopiesByID removes the arrivals whose stanza id arrived before, as a
// client deduplicating by id does, and returns the rest and how many it
// removed. It fails the test if a copy's content differs from its
// original's, or if one content came under two ids (then a client would
// show it twice).
func dropCopiesByID(t *testing.T, what string, bodies, stanzaIDs []string) ([]string, int) {
	t.Helper()
	byID := map[string]string{}
	idOf := map[string]string{}
	var out []string
	for i, b := range bodies {
		id := stanzaIDs[i]
		if id == "" {
			t.Errorf("%s: %q arrived without a stanza id", what, b[:min(len(b), 12)])
			out = append(out, b)
			continue
		}
		if prev, seen := byID[id]; seen {
			if prev != b {
				t.Errorf("%s: stanza id %s names two messages", what, id)
			}
			continue
		}
		if other, ok := idOf[b]; ok && other != id {
			t.Errorf("%s: %q arrived under ids %s and %s", what, b[:min(len(b), 12)], other, id)
		}
		byID[id], idOf[b] = b, id
		out = append(out, b)
	}
	return out, len(bodies) - len(out)
}
