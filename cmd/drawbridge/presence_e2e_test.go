package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestPresenceAsClientsSeeIt drives what real clients need of presence
// through Prosody. Gajim 1.7 counts only presence from a resource (a
// contact present from its bare JID stays offline), and calls any
// presence whose sender is not in the roster "unknown" and drops it;
// Profanity sends its receipts to the full JID a message came from. So:
// the echo bot is present from a full JID with XEP-0115 caps that verify
// on disco#info node#ver, writes from that JID (with <active/> after
// <composing/>), receipts to it and to the bare JID reach the platform,
// the gateway's own presence comes once the user has it in the roster —
// and no presence from the gateway's domain ever arrives from a JID that
// is not in the user's roster, as the server's roster pushes show it.
func TestPresenceAsClientsSeeIt(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	u := e.user("alice")
	v := &rosterView{u: u, roster: map[string]bool{}}

	// Linked by chat, without registering: the gateway is in no roster
	// and has no presence for alice.
	linkByChat(t, u)
	echoFull := echoJID + "/" + xmppcomponent.ContactResource
	v.wait(t, "echo bot subscription request", func(s xmpptest.Stanza) bool {
		return isPresence(s, "subscribe") && presenceFrom(s) == echoJID
	})
	u.raw(`<presence to='` + echoJID + `' type='subscribed'/>`)
	u.raw(`<presence to='` + echoJID + `' type='subscribe'/>`)
	p := v.wait(t, "the echo bot's presence from its full JID", func(s xmpptest.Stanza) bool {
		return isPresence(s, "") && presenceFrom(s) == echoFull
	})
	verifyCapsE2E(t, u, echoFull, p)

	// The bot answers from its full JID, ending "composing" with "active".
	u.raw(`<message type='chat' to='` + echoJID + `' id='p1'><body>are you there?</body><request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	v.wait(t, "typing from the full JID", func(s xmpptest.Stanza) bool {
		return strings.HasPrefix(s.Raw, "<message") && strings.Contains(s.Raw, `from="`+echoFull+`"`) && strings.Contains(s.Raw, "<composing")
	})
	reply := v.wait(t, "the echo from the full JID, with <active/>", func(s xmpptest.Stanza) bool {
		return strings.HasPrefix(s.Raw, "<message") && containsAll(s.Raw, `from="`+echoFull+`"`, "echo: are you there?")
	})
	if !strings.Contains(reply.Raw, `<active xmlns="http://jabber.org/protocol/chatstates"`) {
		t.Errorf("the echo after <composing/> lacks <active/>: %s", reply.Raw)
	}
	// A receipt to the full JID the echo came from (as Profanity sends
	// it), a displayed marker to the bare JID: both reach the platform.
	m, _ := asMessage(reply.Packet)
	u.raw(fmt.Sprintf(`<message to='%s' id='p2'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, echoFull, m.Id))
	u.raw(fmt.Sprintf(`<message to='%s' id='p3'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, echoJID, m.Id))
	waitFor(t, "both receipts on the platform", func() bool {
		n := 0
		for _, r := range e.app.sandbox.Platform().Receipts(alicePhone) {
			for _, target := range r.Targets {
				if target == ids.MessageID(m.Id) {
					n++
				}
			}
		}
		return n == 2
	})

	// Alice adds the gateway: now it shows itself, from its full JID.
	u.raw(`<presence to='` + e2eComponent + `' type='subscribe'/>`)
	gwFull := e2eComponent + "/" + xmppcomponent.ContactResource
	gp := v.wait(t, "the gateway's presence", func(s xmpptest.Stanza) bool {
		return isPresence(s, "") && presenceFrom(s) == gwFull && strings.Contains(s.Raw, "<status>Connected</status>")
	})
	verifyCapsE2E(t, u, gwFull, gp)

	if len(v.unknown) > 0 {
		t.Errorf("presence a client would call unknown (its sender is not in the roster):\n%s", strings.Join(v.unknown, "\n"))
	}
}

// rosterView reads a user's stanzas in order as a client does: roster
// pushes keep its roster, and presence (available or unavailable) from the
// gateway's domain whose bare sender is not in it is noted as unknown.
type rosterView struct {
	u       *user
	roster  map[string]bool
	unknown []string
}

var (
	rosterItem  = regexp.MustCompile(`<item [^>]*jid="([^"]+)"[^>]*>`)
	rosterSub   = regexp.MustCompile(`subscription="([^"]+)"`)
	presenceAtt = regexp.MustCompile(`^<presence[^>]*\sfrom="([^"]+)"`)
	presenceTyp = regexp.MustCompile(`^<presence[^>]*\stype="([^"]+)"`)
)

