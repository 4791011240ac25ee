package stream

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

const (
	testDomain = "gw.example.test"
	testSecret = "s3cret"
)

func testConnConfig(srv *connTestServer, log *slog.Logger) Config {
	return Config{
		Addr:         srv.addr(),
		Domain:       testDomain,
		Secret:       testSecret,
		Logger:       log,
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   50 * time.Millisecond,
		WriteTimeout: 2 * time.Second,
		PingInterval: 10 * time.Second,
	}
}

func TestConnHandshakeOK(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	var mu sync.Mutex
	var states []bool
	cfg := testConnConfig(srv, log)
	cfg.OnState = func(up bool) {
		mu.Lock()
		states = append(states, up)
		mu.Unlock()
	}
	c := New(cfg, nil)
	if got := c.cfg.PingTo; got != "example.test" {
		t.Errorf("default PingTo = %q", got)
	}
	stop := startConn(t, c)
	waitConn(t, c)
	srv.session(1)
	if !c.Connected() {
		t.Error("Connected() = false after WaitConnected")
	}
	if s := c.Stats(); s.Connects != 1 || s.Disconnects != 0 {
		t.Errorf("stats %+v", s)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[true false]" {
		t.Errorf("OnState calls %v, want [true false]", states)
	}
}

func TestConnHandshakeRejected(t *testing.T) {
	srv := newConnTestServer(t, testDomain, "the-real-secret")
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	testutil.WaitFor(t, "several attempts", func() bool { return srv.numAttempts() >= 3 })
	testutil.WaitFor(t, "an Error log naming the condition", func() bool {
		return sink.has(slog.LevelError, "refused", map[string]string{"condition": "not-authorized"})
	})
	if c.Connected() || c.Stats().Connects != 0 {
		t.Errorf("connected with a wrong secret: %+v", c.Stats())
	}
}

func TestConnHandshakeStreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name, domain, reject, want string
	}{
		{"not-authorized", testDomain, "", "not-authorized"},
		{"conflict", testDomain, "conflict", "conflict"},
		{"host-unknown", "other.example.test", "", "host-unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newConnTestServer(t, tc.domain, testSecret)
			srv.set(func(s *connTestServer) { s.reject = tc.reject })
			cfg := testConnConfig(srv, nil)
			if tc.want == "not-authorized" {
				cfg.Secret = "wrong"
			}
			c := New(cfg, nil)
			nc, _, err := c.dial(context.Background())
			if err == nil {
				nc.Close()
				t.Fatal("handshake succeeded")
			}
			var se *StreamError
			if !errors.As(err, &se) || se.Condition != tc.want {
				t.Fatalf("error %v (%T), want a StreamError %s", err, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error text %q does not name the condition", err)
			}
		})
	}
}

