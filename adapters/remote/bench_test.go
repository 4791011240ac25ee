package remote_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// BenchmarkEchoRoundTrip sends a message to the sandbox's echo bot and
// waits for the echo to reach the host, one at a time, with the sandbox
// in process, as a go-plugin child and served on loopback with a token
// and with mutual TLS.
// ns/op is the round trip (send, the platform's echo, the event through
// the Host stream and its ack); cpu-µs/msg is the CPU of the test process
// and, for the child, of the child process, per message; events/msg how
// many events (each acknowledged over the wire) one message causes.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, p := range []struct {
		name string
		new  func(b *testing.B) gateway.Adapter
	}{
		{"in_process", func(*testing.B) gateway.Adapter { return sandbox.New(nil) }},
		{"child", func(b *testing.B) gateway.Adapter { return launchChild(b) }},
		{"remote_token", func(b *testing.B) gateway.Adapter { return dialRemote(b, sandbox.New(nil)) }},
		{"remote_mtls", func(b *testing.B) gateway.Adapter { return dialMTLS(b, sandbox.New(nil)) }},
	} {
		b.Run(p.name, func(b *testing.B) {
			a := p.new(b)
			echoes := make(chan struct{}, 16)
			h := gatewaytest.NewHost(nil)
			h.EmitHook = func(_ context.Context, ev event.Event) error {
				if m, ok := ev.(*event.Message); ok && m.Sender == sandbox.EchoBot {
					echoes <- struct{}{}
				}
				return nil
			}
			if err := a.Init(h, nil); err != nil {
				b.Fatal(err)
			}
			if err := a.Start(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = a.Stop(context.Background()) })
			acct := benchLink(b, a, h)
			sess, err := a.LoadSession(b.Context(), acct)
			if err != nil {
				b.Fatal(err)
			}
			sess.Connect(b.Context())
			h.WaitState(b, acct, event.StateConnected)
			child := 0
			if ca, ok := a.(interface{ ChildPID() int }); ok {
				child = ca.ChildPID()
			}
			msg := func() *event.Message {
				return &event.Message{Meta: event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot),
					Sender: ids.UserID(acct), FromMe: true, Time: time.Now()}, Body: "bench"}
			}
			events0 := len(h.Events())
			cpu0 := cpuTime(b, 0) + cpuTime(b, child)
			b.ResetTimer()
			for range b.N {
				if _, err := sess.SendMessage(b.Context(), msg()); err != nil {
					b.Fatal(err)
				}
				select {
				case <-echoes:
				case <-time.After(10 * time.Second):
					b.Fatal("no echo")
				}
			}
			b.StopTimer()
			cpu := cpuTime(b, 0) + cpuTime(b, child) - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
			b.ReportMetric(float64(len(h.Events())-events0)/float64(b.N), "events/msg")
		})
	}
}

func benchLink(b *testing.B, a gateway.Adapter, h *gatewaytest.Host) ids.AccountID {
	b.Helper()
	l, err := a.NewLogin(b.Context(), "bench@example.org", a.LoginFlows()[0].ID)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Cancel()
	step, err := l.Start(b.Context())
	for err == nil && step.Kind != gateway.StepDone {
		switch step.Kind {
		case gateway.StepInput:
			step, err = l.Submit(b.Context(), map[string]string{sandbox.FieldPhone: "+15550004444"})
		default:
			step, err = l.Wait(b.Context())
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	return step.Account
}

// cpuTime is the user+system CPU time of this process (pid 0) or of
// process pid, from /proc (clock ticks of 10 ms: use many messages).
func cpuTime(b *testing.B, pid int) time.Duration {
	if pid == 0 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command (which may hold spaces) in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
