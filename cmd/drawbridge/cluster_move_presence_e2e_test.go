package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestShardedMoveKeepsContactPresence moves a user's owner to a new
// process three times, as a cluster that grows does, and checks what the
// user's roster shows after each move: every sandbox contact (all
// available on the platform) last seen available.
//
// The process that takes an owner over knows nothing of its contacts yet:
// its session reports each contact (ContactInfo, whose picture an avatar
// worker fetches, then announces with a presence built from what the
// component knows) and then each contact's presence. An avatar
// announcement built before the presence was noted says "unavailable";
// when it reaches the server after the presence built later, the user's
// client shows the contact offline although it is online. A worker that
// is not the front posts each stanza to the front's outbox in Redis, so
// the two posts, from two goroutines, overtake each other often: Profanity
// showed the Quiet Bot, Alice or Bob offline after most moves.
func TestShardedMoveKeepsContactPresence(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody and redis-server")
	}
	bin := buildGateway(t)
	rp := storetest.StartRedisProcess(t)
	rc, p, cfg := clusterOnProsody(t, rp.Addr())

	// gw-a is the front; the user's owner goes to gw-b, then to each
	// process that joins (gw-c, gw-d, gw-e), none of them the front.
	order := []string{"gw-a", "gw-b", "gw-c", "gw-d", "gw-e"}
	name := userMovingTo(t, "mover", order)
	nodes := map[string]*clusterNode{"gw-a": startShardNode(t, bin, cfg, "gw-a")}
	if front := waitFront(t, rc); front.Holder != "gw-a" {
		t.Fatalf("front %+v, want gw-a", front)
	}
	nodes["gw-b"] = startShardNode(t, bin, cfg, "gw-b")
	e := &e2e{t: t, prosody: p}
	u := e.user(name)
	waitComponent(t, u, true)
	v := &contactView{u: u}
	linkPhone(t, u, "+15557662001")
	waitFor(t, u.bare+" held by gw-b", func() bool { return holderOf(t, rc, u.bare) == "gw-b" })
	for _, c := range sandboxContacts {
		j := contactJID(c.id)
		v.wait(t, "the subscription request of "+c.name, func(s xmpptest.Stanza) bool {
			return isPresence(s, "subscribe") && presenceFrom(s) == j
		})
		u.raw(`<presence to='` + j + `' type='subscribed'/>`)
		u.raw(`<presence to='` + j + `' type='subscribe'/>`)
	}
	v.settled(t, "after the link", false)

	for i, id := range order[2:] {
		v.reset()
		nodes[id] = startShardNode(t, bin, cfg, id)
		waitFor(t, fmt.Sprintf("%s held by %s", u.bare, id), func() bool { return holderOf(t, rc, u.bare) == id })
		v.settled(t, fmt.Sprintf("after move %d (to %s)", i+1, id), true)
	}
}

// userMovingTo is a name prefix0, prefix1, … whose owner rendezvous
// hashing gives to order[1] among order[:2], and to each later process of
// order as it joins.
func userMovingTo(t *testing.T, prefix string, order []string) string {
	t.Helper()
next:
	for i := range 100000 {
		name := fmt.Sprintf("%s%d", prefix, i)
		for n := 2; n <= len(order); n++ {
			if cluster.Preferred(name+"@"+e2eDomain, order[:n]) != order[n-1] {
				continue next
			}
		}
		return name
	}
	t.Fatalf("no %s… name moves along %v", prefix, order)
	return ""
}

// contactView follows the presence the user receives from each sandbox
// contact's full JID.
type contactView struct {
	u *user
	// last is each contact's last presence type ("" for available);
	// photo is set once a presence carried its picture's hash; avail
	// counts the available presences.
	last  map[string]string
	photo map[string]bool
	avail map[string]int
}

func (v *contactView) reset() {
	v.last, v.photo, v.avail = map[string]string{}, map[string]bool{}, map[string]int{}
}

func (v *contactView) observe(s xmpptest.Stanza) {
	if v.last == nil {
		v.reset()
	}
	if !strings.HasPrefix(s.Raw, "<presence") {
		return
	}
	from, ok := strings.CutSuffix(presenceFrom(s), "/"+xmppcomponent.ContactResource)
	if !ok {
		return
	}
	typ := ""
	if m := presenceTyp.FindStringSubmatch(s.Raw); m != nil {
		typ = m[1]
	}
	if typ != "" && typ != "unavailable" {
		return
	}
	v.last[from] = typ
	if typ == "" {
		v.avail[from]++
	}
	if strings.Contains(s.Raw, "<photo>") {
		v.photo[from] = true
	}
}

// wait reads stanzas until one matches, observing each.
func (v *contactView) wait(t *testing.T, what string, match func(xmpptest.Stanza) bool) {
	t.Helper()
	for {
		s, err := v.u.c.Next(v.u.ctx())
		if err != nil {
			t.Fatalf("waiting for %s: %v (last presence %v, pictures %v, available %v)", what, err, v.last, v.photo, v.avail)
		}
		v.observe(s)
		if match(s) {
			return
		}
	}
}

// settled waits until each contact has been shown available and, with
// photo, has announced its picture (a process that takes the owner over
// announces each one), then for an echo from the Echo Bot (the process has
// handled the session's first events by then), and checks that each
// contact's last presence is available, as on the platform.
func (v *contactView) settled(t *testing.T, when string, photo bool) {
	t.Helper()
	done := func() bool {
		for _, c := range sandboxContacts {
			j := contactJID(c.id)
			if photo && !v.photo[j] || v.avail[j] == 0 {
				return false
			}
		}
		return true
	}
	if !done() {
		v.wait(t, "each contact's picture and presence "+when, func(xmpptest.Stanza) bool { return done() })
	}
	body := "ping " + when
	v.u.raw(`<message type='chat' to='` + echoJID + `'><body>` + body + `</body></message>`)
	v.wait(t, "the echo "+when, func(s xmpptest.Stanza) bool {
		m, ok := asMessage(s.Packet)
		return ok && bare(m.From) == echoJID && strings.Contains(m.Body, body)
	})
	for _, c := range sandboxContacts {
		if typ := v.last[contactJID(c.id)]; typ != "" {
			t.Errorf("%s: the user's client shows %s %s, which is available on the platform", when, c.name, typ)
		}
	}
}
