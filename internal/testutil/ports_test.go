package testutil

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortsAreDistinctAndFree(t *testing.T) {
	ports := FreePorts(t, 20)
	if len(ports) != 20 {
		t.Fatalf("%d ports, want 20", len(ports))
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || p > 65535 || seen[p] {
			t.Fatalf("ports %v: %d is out of range or repeated", ports, p)
		}
		seen[p] = true
	}
	// Each one can be bound (nothing else took it in the meantime, on a
	// quiet machine).
	ln, err := net.Listen("tcp", LoopbackAddr(ports[0]))
	if err != nil {
		t.Fatalf("binding a port FreePorts returned: %v", err)
	}
	ln.Close()
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr = %q (%v), want 127.0.0.1:port", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 {
		t.Fatalf("FreeAddr = %q: bad port", addr)
	}
	if p := FreePort(t); p <= 0 {
		t.Fatalf("FreePort = %d", p)
	}
}
