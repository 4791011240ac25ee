package testutil

import (
	"fmt"
	"net"
	"strconv"
	"testing"
)

// PickPorts returns n distinct loopback TCP ports that were free a moment
// ago: it listens on n ports at once (so the kernel hands out distinct
// ones), then closes them. Another process may take a port before the
// caller binds it; a caller that can tell a bind failure retries with new
// ports.
func PickPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testutil: finding a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PickPort returns one loopback TCP port that was free a moment ago (see
// PickPorts).
func PickPort() (int, error) {
	ports, err := PickPorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts is PickPorts failing the test on error.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports, err := PickPorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

// FreePort is PickPort failing the test on error.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreeAddr returns a loopback address (127.0.0.1:port) that was free a
// moment ago, for a server the test configures to listen there.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return LoopbackAddr(FreePort(t))
}

// LoopbackAddr is 127.0.0.1:port.
func LoopbackAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
