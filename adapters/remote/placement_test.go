package remote_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// childEnv makes this test binary a sandbox adapter child (TestMain).
const childEnv = "DRAWBRIDGE_TEST_ADAPTER_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "sandbox" {
		remote.ServeChild(remote.NewServer(sandbox.New(nil), slog.New(slog.NewTextHandler(os.Stderr, nil))))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childCmd runs this test binary as the sandbox adapter's child process.
func childCmd() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=sandbox")
	return cmd
}

const testToken = "placement-test-token"

// placement is one way to run the sandbox: every one passes the same
// adapter conformance suite.
type placement struct {
	name       string
	newAdapter func(t *testing.T) gateway.Adapter
}

func placements() []placement {
	return []placement{
		{"in_process", func(t *testing.T) gateway.Adapter { return sandbox.New(nil) }},
		{"child", func(t *testing.T) gateway.Adapter { return launchChild(t) }},
		{"remote_token", func(t *testing.T) gateway.Adapter { return dialRemote(t, sandbox.New(nil)) }},
		{"remote_mtls", func(t *testing.T) gateway.Adapter { return dialMTLS(t, sandbox.New(nil)) }},
	}
}

func launchChild(t testing.TB) *remote.Adapter {
	t.Helper()
	a, err := remote.Launch(t.Context(), childCmd, testLogger(t))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
}

// serveRemote serves ad on a loopback port with testToken and returns the
// address.
func serveRemote(t testing.TB, ad gateway.Adapter) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- remote.Serve(ctx, l, remote.NewServer(ad, testLogger(t)), testToken)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

func dialRemote(t testing.TB, ad gateway.Adapter) *remote.Adapter {
	t.Helper()
	a, err := remote.Dial(t.Context(), serveRemote(t, ad), testToken, testLogger(t))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
}

// TestConformancePlacements runs the adapter conformance suite against
// the sandbox in process, as a go-plugin child process, and served on a
// loopback port dialed with a token and with mutual TLS: the same
// assertions each time.
func TestConformancePlacements(t *testing.T) {
	for _, p := range placements() {
		t.Run(p.name, func(t *testing.T) {
			gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
				NewAdapter: p.newAdapter,
				Answer: func(t *testing.T, step gateway.LoginStep) map[string]string {
					return map[string]string{sandbox.FieldPhone: "+15550001234"}
				},
				Contact:  ids.DirectChat(sandbox.EchoBot),
				Unlinked: "+15557654321",
			})
		})
	}
}

// testLogger logs to the test log until the test ends (later records,
// from goroutines that outlive it, are dropped).
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, nil))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}
