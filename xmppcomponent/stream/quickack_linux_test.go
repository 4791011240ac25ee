package stream

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// nagleRounds plays, rounds times, the exchange that made the gateway wait
// for its own delayed ACK behind Prosody: a server with the Nagle algorithm
// on writes a stanza, the component answers it, the server writes a reply
// the component does not answer (a ping result), then the server routes
// the next stanza at once. It returns how long each next stanza took to
// arrive, sorted.
func nagleRounds(t *testing.T, wrap func(net.Conn) net.Conn, rounds int) []time.Duration {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- sc
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer sc.Close()
	if err := sc.(*net.TCPConn).SetNoDelay(false); err != nil { // the server's Nagle algorithm
		t.Fatal(err)
	}
	_ = cc.SetDeadline(time.Now().Add(30 * time.Second))
	_ = sc.SetDeadline(time.Now().Add(30 * time.Second))

	client := wrap(cc)
	// The server: stanza, (read the answer), ping result, then on cue the
	// next stanza.
	next := make(chan struct{})
	serverErr := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		for range rounds {
			if _, err := sc.Write([]byte("M")); err != nil {
				serverErr <- err
				return
			}
			if _, err := io.ReadFull(sc, b); err != nil {
				serverErr <- err
				return
			}
			if _, err := sc.Write([]byte("P")); err != nil {
				serverErr <- err
				return
			}
			if _, ok := <-next; !ok {
				break
			}
		}
		serverErr <- nil
	}()
	b := make([]byte, 1)
	var waits []time.Duration
	read := func(want byte) {
		t.Helper()
		if _, err := io.ReadFull(client, b); err != nil || b[0] != want {
			t.Fatalf("read %q, %v; want %q", b, err, want)
		}
	}
	read('M')
	for i := range rounds {
		if _, err := client.Write([]byte("R")); err != nil {
			t.Fatal(err)
		}
		read('P')
		start := time.Now()
		next <- struct{}{}
		if i == rounds-1 {
			break
		}
		read('M')
		waits = append(waits, time.Since(start))
	}
	close(next)
	if err := <-serverErr; err != nil {
		t.Fatal(err)
	}
	slices.Sort(waits)
	return waits
}

// TestQuickAckReadsBeatsNagle checks that a server's Nagle algorithm does
// not hold a stanza back behind our delayed ACK: with quickAckReads the
// server's next small write goes out at once.
func TestQuickAckReadsBeatsNagle(t *testing.T) {
	const rounds = 15
	plain := nagleRounds(t, func(nc net.Conn) net.Conn { return nc }, rounds)
	quick := nagleRounds(t, quickAckReads, rounds)
	t.Logf("next stanza after an unanswered one, median (max): plain socket %v (%v), quickAckReads %v (%v)",
		plain[len(plain)/2], plain[len(plain)-1], quick[len(quick)/2], quick[len(quick)-1])
	// The delayed-ACK timer is 40 ms at least; scheduling noise on a busy
	// machine stays well below that for most rounds.
	if m := quick[len(quick)/2]; m >= 10*time.Millisecond {
		t.Errorf("with quickAckReads the median wait is %v, want < 10ms (the server's Nagle algorithm waited for a delayed ACK)", m)
	}
}

func TestQuickAckReadsKeepsNonTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := quickAckReads(a); got != a {
		t.Errorf("quickAckReads(pipe) = %T, want the pipe itself", got)
	}
}
