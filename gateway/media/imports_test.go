package media_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStdlibOnly keeps the package importable by the hub: it may depend on
// the standard library only.
func TestStdlibOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/drawbridge-im/drawbridge/gateway/media" {
			t.Errorf("gateway/media depends on %s; only the standard library is allowed", p)
		}
	}
}