// wait returns the first stanza that matches, observing every one before.
func (v *rosterView) wait(t *testing.T, what string, match func(xmpptest.Stanza) bool) xmpptest.Stanza {
	t.Helper()
	for {
		s, err := v.u.c.Next(v.u.ctx())
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		v.observe(s)
		if match(s) {
			return s
		}
	}
}

func (v *rosterView) observe(s xmpptest.Stanza) {
	if strings.HasPrefix(s.Raw, "<iq") && strings.Contains(s.Raw, `xmlns="jabber:iq:roster"`) {
		for _, it := range rosterItem.FindAllString(s.Raw, -1) {
			jid := rosterItem.FindStringSubmatch(it)[1]
			if sub := rosterSub.FindStringSubmatch(it); sub != nil && sub[1] == "remove" {
				delete(v.roster, jid)
				continue
			}
			v.roster[jid] = true
		}
		return
	}
	from := presenceFrom(s)
	if from == "" || !(isPresence(s, "") || isPresence(s, "unavailable")) {
		return
	}
	b := bare(from)
	if (b == e2eComponent || strings.HasSuffix(b, "@"+e2eComponent)) && !v.roster[b] {
		v.unknown = append(v.unknown, s.Raw)
	}
}

func presenceFrom(s xmpptest.Stanza) string {
	if m := presenceAtt.FindStringSubmatch(s.Raw); m != nil {
		return m[1]
	}
	return ""
}

// isPresence reports a presence of type typ ("" for available).
func isPresence(s xmpptest.Stanza, typ string) bool {
	if !strings.HasPrefix(s.Raw, "<presence") {
		return false
	}
	got := ""
	if m := presenceTyp.FindStringSubmatch(s.Raw); m != nil {
		got = m[1]
	}
	return got == typ
}

// verifyCapsE2E checks the XEP-0115 caps of presence p from full as a
// client does: disco#info on node#ver, through the server, hashes to ver.
func verifyCapsE2E(t *testing.T, u *user, full string, p xmpptest.Stanza) {
	t.Helper()
	c := regexp.MustCompile(`<c xmlns="http://jabber.org/protocol/caps"[^>]*>`).FindString(p.Raw)
	if attr(c, "hash") != "sha-1" || attr(c, "node") != xmppcomponent.CapsNode || attr(c, "ver") == "" {
		t.Fatalf("presence without sha-1 caps on %s: %s", xmppcomponent.CapsNode, p.Raw)
	}
	ver := attr(c, "ver")
	node := xmppcomponent.CapsNode + "#" + ver
	res := u.iq("get", full, `<query xmlns='http://jabber.org/protocol/disco#info' node='`+node+`'/>`)
	iq, ok := res.Packet.(*stanza.IQ)
	if !ok {
		t.Fatalf("disco#info on %s: %s", node, res.Raw)
	}
	info, ok := iq.Payload.(*xep.DiscoInfo)
	if !ok || info.Node != node {
		t.Fatalf("disco#info on %s: %s", node, res.Raw)
	}
	if got, err := info.CapsVer(); err != nil || got != ver {
		t.Errorf("caps of %s: the answer hashes to %s (%v), the presence says %s\n%s", full, got, err, ver, res.Raw)
	}
}
