package stream

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestConnAdmitBeforeTheLanes: Config.Admit runs on the read loop, before
// a stanza takes a place in a lane, so its refusals reach the sender while
// the sender's lane is stuck in the Handler; refused stanzas never reach
// the Handler, admitted ones do, in order.
func TestConnAdmitBeforeTheLanes(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	release := make(chan struct{})
	var mu sync.Mutex
	var handled []string
	h := func(ctx context.Context, p stanza.Packet) {
		if m, ok := p.(stanza.Message); ok {
			<-release
			mu.Lock()
			handled = append(handled, m.Id)
			mu.Unlock()
		}
	}
	log, _ := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.Workers = 1 // one lane: the stuck Handler holds every conversation
	cfg.Admit = func(p stanza.Packet) stanza.Packet {
		m, ok := p.(stanza.Message)
		if !ok || !strings.HasPrefix(m.Id, "over") {
			return nil
		}
		return &stanza.Message{XMLName: xml.Name{Local: "message"},
			Attrs: stanza.Attrs{Type: stanza.MessageTypeError, Id: m.Id, From: m.To, To: m.From}}
	}
	c := New(cfg, h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	var raw strings.Builder
	for i := range 3 {
		fmt.Fprintf(&raw, "<message from='a@example.test/r' to='b@gw.example.test' id='ok%d'><body>x</body></message>", i)
		fmt.Fprintf(&raw, "<message from='a@example.test/r' to='b@gw.example.test' id='over%d'><body>x</body></message>", i)
	}
	if err := ss.send(raw.String()); err != nil {
		t.Fatal(err)
	}
	refused := func() []string {
		var ids []string
		for _, p := range ss.received() {
			if m, ok := p.(stanza.Message); ok && m.Type == stanza.MessageTypeError {
				ids = append(ids, m.Id)
			}
		}
		return ids
	}
	testutil.WaitFor(t, "the refusals while the lane is stuck", func() bool { return len(refused()) == 3 })
	close(release)
	testutil.WaitFor(t, "the admitted stanzas handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(handled, " "); got != "ok0 ok1 ok2" {
		t.Errorf("handled %s, want ok0 ok1 ok2", got)
	}
	if got := strings.Join(refused(), " "); got != "over0 over1 over2" {
		t.Errorf("refused %s", got)
	}
}
