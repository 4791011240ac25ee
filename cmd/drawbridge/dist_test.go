package main

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeDist runs `make dist` for linux/amd64 into a directory the test
// removes and returns that directory. (The Makefile's loop is the same for
// linux/arm64; cross-compiling every dependency for arm64 would add minutes
// to `make test`.)
func makeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", repoRoot, "dist", "DIST="+dir, "DIST_PLATFORMS=linux/amd64")
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	return dir
}

// readSums parses a SHA256SUMS file (sha256sum's format) into name → sum.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: line %q is not sha256sum's form", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

// TestMakeDist: `make dist` writes a static linux/amd64 binary stamped with
// git describe's version and a SHA256SUMS that matches it, and a second run
// gives the same bytes (reproducible: -trimpath, no VCS stamp, no build id).
func TestMakeDist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release binaries with make")
	}
	version, err := git(t, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		t.Fatalf("git describe: %v", err)
	}
	version = strings.TrimSpace(version)
	first, second := makeDist(t), makeDist(t)

	sums := readSums(t, filepath.Join(first, "SHA256SUMS"))
	name := "drawbridge-" + version + "-linux-amd64"
	if len(sums) != 1 || sums[name] == "" {
		t.Fatalf("SHA256SUMS lists %v, want exactly %s", sums, name)
	}
	bin := filepath.Join(first, name)
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := hex.EncodeToString(h.Sum(nil)); got != sums[name] {
		t.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, sums[name])
	}

	e, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s is not an ELF file: %v", name, err)
	}
	defer e.Close()
	if e.Machine != elf.EM_X86_64 {
		t.Errorf("%s: machine %v, want x86-64", name, e.Machine)
	}
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: not static", name)
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", name, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "drawbridge "+version {
		t.Errorf("%s version says %q, want %q", name, got, "drawbridge "+version)
	}

	again, err := os.ReadFile(filepath.Join(second, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	once, _ := os.ReadFile(filepath.Join(first, "SHA256SUMS"))
	if string(once) != string(again) {
		t.Errorf("two runs of make dist differ:\n%s\n%s", once, again)
	}
}
