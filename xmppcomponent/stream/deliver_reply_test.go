package stream

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestDeliverReplyConfirms: with PingResource, the pings come from the
// component's domain with that resource; a ping reply that reached
// another connection (the server gave it to another process) and is
// handed over with DeliverReply confirms what was written before the
// ping, as if read here. A reply to no ping of this connection is not
// taken.
func TestDeliverReplyConfirms(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.holdPings = true })
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.PingResource = "link.gw-a"
	c := New(cfg, nil)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	var conf confirmations
	for i := range 3 {
		if err := c.SendConfirmed(context.Background(), testMessage(testDomain, "alice@example.test", fmt.Sprint(i)), conf.callback(i)); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "the messages and an ack ping at the server", func() bool {
		return ss.numReceived() == 3 && ss.numPings() >= 1
	})
	ss.mu.Lock()
	ping := ss.pings[0]
	ss.mu.Unlock()
	if want := testDomain + "/link.gw-a"; ping.From != want {
		t.Errorf("ping from %q, want %q", ping.From, want)
	}
	reply := func(id string) *stanza.IQ {
		return &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: id, From: ping.To, To: ping.From}}
	}
	if c.DeliverReply(reply("not-" + ping.Id)) {
		t.Error("a reply to another id was taken")
	}
	if got := conf.snapshot(); len(got) != 0 {
		t.Fatalf("confirmed %v before the ping's reply", got)
	}
	if !c.DeliverReply(reply(ping.Id)) {
		t.Fatal("the ping's reply was not taken")
	}
	testutil.WaitFor(t, "the confirmations", func() bool { return len(conf.snapshot()) == 3 })
	if got := conf.snapshot(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("confirmed %v, want [0 1 2]", got)
	}
}
