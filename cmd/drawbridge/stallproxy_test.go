package main

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stallProxy is a loopback TCP proxy between the gateway and the XMPP
// server's component port that can stall the gateway→server direction: it
// stops reading from the gateway's sockets, as a server that stops reading
// does, while the server→gateway direction keeps flowing.
//
// Its sockets keep the default receive buffer: the gateway's own kernel
// send buffer (autotuned up to net.ipv4.tcp_wmem, 4 MiB) dwarfs it anyway,
// and a socket whose receive buffer was shrunk after the handshake crawls
// at tens of KB/s on loopback once the stall ends.
//
// When the stall ends, the proxy behaves as a server that resumes: it
// first reads what its older connections still hold (and passes their end
// on to the server) and only then completes the connections the gateway
// opened during the stall. Everything it opened is closed on t.Cleanup.
type stallProxy struct {
	t        *testing.T
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	stalled bool
	resume  chan struct{} // closed by unstall
	older   []<-chan struct{}
	pipes   []*proxyPipe
	conns   []net.Conn
	closed  bool

	accepted  atomic.Int64 // gateway connections accepted
	forwarded atomic.Int64 // bytes written to the server (gateway→server)
	fwd       sync.RWMutex // held (read) from a chunk's gate to its count
	wg        sync.WaitGroup
}

// proxyPipe is one proxied connection.
type proxyPipe struct {
	gw, up net.Conn
	// ended is closed once both directions are done (the server closed
	// its side, or the proxy gave up).
	ended chan struct{}
	// waitFor are the pipes that were open when the stall began, if this
	// one was accepted during it: they end before this one forwards.
	waitFor []<-chan struct{}
}

func startStallProxy(t *testing.T, upstream string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{t: t, ln: ln, upstream: upstream, resume: make(chan struct{})}
	close(p.resume)
	p.wg.Go(p.acceptLoop)
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

// stall stops reading from the gateway: a read under way is interrupted,
// and bytes written from now on stay in the socket buffers. It returns the
// bytes forwarded to the server up to the stall.
func (p *stallProxy) stall() (forwarded int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		return p.forwarded.Load()
	}
	p.stalled = true
	p.resume = make(chan struct{})
	p.older = nil
	for _, pp := range p.pipes {
		p.older = append(p.older, pp.ended)
		_ = pp.gw.SetReadDeadline(time.Unix(1, 0))
	}
	// A chunk that passed the gate before the stall is written and
	// counted before the count is taken: nothing is forwarded after it.
	p.mu.Unlock()
	p.fwd.Lock()
	forwarded = p.forwarded.Load()
	p.fwd.Unlock()
	p.mu.Lock()
	return forwarded
}

// passChunk waits at the gate until a read chunk may be written; it
// returns true holding p.fwd's read lock (the caller writes, counts and
// releases it), false once pp or the proxy is done.
func (p *stallProxy) passChunk(pp *proxyPipe, done <-chan struct{}) bool {
	for {
		if !p.gate(pp, done) {
			return false
		}
		p.fwd.RLock()
		p.mu.Lock()
		stalled := p.stalled
		p.mu.Unlock()
		if !stalled {
			return true
		}
		p.fwd.RUnlock() // stalled again since the gate: wait there
	}
}

// unstall resumes copying gateway→server.
func (p *stallProxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stalled {
		return
	}
	p.stalled = false
	close(p.resume)
}

// gate blocks while the proxy is stalled, then until the pipes pp must
// wait for have ended; it reports false once pp or the proxy is done.
func (p *stallProxy) gate(pp *proxyPipe, done <-chan struct{}) bool {
	p.mu.Lock()
	resume := p.resume
	p.mu.Unlock()
	select {
	case <-resume:
	case <-done:
		return false
	}
	for _, older := range pp.waitFor {
		select {
		case <-older:
		case <-done:
			return false
		}
	}
	return true
}

// track records a connection for close; it reports false (and closes c)
// once the proxy is closed.
func (p *stallProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *stallProxy) acceptLoop() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			return
		}
		p.accepted.Add(1)
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			p.t.Logf("stall proxy: dial %s: %v", p.upstream, err)
			_ = c.Close()
			continue
		}
		if !p.track(up) {
			_ = c.Close()
			return
		}
		pp := &proxyPipe{gw: c, up: up, ended: make(chan struct{})}
		p.mu.Lock()
		if p.stalled {
			pp.waitFor = p.older
		}
		p.pipes = append(p.pipes, pp)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(pp) })
	}
}

// pipe copies both ways between the gateway's connection and the server's
// until the server closes its side (or the proxy closes). When the gateway
// side ends (closed or reset), the server gets what was read before and
// then the end of the stream, and may finish what it was doing; what the
// server still writes is dropped.
func (p *stallProxy) pipe(pp *proxyPipe) {
	gw, up := pp.gw, pp.up
	done := make(chan struct{})
	var once sync.Once
	end := func() {
		once.Do(func() {
			close(done)
			_ = gw.Close()
			_ = up.Close()
		})
	}
	defer close(pp.ended)
	var wg sync.WaitGroup
	wg.Go(func() { // server → gateway: never stalled
		defer end()
		buf := make([]byte, 32<<10)
		gwDead := false
		for {
			n, err := up.Read(buf)
			if n > 0 && !gwDead {
				if _, werr := gw.Write(buf[:n]); werr != nil {
					gwDead = true
				}
			}
			if err != nil {
				return
			}
		}
	})
	wg.Go(func() { // gateway → server: stallable
		buf := make([]byte, 32<<10)
		for {
			if !p.gate(pp, done) {
				end()
				return
			}
			_ = gw.SetReadDeadline(time.Time{})
			p.mu.Lock()
			if p.stalled { // stalled again between the gate and here
				p.mu.Unlock()
				continue
			}
			p.mu.Unlock()
			n, err := gw.Read(buf)
			if n > 0 {
				// A chunk read as the stall began is held until it ends,
				// as the server's own buffer would.
				if !p.passChunk(pp, done) {
					end()
					return
				}
				_, werr := up.Write(buf[:n])
				if werr == nil {
					p.forwarded.Add(int64(n))
				}
				p.fwd.RUnlock()
				if werr != nil {
					end()
					return
				}
			}
			switch {
			case err == nil:
			case errors.Is(err, os.ErrDeadlineExceeded):
				// Interrupted by stall: wait at the gate.
			case errors.Is(err, io.EOF) || !errors.Is(err, net.ErrClosed):
				// The gateway closed or reset its side: pass the end
				// on and let the server finish and close the other
				// direction.
				if tc, ok := up.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				} else {
					end()
				}
				return
			default:
				end()
				return
			}
		}
	})
	wg.Wait()
}

func (p *stallProxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	if p.stalled {
		p.stalled = false
		close(p.resume)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}
