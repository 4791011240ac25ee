// Command skipcheck runs go test and fails if a test skipped that the
// allow-list does not name: a test that skips in CI checks nothing, so
// each skip must be written down with its reason.
//
//	go run .ci/skipcheck.go -allow .ci/allowed-skips -- [go test flags] [packages]
//
// It runs `go test -json` with the arguments after "--" and prints what
// plain `go test` prints: build errors, the output of failed tests, and
// the package result lines ("ok", "FAIL", "?"). Its exit status is go
// test's; if go test passed but a test skipped that is not allowed, it
// names those tests and exits 1.
//
// The allow-list has one skip per line: the package (its import path, or
// the path inside the module), the test name as go test reports it
// (subtests with "/"), and the reason, separated by blanks. Blank lines and
// lines starting with # are ignored.
//
// Only the standard library is used: CI runs it with `go run` before
// anything else is installed.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json), with the build
// events of Go 1.24+ (Action build-output, build-fail; ImportPath).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// allowed is one line of the allow-list.
type allowed struct {
	pkg, test, reason string
}

// skip is a skipped test and what it printed (its reason).
type skip struct {
	pkg, test string
	output    []string
}

func main() {
	allowFile := flag.String("allow", ".ci/allowed-skips", "allow-list of expected skips")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/skipcheck.go [-allow FILE] -- [go test flags] [packages]")
		flag.PrintDefaults()
	}
	flag.Parse()
	allow, err := readAllowList(*allowFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, append([]string{"test", "-json"}, flag.Args()...)...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "skipcheck:", err)
		os.Exit(2)
	}
	skips, readErr := relay(stdout, os.Stdout)
	waitErr := cmd.Wait()
	if readErr != nil {
		fmt.Fprintln(os.Stderr, "skipcheck: reading go test's output:", readErr)
		os.Exit(2)
	}
	if waitErr != nil {
		var exit *exec.ExitError
		if errors.As(waitErr, &exit) && exit.ExitCode() > 0 {
			fmt.Println("FAIL") // go test's last line when a package failed
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "skipcheck: go test:", waitErr)
		os.Exit(2)
	}
	if unexpected := unexpectedSkips(skips, allow); len(unexpected) > 0 {
		fmt.Fprintf(os.Stderr, "skipcheck: %d test(s) skipped that %s does not allow (make them run, or add a line with the reason):\n", len(unexpected), *allowFile)
		for _, s := range unexpected {
			fmt.Fprintf(os.Stderr, "  %s %s: %s\n", s.pkg, s.test, reason(s.output))
		}
		os.Exit(1)
	}
}

// relay reads go test's JSON events from r and writes to w what plain go
// test would print; it returns the tests that skipped.
func relay(r io.Reader, w io.Writer) ([]skip, error) {
	out := bufio.NewWriter(w)
	defer out.Flush()
	type key struct{ pkg, test string }
	buffered := map[key][]string{} // output of tests still running
	var skips []skip
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var e event
			if json.Unmarshal(line, &e) != nil || e.Action == "" {
				out.Write(line) // not an event: pass it on
			} else {
				k := key{e.Package, e.Test}
				switch {
				case e.Action == "build-output":
					out.WriteString(e.Output)
				case e.Action == "output" && e.Test == "":
					// Package lines; plain go test drops the binary's
					// PASS line of a passing package.
					if e.Output != "PASS\n" {
						out.WriteString(e.Output)
					}
				case e.Action == "output":
					buffered[k] = append(buffered[k], e.Output)
				case e.Action == "fail" && e.Test != "":
					for _, l := range buffered[k] {
						out.WriteString(l)
					}
					delete(buffered, k)
				case e.Action == "fail":
					// The package failed (a panic or a timeout, say):
					// what its unfinished tests printed explains it.
					var left []key
					for bk := range buffered {
						if bk.pkg == e.Package {
							left = append(left, bk)
						}
					}
					sort.Slice(left, func(i, j int) bool { return left[i].test < left[j].test })
					for _, bk := range left {
						for _, l := range buffered[bk] {
							out.WriteString(l)
						}
						delete(buffered, bk)
					}
				case e.Action == "skip" && e.Test != "":
					skips = append(skips, skip{pkg: e.Package, test: e.Test, output: buffered[k]})
					delete(buffered, k)
				case e.Action == "pass" && e.Test != "":
					delete(buffered, k)
				}
			}
			out.Flush() // stream: CI shows progress as it comes
		}
		if err == io.EOF {
			return skips, nil
		}
		if err != nil {
			return skips, err
		}
	}
}

// reason returns what a skipped test printed, without go test's own
// "=== RUN" and "--- SKIP" lines.
func reason(output []string) string {
	var parts []string
	for _, l := range output {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

func readAllowList(path string) ([]allowed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("allow-list: %w", err)
	}
	var list []allowed
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want <package> <test> <reason>, have %q", path, n+1, line)
		}
		list = append(list, allowed{pkg: f[0], test: f[1], reason: strings.Join(f[2:], " ")})
	}
	return list, nil
}

// unexpectedSkips returns the skips that no allow-list line names.
func unexpectedSkips(skips []skip, allow []allowed) []skip {
	var out []skip
	for _, s := range skips {
		ok := false
		for _, a := range allow {
			if a.test == s.test && (s.pkg == a.pkg || strings.HasSuffix(s.pkg, "/"+a.pkg)) {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, s)
		}
	}
	return out
}
