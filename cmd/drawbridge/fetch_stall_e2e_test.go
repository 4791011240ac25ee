package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// silentHost accepts TCP connections and never answers: every download
// from it lasts until the downloader gives up. accepted counts the
// connections so far.
func silentHost(t *testing.T) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

// echoRoundTrip sends the echo bot a message and waits at most limit for
// its echo; false if it did not come in time.
func echoRoundTrip(u *user, body string, limit time.Duration) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	t0 := time.Now()
	u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, body, body))
	_, err := u.c.WaitFor(ctx, func(s xmpptest.Stanza) bool {
		m, ok := asMessage(s.Packet)
		return ok && bare(m.From) == echoJID && m.Body == "echo: "+body
	})
	return time.Since(t0), err == nil
}

// discoRoundTrip asks the gateway for its disco#info and waits at most
// limit for the answer.
func discoRoundTrip(u *user, limit time.Duration) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	iq := stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: e2eComponent}}
	iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
	t0 := time.Now()
	res, err := u.c.SendIQ(ctx, &iq)
	return time.Since(t0), err == nil && strings.Contains(res.Raw, "identity")
}

// TestFileLinkFloodStallsNobody is the attack of issue 21 item 1 through
// Prosody: mallory sends 100 messages, each with 10 links to a host that
// accepts connections and never answers, each message to another contact
// so that they land on every dispatch lane. Meanwhile alice's round trip
// to the echo bot and the admin's disco#info to the gateway must stay
// within 10× their round trip measured before the attack in the same run
// (plus 2 s of slack for a loaded machine). Before downloads left the
// lanes, both waited for 30 s downloads (alice's echo took a minute; the
// disco#info got no answer).
func TestFileLinkFloodStallsNobody(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Component.Admins = []string{"admin@" + e2eDomain}
	})
	alice, mallory, admin := e.user("alice"), e.user("mallory"), e.user("admin")
	linkPhone(t, alice, alicePhone)
	linkPhone(t, mallory, "+15557654399")
	silent, accepted := silentHost(t)

	const rounds = 5
	measure := func(phase string, limit time.Duration) (echo, disco []time.Duration) {
		for i := range rounds {
			d, ok := echoRoundTrip(alice, fmt.Sprintf("%s-%d", phase, i), limit)
			if !ok {
				t.Fatalf("%s: alice's echo %d did not come within %v", phase, i, limit)
			}
			echo = append(echo, d)
			d, ok = discoRoundTrip(admin, limit)
			if !ok {
				t.Fatalf("%s: the admin's disco#info %d got no answer within %v", phase, i, limit)
			}
			disco = append(disco, d)
		}
		return echo, disco
	}
	baseEcho, baseDisco := measure("before", e2eWait)
	bound := func(base []time.Duration) time.Duration { return 10*slices.Max(base) + 2*time.Second }
	echoBound, discoBound := bound(baseEcho), bound(baseDisco)
	t.Logf("before the attack: echo %v, disco#info %v; bounds %v, %v", baseEcho, baseDisco, echoBound, discoBound)

	// The flood: 100 messages × 10 links to the silent host, to 100
	// contacts (so every lane gets some).
	var links strings.Builder
	for i := range 10 {
		fmt.Fprintf(&links, `<x xmlns='jabber:x:oob'><url>http://%s/f%d.jpg</url></x>`, silent, i)
	}
	for i := range 100 {
		mallory.raw(fmt.Sprintf(`<message type='chat' to='+1555100%04d@%s' id='flood%d'><body>look</body>%s</message>`, i, e2eComponent, i, links.String()))
	}
	// The attack is under way once the silent host holds downloads.
	waitFor(t, "mallory's downloads to start", func() bool { return accepted() >= 2 })
	duringEcho, duringDisco := measure("during", max(echoBound, discoBound))
	t.Logf("during the attack: echo %v, disco#info %v", duringEcho, duringDisco)
	for i := range rounds {
		if duringEcho[i] > echoBound {
			t.Errorf("alice's echo %d took %v during the attack, over %v (10× the slowest before + 2s)", i, duringEcho[i], echoBound)
		}
		if duringDisco[i] > discoBound {
			t.Errorf("the admin's disco#info %d took %v during the attack, over %v", i, duringDisco[i], discoBound)
		}
	}
}
