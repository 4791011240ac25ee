package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a server (redis-server, Prosody, ejabberd, PostgreSQL...)
// running as a child process of a test, with its standard output and
// error in a log file. Its methods may be called from any goroutine.
type Process struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once cmd has been waited for
	waitErr error         // cmd.Wait's result, read only after exited is closed
}

// Start starts cmd with its standard output and error appended to the
// file at logPath (created if needed), killed by the kernel if the test
// binary dies without running its cleanups (DieWithParent). The caller
// then waits for it to be ready (WaitPorts, WaitReady) and stops it
// (Stop, Terminate, Kill).
func Start(cmd *exec.Cmd, logPath string) (*Process, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testutil: opening the log of %s: %w", cmd.Path, err)
	}
	defer out.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = out, out
	DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testutil: starting %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath is the file that holds the process's output.
func (p *Process) LogPath() string { return p.logPath }

// Exited is closed once the process has exited and been waited for.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// ExitErr is how the process ended (exec.Cmd.Wait's error; nil for a
// zero exit status), or nil while it runs.
func (p *Process) ExitErr() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Signal sends sig to the process without waiting. Signalling a process
// that has exited does nothing.
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testutil: signalling %s (pid %d): %w", p.cmd.Path, p.Pid(), err)
	}
	return nil
}

// Terminate sends sig and waits for the process to exit; if it has not
// within timeout, it kills it with SIGKILL, waits, and returns an error
// saying so. Terminating a process that has exited does nothing.
func (p *Process) Terminate(sig os.Signal, timeout time.Duration) error {
	if !p.Running() {
		return nil
	}
	if err := p.Signal(sig); err != nil {
		return err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("testutil: %s (pid %d) did not exit within %v of %v; killed", p.cmd.Path, p.Pid(), timeout, sig)
	}
}

// Stop is Terminate with SIGTERM: a clean shutdown, SIGKILL after timeout.
func (p *Process) Stop(timeout time.Duration) error {
	return p.Terminate(syscall.SIGTERM, timeout)
}

// Kill kills the process with SIGKILL, like a crash, and waits for it to
// exit.
func (p *Process) Kill() error {
	if err := p.Signal(os.Kill); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// WaitReady polls ready until it returns nil, the process exits, or
// timeout passes; the error then says which, with ready's last error.
func (p *Process) WaitReady(timeout time.Duration, ready func() error) error {
	var last error
	ok := Poll(timeout, func() bool {
		if last = ready(); last == nil {
			return true
		}
		return !p.Running()
	})
	switch {
	case ok && last == nil:
		return nil
	case !p.Running():
		return fmt.Errorf("%s exited before it was ready (%v): %w", p.cmd.Path, p.ExitErr(), last)
	default:
		return fmt.Errorf("%s not ready after %v: %w", p.cmd.Path, timeout, last)
	}
}

// WaitPorts waits until every one of addrs (host:port) accepts a TCP
// connection (see WaitReady).
func (p *Process) WaitPorts(timeout time.Duration, addrs ...string) error {
	open := make(map[string]bool, len(addrs))
	return p.WaitReady(timeout, func() error {
		for _, addr := range addrs {
			if open[addr] {
				continue
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return err
			}
			c.Close()
			open[addr] = true
		}
		return nil
	})
}

// WaitLog waits until the file at path holds text (see WaitReady): for a
// server that opens its ports before it is ready.
func (p *Process) WaitLog(timeout time.Duration, path, text string) error {
	return p.WaitReady(timeout, func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Contains(data, []byte(text)) {
			return fmt.Errorf("no %q in %s", text, path)
		}
		return nil
	})
}

// Tail is the last n lines of the process's log (see the function Tail).
func (p *Process) Tail(n int) string { return Tail(n, p.logPath) }

// Tail returns the last n lines of each of the files at paths that is
// not empty, each under a line "---- last lines of PATH", for a failure
// message. Files that cannot be read are left out.
func Tail(n int, paths ...string) string {
	var b strings.Builder
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "---- last lines of %s\n%s\n", path, strings.Join(lines, "\n"))
	}
	return b.String()
}
