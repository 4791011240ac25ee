package gateway_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/drawbridge-im/drawbridge"

// The import direction of ARCHITECTURE.md, checked on the real build graph:
// a package matching a rule's prefix must not depend on anything the rule
// forbids.
var importRules = []struct {
	pkg       string
	forbidden []string
	stdlibish bool     // only the standard library and the module's ids/event
	allowed   []string // with stdlibish: module packages allowed besides ids/event
}{
	{pkg: module + "/gateway/ids", stdlibish: true},
	{pkg: module + "/gateway/event", stdlibish: true},
	// The durable path: never the hub, only the leaves it is built on.
	{pkg: module + "/gateway/delivery", stdlibish: true, allowed: []string{module + "/gateway/store"}},
	{pkg: module + "/gateway", forbidden: []string{
		module + "/adapters", module + "/xmppcomponent", module + "/cmd",
		module + "/gateway/store/redisstore", module + "/gateway/store/sqlitestore", module + "/gateway/mgmt",
		"gosrc.io/", "mellium.im/", "github.com/redis/", "modernc.org/", "go.mau.fi/", "google.golang.org/grpc",
	}},
	{pkg: module + "/adapters/", forbidden: []string{module + "/xmppcomponent", module + "/cmd", "gosrc.io/", "mellium.im/"}},
	{pkg: module + "/xmppcomponent", forbidden: []string{module + "/adapters", module + "/cmd", "go.mau.fi/", "github.com/redis/", "modernc.org/"}},
	{pkg: module + "/gateway/mgmt", forbidden: []string{module + "/adapters", module + "/xmppcomponent", module + "/cmd", "go.mau.fi/", "gosrc.io/", "github.com/redis/", "modernc.org/"}},
	{pkg: module + "/gateway/metrics", forbidden: []string{module + "/adapters", module + "/xmppcomponent", module + "/cmd", module + "/gateway/mgmt", "google.golang.org/grpc", "gosrc.io/", "mellium.im/"}},
}

type listed struct {
	ImportPath string
	Deps       []string
	Standard   bool
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for _, r := range importRules {
			if !applies(r.pkg, p.ImportPath) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if r.stdlibish && !isStd(d) && !allowedDep(d, r.allowed) {
					t.Errorf("%s depends on %s; it may use only the standard library, gateway/ids, gateway/event and %v", p.ImportPath, d, r.allowed)
				}
				for _, f := range r.forbidden {
					if strings.HasPrefix(d, f) && !applies(r.pkg, d) {
						t.Errorf("%s depends on %s (forbidden by %s)", p.ImportPath, d, f)
					}
				}
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d packages checked; the rules no longer match the tree", checked)
	}
}

// applies says whether rule prefix p covers package path: "x/gateway" covers
// x/gateway and its sub-packages that no more specific rule names.
func applies(p, path string) bool {
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(path, p)
	}
	if p == module+"/gateway" {
		// The hub proper and its stdlib-only helpers; test helpers and
		// store backends are checked by their own rules.
		return path == p || path == p+"/store" || path == p+"/config" || path == p+"/media"
	}
	return path == p
}

// allowedDep says whether a stdlib-only package may depend on the module
// package path: gateway/ids, gateway/event, or one the rule allows.
func allowedDep(path string, allowed []string) bool {
	if path == module+"/gateway/ids" || path == module+"/gateway/event" {
		return true
	}
	for _, a := range allowed {
		if path == a {
			return true
		}
	}
	return false
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