func TestConnDispatchOrderPerConversation(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	const convs, per = 6, 50

	var mu sync.Mutex
	got := map[string][]string{}
	handled := make(chan struct{}, convs*per)
	// Two conversations on different lanes: the first message of A blocks
	// until B has been handled, which only works if lanes run in parallel.
	bHandled := make(chan struct{})
	var bOnce sync.Once
	blockedTooLong := make(chan struct{}, 1)
	var a, b string

	h := func(ctx context.Context, p stanza.Packet) {
		m, ok := p.(stanza.Message)
		if !ok {
			return
		}
		from := connBare(m.From)
		if from == a && m.Body == "0" {
			select {
			case <-bHandled:
			case <-time.After(5 * time.Second):
				blockedTooLong <- struct{}{}
			}
		}
		mu.Lock()
		got[from] = append(got[from], m.Body)
		mu.Unlock()
		if from == b {
			bOnce.Do(func() { close(bHandled) })
		}
		handled <- struct{}{}
	}
	log, _ := newConnLogger(t)
	c := New(testConnConfig(srv, log), h)
	probe := newDispatcher(nil, nil, c.seed, c.cfg.Workers)
	var users []string
	for i := 0; len(users) < convs; i++ {
		u := fmt.Sprintf("user%d@example.test", i)
		if len(users) == 1 && probe.laneOf(testMessage(u+"/r", "c@"+testDomain, "")) ==
			probe.laneOf(testMessage(users[0]+"/r", "c@"+testDomain, "")) {
			continue
		}
		users = append(users, u)
	}
	a, b = users[0], users[1]

	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	var sb strings.Builder
	for i := range per {
		for _, u := range users {
			fmt.Fprintf(&sb, "<message type='chat' from='%s/res%d' to='c@%s' id='m%d'><body>%d</body></message>", u, i%3, testDomain, i, i)
		}
	}
	if err := ss.send(sb.String()); err != nil {
		t.Fatal(err)
	}
	for range convs * per {
		select {
		case <-handled:
		case <-blockedTooLong:
			t.Fatal("conversations on different lanes did not run in parallel")
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for the handler")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range users {
		for i, body := range got[u] {
			if body != fmt.Sprint(i) {
				t.Fatalf("conversation %s out of order: %v", u, got[u])
			}
		}
		if len(got[u]) != per {
			t.Errorf("conversation %s: %d messages", u, len(got[u]))
		}
	}
	if s := c.Stats(); s.StanzasIn != convs*per {
		t.Errorf("StanzasIn = %d, want %d (pings must not count)", s.StanzasIn, convs*per)
	}
}

func TestConnSendIQResult(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	var mu sync.Mutex
	var stray []*stanza.IQ
	h := func(ctx context.Context, p stanza.Packet) {
		if iq, ok := p.(*stanza.IQ); ok {
			mu.Lock()
			stray = append(stray, iq)
			mu.Unlock()
		}
	}
	log, _ := newConnLogger(t)
	c := New(testConnConfig(srv, log), h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)

	ask := func(to string) (chan *stanza.IQ, chan error) {
		iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: testDomain, To: to, Id: ""})
		if err != nil {
			t.Fatal(err)
		}
		iq.Id = ""
		iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
		replies, errs := make(chan *stanza.IQ, 1), make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := c.SendIQ(ctx, iq)
			replies <- r
			errs <- err
		}()
		return replies, errs
	}
	requestTo := func(to string) *stanza.IQ {
		var req *stanza.IQ
		testutil.WaitFor(t, "the request at the server", func() bool {
			for _, p := range ss.received() {
				if iq, ok := p.(*stanza.IQ); ok && iq.To == to {
					req = iq
					return true
				}
			}
			return false
		})
		if req.Id == "" || req.From != testDomain {
			t.Fatalf("request %+v", req.Attrs)
		}
		return req
	}

	// A result.
	replies, errs := ask("alice@example.test")
	req := requestTo("alice@example.test")
	// A reply with the right id from someone else is not the answer.
	ss.send(fmt.Sprintf("<iq type='result' id='%s' from='mallory@example.test' to='%s'/>", req.Id, testDomain))
	testutil.WaitFor(t, "the spoofed reply at the handler", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(stray) == 1
	})
	ss.send(fmt.Sprintf("<iq type='result' id='%s' from='alice@example.test' to='%s'><query xmlns='%s'><feature var='urn:xmpp:ping'/></query></iq>", req.Id, testDomain, stanza.NSDiscoInfo))
	reply, err := <-replies, <-errs
	if err != nil {
		t.Fatal(err)
	}
	if reply.Type != stanza.IQTypeResult || reply.Id != req.Id {
		t.Fatalf("reply %+v", reply.Attrs)
	}
	if di, ok := reply.Payload.(*xep.DiscoInfo); !ok || len(di.Features) != 1 {
		t.Errorf("payload %#v", reply.Payload)
	}

	// An error.
	replies, errs = ask("bob@example.test")
	req = requestTo("bob@example.test")
	ss.send(fmt.Sprintf("<iq type='error' id='%s' from='bob@example.test' to='%s'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", req.Id, testDomain))
	reply, err = <-replies, <-errs
	var iqErr *IQError
	if !errors.As(err, &iqErr) || iqErr.Condition != "service-unavailable" || iqErr.Type != "cancel" || reply == nil || iqErr.IQ != reply {
		t.Fatalf("error reply: %v %+v", err, reply)
	}
	if c.iqs.len() != 0 {
		t.Errorf("%d IQs still pending", c.iqs.len())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stray) != 1 {
		t.Errorf("handler got %d IQs, want only the spoofed one (pings must not reach it)", len(stray))
	}
}

func TestConnSendIQTimeout(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	waitConn(t, c)
	iq, _ := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: testDomain, To: "silent@example.test"})
	iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.SendIQ(ctx, iq)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if c.iqs.len() != 0 {
		t.Errorf("%d IQs still pending", c.iqs.len())
	}
	if _, err := c.SendIQ(ctx, &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeResult}}); err == nil {
		t.Error("SendIQ accepted a result IQ")
	}
}

