package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
)

// TestProfanitySharded drives Profanity through tmux against two
// gateway processes in sharded mode on one Prosody and one Redis, as a
// user of a cluster would: link a sandbox account with the link command's
// form, accept the contacts, see them online, chat with the Echo Bot;
// then the front (the process holding the XEP-0114 link, not the user's)
// is killed with SIGKILL and the chat goes on once the other process holds
// the link; then the killed process is started again and the user's
// process stops (SIGTERM): the user's owner moves to the restarted one,
// every contact shows online again and the chat goes on. Each contact's
// picture hash reaches Profanity, from a worker that is not the front too
// (its stanzas go through Redis to the front, which used to drop it). Every check reads Profanity's screen, or its log.
func TestProfanitySharded(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody, redis-server, profanity and tmux")
	}
	needBinaries(t, "profanity", "tmux")
	bin := buildGateway(t)
	rp := storetest.StartRedisProcess(t)
	rc, p, cfg := clusterOnProsody(t, rp.Addr())
	nodes := map[string]*clusterNode{"gw-a": startShardNode(t, bin, cfg, "gw-a")}
	if front := waitFront(t, rc); front.Holder != "gw-a" {
		t.Fatalf("front %+v, want gw-a", front)
	}
	nodes["gw-b"] = startShardNode(t, bin, cfg, "gw-b")
	e := &e2e{t: t, prosody: p}
	// A second XMPP account of the test's own client asks the component
	// for disco#info, to know when a front holds the link.
	probe := e.user("probe")
	waitComponent(t, probe, true)

	name := userOn(t, profUser, "gw-b", []string{"gw-a", "gw-b"})
	term, profLog := startProfanity(t, e, name)
	bareJID := name + "@" + e2eDomain
	echo := contactJID(sandboxContacts[0].id)
	echoWrites := echo + "/" + xmppcomponent.ContactResource
	step := func(what string, f func(t *testing.T, term *terminal)) {
		t.Helper()
		if !t.Run(what, func(t *testing.T) { f(t, term.in(t)) }) {
			t.FailNow()
		}
	}
	chat := func(t *testing.T, term *terminal, text string) {
		term.send("/msg " + echo + " " + text)
		term.waitText("the message and its echo", "me: "+text, echoWrites+": echo: "+text)
	}
	allOnline := func(t *testing.T, term *terminal) {
		term.send("/win 1")
		term.waitScreen("every contact under Online in the roster panel", func(s string) bool {
			online := rosterPanel(s)["Online"]
			for _, c := range sandboxContacts {
				if !slices.Contains(online, contactJID(c.id)) {
					return false
				}
			}
			return true
		})
	}

	// photos waits until Profanity's log, from offset on, shows a
	// presence with a XEP-0153 picture hash from each contact.
	photos := func(t *testing.T, when string, offset int) {
		waitFor(t, "each contact's XEP-0153 picture hash "+when, func() bool {
			b, _ := os.ReadFile(profLog)
			if len(b) < offset {
				return false
			}
			for _, c := range sandboxContacts {
				if !containsPhotoFrom(string(b[offset:]), contactJID(c.id)) {
					return false
				}
			}
			return true
		})
	}

	step("connect", func(t *testing.T, term *terminal) {
		term.waitText("the login", bareJID+"/profanity logged in successfully")
		waitFor(t, "Profanity to discover the gateway", func() bool {
			b, _ := os.ReadFile(profLog)
			return strings.Contains(string(b), "Received disco#info response from: "+e2eComponent)
		})
	})
	step("link", func(t *testing.T, term *terminal) {
		term.send("/cmd exec link " + e2eComponent)
		term.waitText("the link form", "[field1] Phone number (required)")
		term.send("/field1 " + profPhone)
		term.waitText("the phone number in the form", "[field1] Phone number (required): "+profPhone)
		term.send("/form submit")
		term.waitScreen("the pairing code", func(s string) bool { return pairingCode.MatchString(s) })
		term.send("/win " + e2eComponent)
		term.waitScreen("the gateway's message that the account is linked", func(s string) bool {
			return strings.Contains(s, profPhone) && strings.Contains(strings.ToLower(s), "is now linked")
		})
		waitFor(t, bareJID+" served by gw-b", func() bool { return holderOf(t, rc, bareJID) == "gw-b" })
	})
	step("accept the contacts", func(t *testing.T, term *terminal) {
		term.send("/win 1")
		for _, c := range sandboxContacts {
			j := contactJID(c.id)
			term.waitText("the subscription request of "+c.name, "Received authorization request from "+j)
			term.send("/sub allow " + j)
			term.send("/sub request " + j)
			term.waitText("the subscription to "+c.name, "Subscription received from "+j)
		}
		allOnline(t, term)
		// Written by gw-b, which is not the front, through Redis.
		photos(t, "from a worker that is not the front", 0)
	})
	step("chat", func(t *testing.T, term *terminal) { chat(t, term, "hello cluster") })
	step("the front dies", func(t *testing.T, term *terminal) {
		if err := nodes["gw-a"].proc.Kill(); err != nil {
			t.Fatal(err)
		}
		delete(nodes, "gw-a")
		waitFront(t, rc, "gw-a")
		waitComponent(t, probe, true)
		chat(t, term, "after the front died")
	})
	step("the user's process stops", func(t *testing.T, term *terminal) {
		nodes["gw-a"] = startShardNode(t, bin, cfg, "gw-a")
		before, _ := os.ReadFile(profLog)
		if err := nodes["gw-b"].proc.Stop(e2eWait); err != nil {
			t.Fatal(err)
		}
		delete(nodes, "gw-b")
		waitFor(t, bareJID+" served by the restarted gw-a", func() bool { return holderOf(t, rc, bareJID) == "gw-a" })
		waitComponent(t, probe, true)
		allOnline(t, term)
		photos(t, "after the move", len(before))
		term.send("/win 1")
		chat(t, term, "after the move")
	})
}

// containsPhotoFrom reports whether log holds a presence from contact's
// full JID with a XEP-0153 element, as Profanity's debug log prints what
// it receives.
func containsPhotoFrom(log, contact string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "RECV: <presence") && strings.Contains(l, `from="`+contact+"/"+xmppcomponent.ContactResource+`"`) && strings.Contains(l, "vcard-temp:x:update") {
			return true
		}
	}
	return false
}
