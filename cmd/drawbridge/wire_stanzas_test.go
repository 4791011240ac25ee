package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// wireGatewayBudget bounds the bytes of the four message stanzas the
// gateway writes to Prosody for one message relayed to the sandbox Echo
// Bot (receipt, composing, the echo, displayed marker), pings excluded,
// with the benchmark's JIDs and a body of "L1": 837 B at the time of
// writing (946 B before the ids of receipts, markers and chat states and
// the chat states' no-store hint went), plus room for the sandbox's
// message counter to grow. TestProsodyWireStanzas fails above it, so that
// a stanza growing is a decision, not an accident.
const wireGatewayBudget = 850

// TestProsodyWireStanzas relays one message through a real Prosody twice,
// as BenchmarkProsodyLoad does: through the gateway (in process, the
// benchmark's configuration, the sandbox Echo Bot) and through echo4, the
// minimal component answering with the Echo Bot's four stanzas. A
// recording proxy on each component link captures what the component
// wrote and read for that message, stanza by stanza, once the link is
// quiet again (for the gateway: every stanza confirmed by its ping); the
// test logs both lists and the bytes Prosody wrote to the user, and holds
// the gateway to four stanzas, one ping and wireGatewayBudget bytes.
// Run it with -v to read the stanzas.
func TestProsodyWireStanzas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs prosody")
	}
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:   plDomain,
		LogLevel: "warn",
		Components: []xmpptest.ComponentSpec{
			{Domain: loadDomain, Secret: loadSecret},
			{Domain: plEcho4, Secret: loadSecret},
		},
	})
	registerUsers(t, p, 1)
	gwLink, echoLink := startWireProxy(t, p.ComponentAddr), startWireProxy(t, p.ComponentAddr)

	cfg, err := config.Load(gatewayConfig(t, idleStore(t, config.BackendSQLite, "", 0), gwLink.addr(), `""`, false))
	if err != nil {
		t.Fatal(err)
	}
	gw := &e2e{t: t, cfg: cfg, logs: &syncBuffer{}}
	gw.start()
	t.Cleanup(func() {
		gw.shutdown()
		if t.Failed() {
			t.Logf("gateway log:\n%s", tailLines(gw.logs.String(), 40))
		}
	})
	startWireEcho4(t, echoLink)

	c, err := dialLean(p.C2SAddr, plUserName(0), plDomain, "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	if err := c.linkSandbox("+15557000000"); err != nil {
		t.Fatal(err)
	}

	conn := gw.app.component.Conn()
	gwQuiet := func() bool { s := conn.Stats(); return s.Queued == 0 && s.InFlight == 0 }
	gwRun := relayOnce(t, c, gwLink, string(sandbox.EchoBot)+"@"+loadDomain, gwQuiet)
	echoRun := relayOnce(t, c, echoLink, "bot@"+plEcho4, func() bool { return true })

	for _, r := range []struct {
		name string
		w    wireCapture
	}{{"echo4", echoRun}, {"gateway", gwRun}} {
		t.Logf("%s wrote %d B (%d stanzas, %d pings, %d B without the pings), read %d B (%d stanzas); the user read %d B (%d messages)",
			r.name, r.w.out.bytes(), len(r.w.out), r.w.out.pings(), r.w.out.bytes()-r.w.out.pingBytes(), r.w.in.bytes(), len(r.w.in), r.w.userRead, r.w.userMessages)
		for _, s := range r.w.out {
			t.Logf("  %s out %4d B %s", r.name, len(s), s)
		}
		for _, s := range r.w.in {
			t.Logf("  %s in  %4d B %s", r.name, len(s), s)
		}
	}

	if n := len(gwRun.out) - gwRun.out.pings(); n != 4 {
		t.Errorf("the gateway wrote %d stanzas besides pings for one relayed message, want 4", n)
	}
	if b := gwRun.out.bytes() - gwRun.out.pingBytes(); b > wireGatewayBudget {
		t.Errorf("the gateway wrote %d B of stanzas for one relayed message, budget %d B", b, wireGatewayBudget)
	}
	if gwRun.userMessages != 4 || echoRun.userMessages != 4 {
		t.Errorf("the user got %d messages from the gateway and %d from echo4, want 4 each", gwRun.userMessages, echoRun.userMessages)
	}
}

