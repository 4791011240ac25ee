package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// termWait bounds each wait for a terminal client's screen.
const termWait = 30 * time.Second

// needBinaries skips the test when one of the programs is missing, except
// in CI (CI set), where .ci/run installs them and a missing one fails.
func needBinaries(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs it: %v", n, err)
			}
			t.Skipf("%s is not installed (apt-get install %s): %v", n, strings.Join(names, " "), err)
		}
	}
}

// terminal is a program running in a detached tmux session of its own
// tmux server (a private socket in the test's directory, so no other tmux
// is touched), in a window of a fixed size. The test types with send and
// reads the screen with screen; waitScreen waits for a condition on the
// screen with a deadline.
type terminal struct {
	t    *testing.T
	sock string
}

// startTerminal runs argv in a new tmux server with the environment env
// (and nothing else of the test's), in a width×height window. The pane
// stays after the program exits, so its last screen can be shown; the
// server is killed when the test ends.
func startTerminal(t *testing.T, width, height int, env []string, argv ...string) *terminal {
	t.Helper()
	dir := t.TempDir()
	term := &terminal{t: t, sock: filepath.Join(dir, "tmux.sock")}
	conf := filepath.Join(dir, "tmux.conf")
	// remain-on-exit keeps a crashed client's last screen; no status line,
	// so the screen is the program's alone.
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", conf, "new-session", "-d", "-s", "test",
		"-x", fmt.Sprint(width), "-y", fmt.Sprint(height)}
	for _, kv := range env {
		args = append(args, "-e", kv)
	}
	args = append(args, "--")
	args = append(args, argv...)
	if _, err := term.tmux(args...); err != nil {
		t.Fatalf("starting %s in tmux: %v", argv[0], err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen of %s:\n%s", argv[0], term.lastScreen())
		}
		// kill-server ends this server and sends the pane's program
		// SIGHUP; a program that survives it (poezio run through runuser
		// does, then spins on the closed terminal) is killed with the rest
		// of the pane's session first (tmux makes the pane a session).
		if out, err := term.tmux("display-message", "-p", "-t", "test", "#{pane_pid}"); err == nil {
			if sid, err := strconv.Atoi(strings.TrimSpace(out)); err == nil && sid > 1 {
				killSession(sid)
			}
		}
		_, _ = term.tmux("kill-server")
	})
	return term
}

// in is the terminal for a subtest: its waits fail t.
func (term *terminal) in(t *testing.T) *terminal {
	c := *term
	c.t = t
	return &c
}

// tmux runs a tmux command on the terminal's server.
func (term *terminal) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", term.sock}, args...)...)
	// tmux reads its own environment for the server it starts: only what
	// it needs, not the test's (no TMUX of an enclosing session).
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "LANG=C.UTF-8", "HOME=" + filepath.Dir(term.sock)}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// send types text and presses Enter.
func (term *terminal) send(text string) {
	term.t.Helper()
	if _, err := term.tmux("send-keys", "-t", "test", "-l", "--", text); err != nil {
		term.t.Fatal(err)
	}
	if _, err := term.tmux("send-keys", "-t", "test", "Enter"); err != nil {
		term.t.Fatal(err)
	}
}

// screen is what the window shows now, one line per row.
func (term *terminal) screen() (string, error) {
	return term.tmux("capture-pane", "-p", "-t", "test")
}

// lastScreen is the screen for a failure message, and whether the program
// is still running.
func (term *terminal) lastScreen() string {
	s, err := term.screen()
	if err != nil {
		return err.Error()
	}
	if dead, err := term.tmux("display-message", "-p", "-t", "test", "#{pane_dead} #{pane_dead_status}"); err == nil && strings.HasPrefix(dead, "1") {
		s += "\n[the program exited with status " + strings.TrimSpace(strings.TrimPrefix(dead, "1")) + "]"
	}
	return s
}

// waitScreen reads the screen until cond holds, failing the test after
// termWait with the last screen. It returns the screen that satisfied cond.
// Reading the screen is the synchronisation; the interval only bounds its
// cost.
func (term *terminal) waitScreen(what string, cond func(screen string) bool) string {
	term.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(termWait)
	for {
		s, err := term.screen()
		if err != nil {
			term.t.Fatalf("waiting for %s: %v", what, err)
		}
		if cond(s) {
			return s
		}
		select {
		case <-tick.C:
		case <-deadline:
			term.t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", termWait, what, term.lastScreen())
		}
	}
}

// waitText waits until the screen shows every fragment.
func (term *terminal) waitText(what string, fragments ...string) string {
	term.t.Helper()
	return term.waitScreen(fmt.Sprintf("%s (%q)", what, fragments), func(s string) bool { return containsAll(s, fragments...) })
}

// killSession sends SIGKILL to every process of session sid, found in
// /proc (the Linux stat file's sixth field is the session id).
func killSession(sid int) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...: comm may hold spaces,
		// so the fields are counted after its closing parenthesis.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 3 && f[3] == strconv.Itoa(sid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
