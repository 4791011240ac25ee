package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

const (
	e2eDomain    = "example.test"
	e2eComponent = "gw.example.test"
	e2eSecret    = "e2e-component-secret-4f1c"
	e2eWait      = 20 * time.Second
)

// e2e is one end-to-end environment: a real Prosody, optionally a real
// redis-server, and the gateway running in-process.
type e2e struct {
	t       testing.TB
	prosody *xmpptest.Prosody
	app     *app
	cfg     config.Config
	logs    *syncBuffer
	stop    context.CancelFunc
	done    chan error
}

// syncBuffer collects the gateway's log for the test's failure output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startE2E(t *testing.T, backend string) *e2e {
	t.Helper()
	return startE2EWith(t, backend, xmpptest.ProsodyOptions{})
}

// startE2EWith is startE2E with extra Prosody options (ExtraHost,
// ExtraComponent, ...); its Domain is set here, and its Components
// unless given.
func startE2EWith(t *testing.T, backend string, opts xmpptest.ProsodyOptions) *e2e {
	t.Helper()
	return startE2EConfig(t, backend, opts, nil)
}

// startE2EConfig is startE2EWith with a last say on the gateway's
// configuration (mutate may be nil).
func startE2EConfig(t *testing.T, backend string, opts xmpptest.ProsodyOptions, mutate func(*config.Config)) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody and redis-server")
	}
	opts.Domain = e2eDomain
	if len(opts.Components) == 0 {
		opts.Components = []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: e2eSecret}}
	}
	p := xmpptest.StartProsody(t, opts)
	cfg := config.Default()
	cfg.Component.JID = e2eComponent
	cfg.Component.Server = p.ComponentAddr
	cfg.Component.Secret = e2eSecret
	cfg.Log.Level = "debug"
	cfg.API.Listen, cfg.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0" // free ports
	cfg.Store.Backend = backend
	switch backend {
	case config.BackendSQLite:
		cfg.Store.SQLite.Path = t.TempDir() + "/drawbridge.db"
	case config.BackendRedis:
		cfg.Store.Redis.URL = "redis://" + storetest.StartRedis(t) + "/0"
	}
	// Files: a file host on a free port; the test's servers are on loopback.
	cfg.Files.Listen, cfg.Files.Dir, cfg.Files.AllowPrivateFetch = "127.0.0.1:0", t.TempDir(), true
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, prosody: p, cfg: cfg, logs: &syncBuffer{}}
	e.start()
	t.Cleanup(func() {
		e.shutdown()
		if t.Failed() {
			t.Logf("gateway log:\n%s", tailLines(e.logs.String(), 80))
		}
	})
	return e
}

// start runs a new gateway process-equivalent on e.cfg.
func (e *e2e) start() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// As run makes it (log.format, log.redact), at debug level.
	log := e.cfg.LoggerLevel(e.logs, slog.LevelDebug)
	a, err := newApp(ctx, e.cfg, log)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	e.app, e.stop, e.done = a, cancel, make(chan error, 1)
	go func() { e.done <- a.run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, e2eWait)
	defer wcancel()
	for _, l := range a.links {
		if err := l.component.Conn().WaitConnected(wctx); err != nil {
			e.t.Fatalf("gateway component %s did not connect to the server: %v", l.JID, err)
		}
	}
}

func (e *e2e) shutdown() {
	if e.stop == nil {
		return
	}
	e.stop()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("gateway run: %v", err)
		}
	case <-time.After(e2eWait):
		e.t.Errorf("gateway did not stop")
	}
	e.stop = nil
}

// user registers an XMPP account on Prosody and connects it.
func (e *e2e) user(name string) *user {
	e.t.Helper()
	e.prosody.Register(e.t, name, "pw-"+name)
	u := &user{t: e.t, e: e, bare: name + "@" + e2eDomain}
	u.connect()
	return u
}

// user is an XMPP client session of the test.
type user struct {
	t    testing.TB
	e    *e2e
	bare string
	c    *xmpptest.Client
}

func (u *user) connect() {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	c, err := xmpptest.DialClient(ctx, u.e.prosody.C2SAddr, u.bare, "pw-"+strings.Split(u.bare, "@")[0])
	if err != nil {
		u.t.Fatalf("dial %s: %v", u.bare, err)
	}
	u.t.Cleanup(func() { c.Close() })
	u.c = c
	if err := c.SendRaw(`<presence/>`); err != nil {
		u.t.Fatal(err)
	}
}

func (u *user) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	u.t.Cleanup(cancel)
	return ctx
}

func (u *user) raw(s string) {
	u.t.Helper()
	if err := u.c.SendRaw(s); err != nil {
		u.t.Fatal(err)
	}
}

// iq sends a raw IQ and returns the reply.
func (u *user) iq(typ, to, payload string) xmpptest.Stanza {
	u.t.Helper()
	id := fmt.Sprintf("iq%d", time.Now().UnixNano())
	var iq stanza.IQ
	raw := fmt.Sprintf(`<iq type='%s' id='%s' to='%s'>%s</iq>`, typ, id, to, payload)
	if err := xml.Unmarshal([]byte(raw), &iq); err != nil {
		u.t.Fatalf("test IQ does not parse: %v", err)
	}
	iq.XMLName = xml.Name{Local: "iq"}
	res, err := u.c.SendIQ(u.ctx(), &iq)
	if err != nil {
		u.t.Fatalf("IQ %s to %s: %v", payload, to, err)
	}
	return res
}

// waitRaw waits for a stanza whose raw XML contains every fragment.
func (u *user) waitRaw(what string, fragments ...string) xmpptest.Stanza {
	u.t.Helper()
	s, err := u.c.WaitFor(u.ctx(), func(s xmpptest.Stanza) bool { return containsAll(s.Raw, fragments...) })
	if err != nil {
		u.t.Fatalf("waiting for %s (%q): %v", what, fragments, err)
	}
	return s
}

// waitMessage waits for a chat message from `from` with a body containing text.
func (u *user) waitMessage(from, text string) stanza.Message {
	u.t.Helper()
	s, err := u.c.WaitFor(u.ctx(), func(s xmpptest.Stanza) bool {
		m, ok := asMessage(s.Packet)
		return ok && bare(m.From) == from && strings.Contains(m.Body, text)
	})
	if err != nil {
		u.t.Fatalf("waiting for a message from %s containing %q: %v", from, text, err)
	}
	m, _ := asMessage(s.Packet)
	return m
}

func asMessage(p stanza.Packet) (stanza.Message, bool) {
	switch m := p.(type) {
	case stanza.Message:
		return m, true
	case *stanza.Message:
		return *m, true
	}
	return stanza.Message{}, false
}

func bare(j string) string {
	b, _, _ := strings.Cut(j, "/")
	return b
}

func containsAll(s string, fragments ...string) bool {
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stanzaErrorCondition returns the defined condition of an error stanza's raw XML.
func stanzaErrorCondition(raw string) (string, error) {
	i := strings.Index(raw, "<error")
	if i < 0 {
		return "", errors.New("no <error> element")
	}
	rest := raw[i:]
	j := strings.Index(rest, xep.NSStanzas)
	if j < 0 {
		return "", errors.New("no stanza error condition")
	}
	k := strings.LastIndex(rest[:j], "<")
	name := strings.Fields(rest[k+1 : j])[0]
	return name, nil
}

// waitFor is testutil.Eventually with e2eWait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, e2eWait, what, cond)
}