// wireCapture is what one relayed message cost on a component link.
type wireCapture struct {
	out, in      wireStanzas // written / read by the component
	userRead     int64       // bytes Prosody wrote to the user meanwhile
	userMessages int         // <message> stanzas the user got
}

// wireStanzas are top-level elements as written on the wire.
type wireStanzas []string

func (ws wireStanzas) bytes() (n int) {
	for _, s := range ws {
		n += len(s)
	}
	return n
}

func isPing(s string) bool {
	return strings.HasPrefix(s, "<iq") && strings.Contains(s, "urn:xmpp:ping")
}

func (ws wireStanzas) pings() (n int) {
	for _, s := range ws {
		if isPing(s) {
			n++
		}
	}
	return n
}

func (ws wireStanzas) pingBytes() (n int) {
	for _, s := range ws {
		if isPing(s) {
			n += len(s)
		}
	}
	return n
}

// relayOnce sends one message from c to `to` after a warm-up message,
// waits for the four answers and until quiet() holds, and returns what
// the link carried meanwhile.
func relayOnce(t *testing.T, c *plClient, link *wireProxy, to string, quiet func() bool) wireCapture {
	t.Helper()
	send := func(id string) int {
		for len(c.setup) > 0 { // what came before (linking, the warm-up)
			<-c.setup
		}
		if err := c.write([]byte(`<message type='chat' id='` + id + `' to='` + to + `'><body>` + id + `</body></message>`)); err != nil {
			t.Fatal(err)
		}
		n := 0
		deadline := time.After(plWait)
		for {
			select {
			case msg := <-c.setup:
				n++
				if isErrorStanza(msg) {
					t.Fatalf("error stanza: %s", msg)
				}
				// The displayed marker is the last of the Echo Bot's four.
				if bytes.Contains(msg, []byte("<displayed")) && bytes.Contains(msg, []byte(id)) {
					waitFor(t, "the component link to be quiet", quiet)
					return n
				}
			case <-deadline:
				t.Fatalf("no displayed marker for %s from %s", id, to)
			}
		}
	}
	send("W1")
	mark := link.mark()
	read0 := c.bytesIn.Load()
	n := send("L1")
	w := wireCapture{userRead: c.bytesIn.Load() - read0, userMessages: n}
	out, in := link.since(mark)
	w.out, w.in = splitStanzas(t, out), splitStanzas(t, in)
	return w
}

// splitStanzas cuts b, which starts between two top-level elements of a
// component stream, into those elements.
func splitStanzas(t *testing.T, b []byte) wireStanzas {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var out wireStanzas
	depth, start := 0, int64(0)
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("splitting %q: %v", b, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				start = off
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				out = append(out, string(b[start:d.InputOffset()]))
			}
		}
	}
}

// startWireEcho4 runs echo4 in this process through link until the test
// ends.
func startWireEcho4(t *testing.T, link *wireProxy) {
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- runEchoComponent(link.addr(), plEcho4, loadSecret, "extras", func() { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("echo4: %v", err)
	case <-time.After(plWait):
		t.Fatal("echo4 did not connect")
	}
	t.Cleanup(func() {
		link.close() // ends echo4's connection
		if err := <-done; err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			t.Logf("echo4 ended: %v", err)
		}
	})
}

// wireProxy is a loopback TCP proxy for one component link that records
// every byte in both directions.
type wireProxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	out, in []byte // component → server, server → component
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startWireProxy(t *testing.T, upstream string) *wireProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &wireProxy{ln: ln, upstream: upstream}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// close ends the proxy and its connections and waits for its goroutines.
func (p *wireProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *wireProxy) addr() string { return p.ln.Addr().String() }

func (p *wireProxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(up, down, &p.out) })
		p.wg.Go(func() { p.pipe(down, up, &p.in) })
	}
}

// pipe copies from src to dst, appending each chunk to *rec before it is
// forwarded, and closes dst when src ends.
func (p *wireProxy) pipe(dst, src net.Conn, rec *[]byte) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			*rec = append(*rec, buf[:n]...)
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// wireMark is a position in both recordings.
type wireMark struct{ out, in int }

func (p *wireProxy) mark() wireMark {
	p.mu.Lock()
	defer p.mu.Unlock()
	return wireMark{len(p.out), len(p.in)}
}

// since returns copies of what was recorded after m.
func (p *wireProxy) since(m wireMark) (out, in []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.out[m.out:]), bytes.Clone(p.in[m.in:])
}
