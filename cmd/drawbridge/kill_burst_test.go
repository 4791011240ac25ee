package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
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
// It runs on both store backends, and in a second form (stuck_chat) where
// the chat's first message carries a link to a file server that does not
// answer before the kill: every message after it was read and waits its
// turn, which a gateway without the intake loses in full.
func TestGatewaySIGKILLMidBurstFromXMPP(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: builds and runs the gateway binary; needs prosody")
	}
	bin := buildGateway(t)
	for _, backend := range []string{config.BackendSQLite, config.BackendRedis} {
		for _, stuck := range []bool{false, true} {
			name := backend
			if stuck {
				name += "/stuck_chat"
			}
			t.Run(name, func(t *testing.T) {
				if _, err := exec.LookPath("redis-server"); backend == config.BackendRedis && err != nil {
					t.Skip("redis-server is not installed")
				}
				testGatewaySIGKILLMidBurst(t, bin, backend, stuck)
			})
		}
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

func testGatewaySIGKILLMidBurst(t *testing.T, bin, backend string, stuck bool) {
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
	// The stuck chat's file server, on loopback: it answers once released.
	release := make(chan struct{})
	files := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("a file"))
	}))
	t.Cleanup(files.Close)
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	fetched := make(chan struct{}, 16)
	files.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			select {
			case fetched <- struct{}{}:
			default:
			}
		}
	}
	files.Start() // after ConnState is set: the server reads it
	editFile(t, cfg, "  server_upload: false\n", "  server_upload: false\n  allow_private_fetch: true\n")

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
	readUntil := func(done func() bool) {
		t.Helper()
		readStanzas(t, u, func(s xmpptest.Stanza) { r.record(t, s) }, done)
	}
	signal := func(sig syscall.Signal) {
		t.Helper()
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatalf("%v: %v", sig, err)
		}
	}
	// read is how many bytes the gateway has read from its socket.
	read := func() (n, unread int64) {
		t.Helper()
		received, unread, ok := socketBytes(t, p.ComponentAddr)
		if !ok {
			t.Skip("ss(8) cannot show the gateway's connection to Prosody")
		}
		return received - unread, unread
	}
	read()
	// The size of one message of the burst as Prosody writes it to the
	// gateway: with the gateway stopped, what its socket takes in for one
	// such message (C000 is as long as B000). Two in a row must agree, or
	// something else (a keepalive's answer) came in between.
	signal(syscall.SIGSTOP)
	var size int64
	calibration := 0
	for try := 0; size == 0; try++ {
		if try == 3 {
			t.Fatal("cannot measure the size of a message in the gateway's socket")
		}
		var sizes [2]int64
		for j := range sizes {
			_, before := read()
			send(fmt.Sprintf("C%d%02d", try, j))
			calibration++
			waitFor(t, "the calibration message in the stopped gateway's socket", func() bool {
				_, now := read()
				sizes[j] = now - before
				return sizes[j] > 0
			})
		}
		if sizes[0] == sizes[1] {
			size = sizes[0]
		}
	}
	signal(syscall.SIGCONT)
	readUntil(func() bool { return len(r.echoes) >= calibration })
	if stuck {
		// The chat's lane stays busy with this one until the kill.
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='S000'><body>S000</body><x xmlns='jabber:x:oob'><url>%s/file.txt</url></x></message>`, echoJID, files.URL))
		select {
		case <-fetched:
		case <-time.After(e2eWait):
			t.Fatal("the gateway did not fetch the stuck message's file")
		}
	}
	base, _ := read()

	for i := range n {
		send(k(i))
	}
	if stuck {
		waitFor(t, "the gateway to read the whole burst", func() bool {
			now, _ := read()
			return now-base >= n*size
		})
	} else {
		readUntil(func() bool { return len(r.echoes[k(killAt)]) > 0 })
	}
	// Stopped first, so that what the gateway has read is what it had
	// read when it died.
	signal(syscall.SIGSTOP)
	done, unread := read()
	// The messages of the burst the gateway read in whole. Nothing else
	// comes its way meanwhile but a keepalive ping's answer (~100 bytes,
	// every 15 s), hence the one less.
	readMsgs := int((done-base)/size) - 1
	signal(syscall.SIGKILL)
	echoedBefore := len(r.echoes) - calibration
	waitComponent(t, u, false)

	releaseOnce.Do(func() { close(release) }) // the file server answers the next process
	startGatewayProcess(t, bin, cfg)
	waitComponent(t, u, true)
	// A message after the restart: the Echo Bot answers in order, and what
	// the gateway replays goes out before it reads anything new, so its
	// echo comes after every other answer.
	send("Z")
	readUntil(func() bool { return len(r.echoes["Z"]) > 0 })
	readAvailable(t, u, func(s xmpptest.Stanza) { r.record(t, s) })

	// A message neither echoed nor bounced is one of two kinds. Either the
	// platform took it before the kill (the store maps its id to the
	// platform's; the intake forgets a message only once that is
	// written): the sandbox platform runs in the gateway's process and
	// died with it before its bot answered, which a real platform, keeping
	// what it accepted on its servers, does not do. Or the gateway never
	// had it: it was in the kernel's socket buffers or in Prosody's, and
	// XEP-0114 has no acknowledgement that would let Prosody know.
	st := openConfiguredStore(t, cfg)
	chat := ids.DirectChat(sandbox.EchoBot)
	var platformLost, readLost, neverRead []int
	echoed := 0
	twice := 0
	for i := range n {
		id := k(i)
		echoes, bounce := r.echoes[id], r.bounced[id]
		if len(echoes) > 0 {
			echoed++
		}
		switch {
		case len(echoes) == 0 && bounce == "":
			if _, err := st.PlatformMessageID(t.Context(), ids.Owner(u.bare), delivery.ChatKey(sandbox.PlatformID, chat), id); err == nil {
				platformLost = append(platformLost, i)
				break
			}
			if i < readMsgs {
				readLost = append(readLost, i)
			} else {
				neverRead = append(neverRead, i)
			}
			// The platform never had it: no receipt may say it did.
			if r.receipts[id] > 0 {
				t.Errorf("%s never reached the platform but got %d receipts: the client shows it delivered", id, r.receipts[id])
			}
		case len(echoes) > 0 && r.receipts[id] == 0:
			t.Errorf("%s was echoed but got no receipt", id)
		}
		if origins := slices.Compact(slices.Sorted(slices.Values(echoes))); len(origins) > 1 {
			twice++
			t.Errorf("%s reached the platform %d times (echoes with origin-ids %v)", id, len(origins), origins)
		}
	}
	t.Logf("%s: %d messages of %d bytes; at the kill the gateway had read %d of them in whole, %d bytes more were in its socket; in the end %d echoed (%d before the kill), %d answered with an error (by Prosody or the gateway), %d taken by the in-process platform that died before answering %v, %d read by the gateway but not yet recorded %v, %d never read by the gateway %v, %d sent twice",
		backend, n, size, readMsgs, unread, echoed, echoedBefore, len(r.bounced), len(platformLost), blocks(platformLost), len(readLost), blocks(readLost), len(neverRead), blocks(neverRead), twice)
	if stuck && len(r.echoes["S000"]) == 0 {
		t.Error("the stuck message S000 was not sent after the restart")
	}
	// What the gateway read and lost can only be what it had not recorded
	// yet: a batch being written, one waiting, and what its reader had
	// buffered and not parsed (4 KiB).
	if bound := stream.MaxUnrecorded + int(4096/size) + 1; len(readLost) > bound {
		t.Errorf("the gateway read and lost %d messages %v, more than the %d it may hold unrecorded", len(readLost), blocks(readLost), bound)
	}
	// What the gateway never read is the tail in transit: one block.
	if len(neverRead) > 0 && neverRead[len(neverRead)-1]-neverRead[0]+1 != len(neverRead) {
		t.Errorf("the messages lost in transit are not one block: %v", blocks(neverRead))
	}
}

// socketBytes reads, with ss(8), the counters of the gateway's
// connection to the component port addr (the one whose peer is addr):
// received is every byte the kernel took for it, unread those the
// gateway has not read yet. ok is false without ss or such a connection.
func socketBytes(t *testing.T, addr string) (received, unread int64, ok bool) {
	t.Helper()
	out, err := exec.Command("ss", "-tinH", "dst", addr).Output()
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(string(out))
	// State Recv-Q Send-Q Local Peer, then the tcp_info.
	if len(fields) < 5 || fields[0] != "ESTAB" {
		return 0, 0, false
	}
	unread, err = strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatalf("ss: %q: %v", out, err)
	}
	for _, f := range fields[5:] {
		if v, found := strings.CutPrefix(f, "bytes_received:"); found {
			received, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("ss: %q: %v", out, err)
			}
			return received, unread, true
		}
	}
	return 0, 0, false
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
