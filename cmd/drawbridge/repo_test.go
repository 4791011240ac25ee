package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-im/drawbridge/gateway/config"
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
		"erl_crash.dump",                                         // an ejabberd (Erlang VM) crash dump
		"xmppcomponent/erl_crash.dump",                           // ... wherever it was started
		"drawbridge-demo.Ab12Cd/prosody.cfg.lua",                 // demo.sh with TMPDIR=.
		"files/ab/cd",                                            // `drawbridge demo` run from the root: files.dir
		"clients-out/gajim/demo.out",                             // the desktop client scripts' output
		"cmd/drawbridge/testdata/artifacts/sandbox-web-chat.png", // TestWebPageChromium's screenshots
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

// TestLintToolPinned: staticcheck is a tool dependency in go.mod, like the
// protoc plugins, and `make lint` runs it with `go tool`: after `go mod
// download` it works without the network, at the version go.sum pins.
func TestLintToolPinned(t *testing.T) {
	const pkg, want = "honnef.co/go/tools/cmd/staticcheck", "v0.8.2"
	cmd := exec.Command("go", "list", "-f", "{{.Module.Version}}", pkg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("go list %s: %v %s; want it pinned at %s (go get -tool %s@%s)", pkg, err, out, want, pkg, want)
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?ms)^tool \(.*^\s+` + regexp.QuoteMeta(pkg) + `$.*^\)`).Match(b) {
		t.Errorf("go.mod's tool block lacks %s", pkg)
	}
	mk, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	lint := regexp.MustCompile(`(?m)^lint:.*\n((?:\t.*\n)+)`).FindSubmatch(mk)
	if lint == nil {
		t.Fatal("Makefile has no lint target")
	}
	if !strings.Contains(string(lint[1]), "$(GO) tool staticcheck ./...") || strings.Contains(string(lint[1]), "staticcheck@") {
		t.Errorf("make lint does not run the pinned staticcheck with go tool:\n%s", lint[1])
	}
}

// TestReadmeLimitsTable: README's limits table has a row for every
// limits.* setting and the file host's bounds, with the default that
// `drawbridge config example` states.
func TestReadmeLimitsTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n### Limits\n")
	if start < 0 {
		t.Fatal("README has no \"### Limits\" section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[4:], "\n#"); end >= 0 {
		section = section[:end+4]
	}
	rows := map[string]string{} // key in the first cell → default cell
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		first := strings.TrimSpace(cells[1])
		key := first[1 : 1+strings.Index(first[1:], "`")]
		rows[key] = strings.TrimSpace(cells[2])
	}

	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(config.Example()), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // key → its value in the example
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := prefix+n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.MappingNode {
				walk(k+".", v)
				continue
			}
			if strings.HasPrefix(k, "limits.") || k == "files.quota" || k == "files.owner_quota" || k == "files.sender_quota" || k == "files.max_file_size" || k == "files.expiry" {
				want[k] = v.Value
			}
		}
	}
	walk("", doc.Content[0])
	if len(want) < 20 {
		t.Fatalf("found only %d limit settings in the example: %v", len(want), want)
	}
	for key, value := range want {
		got, ok := rows[key]
		switch {
		case !ok:
			t.Errorf("README's limits table has no row for %s", key)
		case got != "`"+value+"`":
			t.Errorf("README's limits table gives %s the default %s; the example says %s", key, got, value)
		}
	}
}
