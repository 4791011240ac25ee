package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestGatewaySIGKILLMidBurstFromXMPP sends a burst of messages with
// XEP-0184 receipt requests from a Prosody user to the Echo Bot, kills the
// gateway binary with SIGKILL while it works through them, restarts it on
// the same store and counts, per message id, the echoes, the receipts and
// the bounces the user got. Every message the gateway read from its
// component stream is journaled at read (xmppcomponent/intake.go) and
// handled again after the restart, so each message is echoed or bounced;
// the only silent loss left is what XEP-0114 leaves open: stanzas Prosody
// had written to the socket that the gateway never read (in the kernel's
// buffers when it died) — the server gets no acknowledgement of what a
// component received. The test measures that residual and asserts its
// shape (one block, right after what was read) rather than a number it
// cannot control. A lost message gets no receipt, so the user's client
// shows it undelivered; every echoed one gets its receipt, replayed or not.
// It runs on both store backends.
func TestGatewaySIGKILLMidBurstFromXMPP(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody")
	}
	bin := buildGateway(t)
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		t.Run(backend, func(t *testing.T) {
			if _, err := exec.LookPath("redis-server"); backend == config.BackendRedis && err != nil {
				t.Skip("redis-server is not installed")
			}
			testGatewaySIGKILLMidBurst(t, bin, backend)
		})
	}
}

// burstResult is what the user saw of each message of the burst.
type burstResult struct {
	echoes   map[string][]string // "B..." → the origin-ids of its echoes
	receipts map[string]int      // "B..." → XEP-0184 receipts for it
	bounced  map[string]string   // "B..." → error condition
}

func (r *burstResult) record(t *testing.T, s xmpptest.Stanza) {
	t.Helper()
	m, ok := asMessage(s.Packet)
	if !ok || bare(m.From) != echoJID {
		return
	}
	switch {
	case m.Type == "error":
		cond, _ := stanzaErrorCondition(s.Raw)
		r.bounced[m.Id] = cond
	case strings.HasPrefix(m.Body, "echo: "):
		origin := ""
		for _, x := range m.Extensions {
			if o, ok := x.(*xep.OriginID); ok {
				origin = o.ID
			}
		}
		k := strings.TrimPrefix(m.Body, "echo: ")
		r.echoes[k] = append(r.echoes[k], origin)
	}
	for _, x := range m.Extensions {
		if rr, ok := x.(*stanza.ReceiptReceived); ok {
			r.receipts[rr.ID]++
		}
	}
}

func testGatewaySIGKILLMidBurst(t *testing.T, bin, backend string) {
	const (
		n      = 400 // the burst
		killAt = 40  // the gateway dies once this one is echoed
	)
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: loadSecret}},
	})
	cfg := loadConfig(t, backend, p.ComponentAddr)
	editFile(t, cfg, "jid: "+loadDomain, "jid: "+e2eComponent)
	editFile(t, cfg, "level: warn", "level: info")

	e := &e2e{t: t, prosody: p}
	u := e.user("alice")
	pid := startGatewayProcess(t, bin, cfg)
	waitComponent(t, u, true)
	linkByChat(t, u)

	k := func(i int) string { return fmt.Sprintf("B%03d", i) }
	send := func(id string) {
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s</body><request xmlns='urn:xmpp:receipts'/></message>`, echoJID, id, id))
	}
	r := &burstResult{echoes: map[string][]string{}, receipts: map[string]int{}, bounced: map[string]string{}}
	read := func(done func() bool) {
		t.Helper()
		readStanzas(t, u, func(s xmpptest.Stanza) { r.record(t, s) }, done)
	}
	for i := range n {
		send(k(i))
	}
	read(func() bool { return len(r.echoes[k(killAt)]) > 0 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	echoedBefore := len(r.echoes)
	waitComponent(t, u, false)

	startGatewayProcess(t, bin, cfg)
	waitComponent(t, u, true)
	// A message after the restart: the Echo Bot answers in order, and what
	// the gateway replays goes out before it reads anything new, so its
	// echo comes after every other answer.
	send("Z")
	read(func() bool { return len(r.echoes["Z"]) > 0 })
	readAvailable(t, u, func(s xmpptest.Stanza) { r.record(t, s) })

	var lost []int
	twice := 0
	for i := range n {
		id := k(i)
		echoes, bounce := r.echoes[id], r.bounced[id]
		switch {
		case len(echoes) == 0 && bounce == "":
			lost = append(lost, i)
			if r.receipts[id] > 0 {
				t.Errorf("%s was neither echoed nor bounced but got %d receipts: the client shows it delivered", id, r.receipts[id])
			}
		case len(echoes) > 0 && r.receipts[id] == 0:
			t.Errorf("%s was echoed but got no receipt", id)
		}
		if origins := slices.Compact(slices.Sorted(slices.Values(echoes))); len(origins) > 1 {
			twice++
			t.Errorf("%s reached the platform %d times (echoes with origin-ids %v)", id, len(origins), origins)
		}
	}
	t.Logf("%s: %d messages; %d echoed before the kill; after the restart %d echoed, %d bounced, %d neither (%v), %d sent twice",
		backend, n, echoedBefore, len(r.echoes)-1, len(r.bounced), len(lost), blocks(lost), twice)
	if len(lost) > 0 {
		t.Errorf("%d of %d messages were neither echoed nor bounced: %v", len(lost), n, blocks(lost))
	}
}

// readStanzas passes u's stanzas to f until done holds, failing after
// e2eWait.
func readStanzas(t *testing.T, u *user, f func(xmpptest.Stanza), done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	for !done() {
		s, err := u.c.Next(ctx)
		if err != nil {
			t.Fatalf("reading the user's stanzas: %v", err)
		}
		f(s)
	}
}

// readAvailable passes the stanzas u has already received to f.
func readAvailable(t *testing.T, u *user, f func(xmpptest.Stanza)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // Next returns what is there, then the context's error
	for range maxAvailable {
		s, err := u.c.Next(ctx)
		if err != nil {
			return
		}
		f(s)
	}
	t.Fatalf("more than %d stanzas waiting", maxAvailable)
}

// blocks renders sorted indexes as ranges: [3-7 9].
func blocks(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(xs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", xs[i], xs[j]))
		}
		i = j + 1
	}
	return "[" + strings.Join(parts, " ") + "]"
}