func TestConnReconnectDeliversQueueInOrder(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	var mu sync.Mutex
	var states []bool
	cfg := testConnConfig(srv, log)
	cfg.OnState = func(up bool) {
		mu.Lock()
		states = append(states, up)
		mu.Unlock()
	}
	c := New(cfg, nil)
	startConn(t, c)
	waitConn(t, c)
	ss1 := srv.session(1)

	gate := make(chan struct{})
	srv.set(func(s *connTestServer) { s.gate = gate })
	ss1.drop()
	testutil.WaitFor(t, "the link to go down", func() bool { return !c.Connected() })
	ctx := context.Background()
	const n = 100
	for i := range n {
		if err := c.Send(ctx, testMessage(testDomain, "alice@example.test", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Queued != n {
		t.Errorf("Queued = %d while disconnected, want %d", s.Queued, n)
	}
	close(gate)
	ss2 := srv.session(2)
	testutil.WaitFor(t, "all messages on the new connection", func() bool { return ss2.numReceived() >= n })
	for i, b := range ss2.bodies() {
		if b != fmt.Sprint(i) {
			t.Fatalf("out of order after reconnect: %v", ss2.bodies())
		}
	}
	testutil.WaitFor(t, "the queue to be confirmed", func() bool {
		s := c.Stats()
		return s.Queued == 0 && s.InFlight == 0
	})
	if s := c.Stats(); s.Connects != 2 || s.Disconnects != 1 || s.StanzasOut != n {
		t.Errorf("stats %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[true false true]" {
		t.Errorf("OnState calls %v", states)
	}
}

func TestConnInFlightResentAfterDrop(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.holdPings = true })
	log, _ := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	waitConn(t, c)
	ss1 := srv.session(1)
	ctx := context.Background()
	const n = 10
	for i := range n {
		if err := c.Send(ctx, testMessage(testDomain, "alice@example.test", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "the messages and the ack ping at the server", func() bool {
		return ss1.numReceived() == n && ss1.numPings() >= 1
	})
	if s := c.Stats(); s.InFlight != n || s.Queued != 0 {
		t.Fatalf("stats before the drop %+v, want %d in flight", s, n)
	}
	srv.set(func(s *connTestServer) { s.holdPings = false })
	ss1.drop()
	ss2 := srv.session(2)
	testutil.WaitFor(t, "the re-sent messages", func() bool { return ss2.numReceived() >= n })
	testutil.WaitFor(t, "the in-flight list to be confirmed", func() bool { return c.Stats().InFlight == 0 })
	if err := c.Send(ctx, testMessage(testDomain, "alice@example.test", fmt.Sprint(n))); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the next message", func() bool { return ss2.numReceived() == n+1 })
	for i, b := range ss2.bodies() {
		if b != fmt.Sprint(i) {
			t.Fatalf("re-sent out of order: %v", ss2.bodies())
		}
	}
}

func TestConnWriteDeadlineOnStalledServer(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.stall = true })
	log, sink := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.WriteTimeout = 200 * time.Millisecond
	cfg.PingInterval = time.Minute
	c := New(cfg, nil)
	startConn(t, c)
	waitConn(t, c)
	srv.session(1)
	srv.set(func(s *connTestServer) { s.stall, s.rawScan = false, true })

	// Far more than the socket buffers hold.
	const n, size = 400, 64 << 10
	body := strings.Repeat("x", size)
	ctx := context.Background()
	for i := range n {
		if err := c.Send(ctx, testMessage(testDomain, "alice@example.test", fmt.Sprintf("%d:%s", i, body))); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "a write timeout", func() bool {
		return sink.has(slog.LevelWarn, "connection lost", map[string]string{"error": "i/o timeout"})
	})
	ss2 := srv.session(2)
	testutil.WaitFor(t, "everything on the new connection", func() bool { return ss2.numReceived() >= n })
	for i, b := range ss2.bodies() {
		if b != fmt.Sprint(i) {
			t.Fatalf("message %d out of order: %q", i, b)
		}
	}
}

func TestConnKeepaliveTimeout(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.holdPings = true })
	log, sink := newConnLogger(t)
	cfg := testConnConfig(srv, log)
	cfg.PingInterval = 50 * time.Millisecond
	c := New(cfg, nil)
	startConn(t, c)
	waitConn(t, c)
	ss1 := srv.session(1)
	testutil.WaitFor(t, "a keepalive ping", func() bool { return ss1.numPings() >= 1 })
	testutil.WaitFor(t, "a reconnect", func() bool { return c.Stats().Connects >= 2 })
	if !sink.has(slog.LevelWarn, "connection lost", map[string]string{"error": "no reply to ping"}) {
		t.Error("no log about the ping timeout")
	}
}

func TestConnServerClosesStream(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	waitConn(t, c)
	srv.session(1).send("</stream:stream>")
	srv.session(2)
	waitConn(t, c)
	if !sink.has(slog.LevelWarn, "connection lost", map[string]string{"error": "closed the stream"}) {
		t.Error("no log about the stream close")
	}
	if s := c.Stats(); s.Connects != 2 || s.Disconnects != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestConnStreamErrorAfterHandshake(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), nil)
	startConn(t, c)
	waitConn(t, c)
	srv.session(1).send("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by a new connection</text></stream:error></stream:stream>")
	srv.session(2).send("<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
	srv.session(3)
	if !sink.has(slog.LevelError, "another gateway is connected as "+testDomain, map[string]string{"condition": "conflict"}) {
		t.Error("no Error log saying another gateway holds the domain")
	}
	if err := c.Problem(); !errors.Is(err, ErrConflict) {
		t.Errorf("Problem() = %v, want ErrConflict", err)
	}
	if !sink.has(slog.LevelWarn, "stream error", map[string]string{"condition": "system-shutdown"}) ||
		sink.has(slog.LevelError, "stream error", map[string]string{"condition": "system-shutdown"}) {
		t.Error("a server shutdown should be logged at Warn level")
	}
}

// testBrokenExt fails to decode when its attribute is not a number.
type testBrokenExt struct {
	XMLName xml.Name `xml:"urn:drawbridge:test:conn-broken broken"`
	N       int      `xml:"n,attr"`
}

func TestConnUndecodableStanzaIsSkipped(t *testing.T) {
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: "urn:drawbridge:test:conn-broken", Local: "broken"}, testBrokenExt{})
	srv := newConnTestServer(t, testDomain, testSecret)
	got := make(chan string, 10)
	h := func(ctx context.Context, p stanza.Packet) {
		if m, ok := p.(stanza.Message); ok {
			got <- m.Body
		}
	}
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	ss.send("<message from='a@example.test' to='b@gw.example.test'><body>bad</body><broken xmlns='urn:drawbridge:test:conn-broken' n='x'><deep><er/></deep></broken><body>more</body></message>" +
		"<unknown xmlns='urn:example:whatever'><x/></unknown>" +
		"<message from='a@example.test' to='b@gw.example.test'><body>good</body></message>")
	select {
	case b := <-got:
		if b != "good" {
			t.Fatalf("handler got %q first", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stanza after the broken one never arrived")
	}
	if s := c.Stats(); s.Connects != 1 {
		t.Errorf("the connection was dropped: %+v", s)
	}
	if !sink.has(slog.LevelWarn, "dropping inbound stanza", nil) {
		t.Error("no log about the dropped stanza")
	}
}

func TestConnHandlerPanicIsRecovered(t *testing.T) {
	srv := newConnTestServer(t, testDomain, testSecret)
	got := make(chan string, 10)
	h := func(ctx context.Context, p stanza.Packet) {
		m, _ := p.(stanza.Message)
		if m.Body == "boom" {
			panic("handler bug")
		}
		got <- m.Body
	}
	log, sink := newConnLogger(t)
	c := New(testConnConfig(srv, log), h)
	startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	ss.send("<message from='a@example.test' to='b@gw.example.test'><body>boom</body></message><message from='a@example.test' to='b@gw.example.test'><body>after</body></message>")
	select {
	case b := <-got:
		if b != "after" {
			t.Fatalf("got %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lane died with the panic")
	}
	if !sink.has(slog.LevelError, "handler panicked", map[string]string{"panic": "handler bug"}) {
		t.Error("panic not logged")
	}
}

func TestConnSendBlocksWhenQueueFull(t *testing.T) {
	c := New(Config{Addr: "127.0.0.1:1", Domain: testDomain, QueueSize: 2}, nil)
	ctx := context.Background()
	for i := range 2 {
		if err := c.Send(ctx, testMessage(testDomain, "a@example.test", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c.Send(tctx, testMessage(testDomain, "a@example.test", "2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on a full queue: %v", err)
	}
	if err := c.Send(ctx, nil); err == nil {
		t.Error("nil packet accepted")
	}
}

func TestConnShutdown(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := newConnTestServer(t, testDomain, testSecret)
	log, _ := newConnLogger(t)
	handlerRunning := make(chan struct{})
	h := func(ctx context.Context, p stanza.Packet) {
		close(handlerRunning)
		<-ctx.Done()
	}
	c := New(testConnConfig(srv, log), h)
	stop := startConn(t, c)
	waitConn(t, c)
	ss := srv.session(1)
	ss.send("<message from='a@example.test' to='b@gw.example.test'><body>hold</body></message>")
	<-handlerRunning

	iqErr := make(chan error, 1)
	go func() {
		iq, _ := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: testDomain, To: "silent@example.test"})
		iq.Payload = &stanza.DiscoInfo{XMLName: xml.Name{Space: stanza.NSDiscoInfo, Local: "query"}}
		_, err := c.SendIQ(context.Background(), iq)
		iqErr <- err
	}()
	testutil.WaitFor(t, "the pending IQ", func() bool { return c.iqs.len() == 1 && c.Stats().Queued == 0 })

	if err := stop(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if !ss.gotStreamClose() {
		t.Error("no </stream:stream> at shutdown")
	}
	if err := <-iqErr; !errors.Is(err, ErrClosed) {
		t.Errorf("pending SendIQ: %v", err)
	}
	if err := c.Send(context.Background(), testMessage(testDomain, "a@example.test", "late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Run: %v", err)
	}
	if err := c.WaitConnected(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitConnected after Run: %v", err)
	}
	if err := c.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run: %v", err)
	}
	srv.close()
	testutil.WaitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

func TestOutQueue(t *testing.T) {
	var q outQueue
	for i := range 200 {
		q.push([]byte(fmt.Sprint(i, ",")), nil)
	}
	buf, n := q.take(nil, 150, 1<<20)
	if n != 150 || q.queued() != 50 || q.inFlight() != 150 {
		t.Fatalf("take: n=%d queued=%d inflight=%d", n, q.queued(), q.inFlight())
	}
	if !strings.HasPrefix(string(buf), "0,1,2,") {
		t.Errorf("batch %q", buf[:10])
	}
	q.ack(100, nil)
	if q.inFlight() != 50 {
		t.Fatalf("after ack: inflight=%d", q.inFlight())
	}
	q.requeue()
	if q.inFlight() != 0 || q.queued() != 100 {
		t.Fatalf("after requeue: queued=%d inflight=%d", q.queued(), q.inFlight())
	}
	buf, n = q.take(nil, 1000, 1<<20)
	var want strings.Builder
	for i := 100; i < 200; i++ {
		fmt.Fprint(&want, i, ",")
	}
	if n != 100 || string(buf) != want.String() {
		t.Errorf("order after requeue: %q", buf)
	}
	// maxBytes splits batches but always takes one.
	q.push(make([]byte, 10), nil)
	q.push(make([]byte, 10), nil)
	if _, n := q.take(nil, 10, 5); n != 1 {
		t.Errorf("took %d with a tiny byte limit", n)
	}
}

func TestBackoffDelay(t *testing.T) {
	for attempt := range 20 {
		d := backoffDelay(100*time.Millisecond, 30*time.Second, attempt)
		want := min(100*time.Millisecond<<attempt, 30*time.Second)
		if attempt > 10 {
			want = 30 * time.Second
		}
		if d < want/2 || d > want {
			t.Errorf("attempt %d: %v not in [%v, %v]", attempt, d, want/2, want)
		}
	}
}

func TestParentDomain(t *testing.T) {
	for in, want := range map[string]string{"gw.example.test": "example.test", "localhost": "localhost", "a.b": "b"} {
		if got := parentDomain(in); got != want {
			t.Errorf("parentDomain(%q) = %q", in, got)
		}
	}
}

func BenchmarkConnSend(b *testing.B) {
	srv := newConnTestServer(b, testDomain, testSecret)
	srv.set(func(s *connTestServer) { s.countOnly = true })
	cfg := testConnConfig(srv, slog.New(slog.DiscardHandler))
	c := New(cfg, nil)
	startConn(b, c)
	waitConn(b, c)
	ss := srv.session(1)
	ctx := context.Background()
	m := testMessage(testDomain, "alice@example.test", "hello, this is a benchmark message")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	testutil.WaitFor(b, "every stanza at the server", func() bool { return ss.numReceived() >= b.N })
	b.StopTimer()
}
