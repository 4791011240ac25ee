package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestDemoEchoDelay: `make demo` lets people see the Echo Bot typing — it
// sets the sandbox's echo_delay to about a second (DEMO_ECHO_DELAY), while
// the embedded defaults, which the tests and benchmarks run on, keep 0.
func TestDemoEchoDelay(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "demo", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	m := regexp.MustCompile(`(?m)^ECHO_DELAY=\$\{DEMO_ECHO_DELAY:-([^}]+)\}$`).FindStringSubmatch(script)
	if m == nil {
		t.Fatal("demo.sh sets no ECHO_DELAY from DEMO_ECHO_DELAY")
	}
	if !strings.Contains(script, "DRAWBRIDGE_PLATFORMS_SANDBOX_ECHO_DELAY=$ECHO_DELAY") {
		t.Fatal("demo.sh does not pass ECHO_DELAY to the gateway")
	}
	cfg, err := config.Parse(nil, []string{"DRAWBRIDGE_COMPONENT_SECRET=s", "DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true", "DRAWBRIDGE_PLATFORMS_SANDBOX_ECHO_DELAY=" + m[1]})
	if err != nil {
		t.Fatal(err)
	}
	d, err := time.ParseDuration(cfg.Platforms["sandbox"]["echo_delay"].(string))
	if err != nil || d < 500*time.Millisecond || d > 2*time.Second {
		t.Errorf("the demo's echo_delay is %v (%v), want about a second", d, err)
	}
	if _, set := config.Default().Platforms["sandbox"]["echo_delay"]; set {
		t.Error("the embedded defaults set echo_delay; tests and benchmarks want none")
	}
}
