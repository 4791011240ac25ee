package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeBuild builds the binary as `make build` does, into a directory the
// test removes.
func makeBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "drawbridge")
	cmd := exec.Command("make", "-C", repoRoot, "build", "BIN="+bin)
	// Not the variables of a `make test` this may run under (VERSION=...).
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	return bin
}

// TestMakeBuildVersion: `make build` stamps the version from git describe,
// so `drawbridge version` names the commit even when the toolchain's VCS
// stamping is off (GOFLAGS=-buildvcs=false, or a -trimpath build outside git).
func TestMakeBuildVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with make")
	}
	want, err := git(t, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		t.Fatalf("git describe: %v", err)
	}
	want = strings.TrimSpace(want)
	bin := makeBuild(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("drawbridge version: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "drawbridge "+want {
		t.Errorf("drawbridge version says %q, want %q", got, "drawbridge "+want)
	}
}

// TestHelpExitsZero: asking for help is not an error.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"run", "--help"}, {"run", "-h"}, {"demo", "--help"}, {"help"}, {"--help"}} {
		code := exitCode(run(t.Context(), args, &strings.Builder{}, &strings.Builder{}))
		if code != 0 {
			t.Errorf("drawbridge %s exits %d, want 0", strings.Join(args, " "), code)
		}
	}
	if code := exitCode(run(t.Context(), []string{"run", "--frobnicate"}, &strings.Builder{}, &strings.Builder{})); code != 2 {
		t.Errorf("drawbridge run --frobnicate exits %d, want 2", code)
	}
}
