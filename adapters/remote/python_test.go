package remote_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// debianPython is the interpreter with Debian's python3-grpcio and
// python3-protobuf (.ci/run installs them).
const debianPython = "/usr/bin/python3"

// startPythonAdapter runs examples/adapter-python/echo_adapter.py on a
// free loopback port with testToken and dials it.
func startPythonAdapter(t *testing.T) *remote.Adapter {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		t.Skipf("%s lacks python3-grpcio or python3-protobuf: %v: %s", debianPython, err, out)
	}
	cmd := exec.Command(debianPython, "../../examples/adapter-python/echo_adapter.py", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DRAWBRIDGE_ADAPTER_TOKEN="+testToken)
	cmd.Stderr = &testWriter{t: t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("the Python adapter did not start: %q, %v", line, err)
	}
	if _, err := remote.Dial(t.Context(), addr, "wrong-token", testLogger(t)); !errors.Is(err, remote.ErrUnauthenticated) {
		t.Fatalf("Dial with a wrong token = %v, want ErrUnauthenticated", err)
	}
	a, err := remote.Dial(t.Context(), addr, testToken, testLogger(t))
	if err != nil {
		t.Fatalf("Dial the Python adapter: %v", err)
	}
	t.Cleanup(func() { _ = a.Stop(t.Context()) })
	return a
}

// TestConformancePython: the Python example adapter (an echo platform,
// Debian's grpcio and protobuf, no Go) passes the same adapter
// conformance suite as the sandbox in every placement.
func TestConformancePython(t *testing.T) {
	gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
		NewAdapter: func(t *testing.T) gateway.Adapter { return startPythonAdapter(t) },
		Answer: func(t *testing.T, step gateway.LoginStep) map[string]string {
			return map[string]string{"phone": "+15550001234"}
		},
		Contact:  "+15550009876",
		Unlinked: "+15557654321",
	})
}
