package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// streamTally accounts for each message of a stream an XMPP user sends
// to the Echo Bot: echoed (its echo reached the user) or bounced (an error
// stanza with its id reached the user, who then knows it failed).
type streamTally struct {
	mu      sync.Mutex
	echoed  map[string]int
	bounced map[string]string // id → the error's condition
	sent    []string
}

func newStreamTally() *streamTally {
	return &streamTally{echoed: map[string]int{}, bounced: map[string]string{}}
}

func (s *streamTally) addSent(id string) {
	s.mu.Lock()
	s.sent = append(s.sent, id)
	s.mu.Unlock()
}

// unaccounted lists the ids sent and neither echoed nor bounced.
func (s *streamTally) unaccounted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.sent {
		if s.echoed[id] == 0 && s.bounced[id] == "" {
			out = append(out, id)
		}
	}
	return out
}

func (s *streamTally) counts() (sent, echoed, bounced int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent), len(s.echoed), len(s.bounced)
}

// TestStopMidStreamLosesNothing stops the gateway (as SIGTERM does: run's
// context ends) while an XMPP user sends it a steady stream of messages
// for the sandbox's Echo Bot, then starts it again on the same store.
// Every message must be accounted for: echoed — before the stop, or after
// the restart from the intake the stopping process recorded it in — or
// bounced by Prosody (the component was away) with an error the sender
// sees. A message the stopping gateway read and neither recorded nor
// answered would be silently lost.
func TestStopMidStreamLosesNothing(t *testing.T) {
	// No message rate limit: the stream is faster than its default.
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) { c.Limits.Messages = config.RateConfig{} })
	u := e.user("alice")
	linkByChat(t, u)

	tally := newStreamTally()
	// The reader: every echo and every error the user gets.
	readCtx, stopReading := context.WithCancel(context.Background())
	defer stopReading()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			st, err := u.c.Next(readCtx)
			if err != nil {
				return
			}
			m, ok := asMessage(st.Packet)
			if !ok {
				continue
			}
			tally.mu.Lock()
			switch {
			case m.Type == "error" && strings.HasPrefix(m.Id, "S"):
				cond, err := stanzaErrorCondition(st.Raw)
				if err != nil {
					cond = "(no condition)"
				}
				tally.bounced[m.Id] = cond
			case bare(m.From) == echoJID && strings.HasPrefix(m.Body, "echo: S"):
				tally.echoed[strings.TrimPrefix(m.Body, "echo: ")]++
			}
			tally.mu.Unlock()
		}
	}()

	// The sender: burst messages every 2 ms, across the stop and the
	// restart (a steady ~1000 messages a second).
	const burst = 2
	var sentN atomic.Int64
	stopSending := make(chan struct{})
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-stopSending:
				return
			case <-tick.C:
			}
			var b strings.Builder
			for range burst {
				id := fmt.Sprintf("S%05d", i)
				i++
				tally.addSent(id)
				fmt.Fprintf(&b, `<message type='chat' to='%s' id='%s'><body>%s</body></message>`, echoJID, id, id)
			}
			if err := u.c.SendRaw(b.String()); err != nil {
				t.Errorf("send: %v", err)
				return
			}
			sentN.Add(burst)
		}
	}()

	waitFor(t, "150 echoes before the stop", func() bool { _, echoed, _ := tally.counts(); return echoed >= 150 })
	atStop := sentN.Load()
	first := e.app.sandbox.Platform()
	stopping := time.Now()
	e.shutdown() // what SIGTERM does: run's context ends
	stopTook := time.Since(stopping)
	atRestart := sentN.Load()
	e.start()
	waitFor(t, "60 more messages sent after the restart", func() bool { return sentN.Load() >= atRestart+60 })
	close(stopSending)
	<-sendDone

	// The simulated platform lives in the gateway's process: a message it
	// took from the first process, whose echo was still to come when the
	// session disconnected, is the platform's (a real one keeps the echo
	// for the next connection), not lost by the gateway.
	atPlatform := map[string]string{}
	for _, m := range first.Received(sandbox.EchoBot) {
		atPlatform[m.Body] = "received by the Echo Bot"
	}
	for _, m := range first.Received(ids.UserID(alicePhone)) {
		if b, ok := strings.CutPrefix(m.Body, "echo: "); ok {
			atPlatform[b] = "echoed by the Echo Bot on the first process's platform"
		}
	}
	split := func() (lost, leftAtPlatform []string) {
		for _, id := range tally.unaccounted() {
			if why, ok := atPlatform[id]; ok {
				leftAtPlatform = append(leftAtPlatform, id+": "+why)
				continue
			}
			lost = append(lost, id)
		}
		return lost, leftAtPlatform
	}
	// Every message is echoed or bounced; wait for the last of them (the
	// Echo Bot answers one at a time, the replayed ones too).
	waiting := time.Now()
	testutil.Poll(2*e2eWait, func() bool { lost, _ := split(); return len(lost) == 0 })
	waitTook := time.Since(waiting)
	stopReading()
	<-readDone
	lost, leftAtPlatform := split()
	sent, echoed, bounced := tally.counts()
	if len(leftAtPlatform) > 0 {
		t.Logf("%d messages reached the first process's simulated platform, their echo not the user: %v", len(leftAtPlatform), leftAtPlatform)
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d messages neither echoed nor bounced (sent %d before the stop, %d by the restart): %v",
			len(lost), sent, atStop, atRestart, lost)
	}
	conds := map[string]int{}
	tally.mu.Lock()
	for id, c := range tally.bounced {
		conds[c]++
		// Prosody's while the component is away, or the stopping
		// gateway's for what it could not record; a refusal from a
		// stopping hub (registration-required: "not linked") is wrong.
		if c != "remote-server-timeout" && c != "service-unavailable" {
			t.Errorf("%s bounced with %s", id, c)
		}
	}
	tally.mu.Unlock()
	var cs []string
	for c, n := range conds {
		cs = append(cs, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(cs)
	t.Logf("sent %d (%d before the stop, %d by the restart): %d echoed, %d bounced (%s); the stop took %v, the last answers came %v after the sending ended",
		sent, atStop, atRestart, echoed, bounced, strings.Join(cs, ", "), stopTook.Round(time.Millisecond), waitTook.Round(time.Millisecond))
}
