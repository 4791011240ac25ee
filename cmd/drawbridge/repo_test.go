package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const repoRoot = "../.."

// git runs git in the repository root. CI and `make test` run from a
// checkout, so git is there.
func git(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", repoRoot}, args...)...)
	out, err := cmd.Output()
	return string(out), err
}

// TestRepoHygiene: what tests, crashes and demos leave in a checkout is
// neither committed nor offered to `git add`.
func TestRepoHygiene(t *testing.T) {
	files, err := git(t, "ls-files")
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	left := regexp.MustCompile(`(^|/)(erl_crash\.dump|drawbridge-demo\.[^/]+/.*|clients-out/.*|[^/]+\.db(-wal|-shm|-journal)?)$`)
	for _, f := range strings.Split(strings.TrimSpace(files), "\n") {
		if left.MatchString(f) {
			t.Errorf("%s is committed: it is what a test, a crash or a demo leaves behind", f)
		}
	}
	for _, p := range []string{
		"erl_crash.dump",                         // an ejabberd (Erlang VM) crash dump
		"xmppcomponent/erl_crash.dump",           // ... wherever it was started
		"drawbridge-demo.Ab12Cd/prosody.cfg.lua", // demo.sh with TMPDIR=.
		"files/ab/cd",                            // `drawbridge demo` run from the root: files.dir
		"clients-out/gajim/demo.out",             // the desktop client scripts' output
	} {
		if _, err := git(t, "check-ignore", "-q", "--no-index", p); err != nil {
			t.Errorf("git does not ignore %s: add it to .gitignore", p)
		}
	}
}

// TestReadmeArchitecture: the README's picture shows what exists.
func TestReadmeArchitecture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "adapters/whatsapp") && strings.Contains(line, "(planned)") {
			t.Errorf("README says the WhatsApp adapter is planned; it exists (adapters/whatsapp):\n%s", line)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "adapters", "whatsapp", "adapter.go")); err != nil {
		t.Fatal(err)
	}
}
