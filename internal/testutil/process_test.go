//go:build unix

package testutil

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startShell runs sh -c script in a temporary directory and kills it when
// the test ends.
func startShell(t *testing.T, script string) *Process {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p, err := Start(exec.Command("sh", "-c", script), filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

func TestProcessStopEndsAChildThatHeedsSIGTERM(t *testing.T) {
	p := startShell(t, "exec sleep 600")
	if !p.Running() || p.Pid() <= 0 {
		t.Fatalf("Running %v, Pid %d just after Start", p.Running(), p.Pid())
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if p.Running() {
		t.Fatal("running after Stop")
	}
	var exit *exec.ExitError
	if err := p.ExitErr(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("exit %v, want killed by SIGTERM", err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("Stop of a stopped process: %v", err)
	}
	if err := p.Kill(); err != nil {
		t.Errorf("Kill of a stopped process: %v", err)
	}
}

func TestProcessStopKillsAChildThatIgnoresSIGTERM(t *testing.T) {
	// The shell ignores SIGTERM, and says so once it does.
	p := startShell(t, `trap "" TERM; echo ignoring; while :; do sleep 1; done`)
	if err := p.WaitLog(10*time.Second, p.LogPath(), "ignoring"); err != nil {
		t.Fatal(err)
	}
	err := p.Stop(100 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop of a process that ignores SIGTERM: %v, want an error saying it was killed", err)
	}
	if p.Running() {
		t.Fatal("running after Stop")
	}
}

func TestProcessKill(t *testing.T) {
	p := startShell(t, "exec sleep 600")
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Kill")
	}
	var exit *exec.ExitError
	if err := p.ExitErr(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("exit %v, want killed by SIGKILL", err)
	}
}

func TestProcessWaitPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := startShell(t, "exec sleep 600")
	if err := p.WaitPorts(10*time.Second, ln.Addr().String()); err != nil {
		t.Errorf("WaitPorts on an open port: %v", err)
	}
	closed := FreeAddr(t)
	err = p.WaitPorts(50*time.Millisecond, closed)
	if err == nil || !strings.Contains(err.Error(), "not ready after 50ms") {
		t.Errorf("WaitPorts on a closed port: %v", err)
	}
}

func TestProcessWaitReadyStopsWhenTheProcessExits(t *testing.T) {
	p := startShell(t, "echo bye; exit 3")
	start := time.Now()
	err := p.WaitReady(time.Minute, func() error { return errors.New("not yet") })
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready (exit status 3): not yet") {
		t.Fatalf("WaitReady: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("WaitReady took %v: it waited for the timeout", d)
	}
	if got := p.Tail(5); !strings.Contains(got, "---- last lines of "+p.LogPath()+"\nbye\n") {
		t.Errorf("Tail = %q", got)
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	a, b, empty := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "empty")
	for path, text := range map[string]string{a: "1\n2\n3\n4\n", b: "only\n", empty: " \n"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := Tail(2, a, filepath.Join(dir, "missing"), empty, b)
	want := "---- last lines of " + a + "\n3\n4\n---- last lines of " + b + "\nonly\n"
	if got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
	if got := Tail(2); got != "" {
		t.Errorf("Tail of nothing = %q", got)
	}
}
