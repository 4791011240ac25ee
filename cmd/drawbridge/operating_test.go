package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestOperatingGuide keeps docs/operating.md true: its ports table names
// every listener setting with the configuration's default, the commands
// it shows exist, its reload section lists what a reload applies, and the
// files it links to exist. The README links to it.
func TestOperatingGuide(t *testing.T) {
	guide := readFile(t, filepath.Join(repoRoot, "docs/operating.md"))
	defaults, err := flatten(config.Default())
	if err != nil {
		t.Fatal(err)
	}

	row := regexp.MustCompile("(?m)^\\| [^|]+ \\| `([a-z_.]+)` \\| `([^`]*)` \\|")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(guide, -1) {
		listed[m[1]] = m[2]
	}
	for key, want := range listed {
		if got := fmt.Sprint(defaults[key]); got != want {
			t.Errorf("docs/operating.md: %s defaults to %q, the configuration to %q", key, want, got)
		}
	}
	for key := range defaults {
		if (strings.HasSuffix(key, ".listen") || key == "component.server") && listed[key] == "" {
			t.Errorf("docs/operating.md: the ports table lacks %s", key)
		}
	}

	// Commands in code: inline spans and sh blocks.
	var code []string
	for _, m := range regexp.MustCompile("`([^`\\n]+)`").FindAllStringSubmatch(guide, -1) {
		code = append(code, m[1])
	}
	for _, m := range regexp.MustCompile("(?s)```sh\\n(.*?)```").FindAllStringSubmatch(guide, -1) {
		code = append(code, m[1])
	}
	commands := map[string]bool{}
	for _, c := range code {
		for _, m := range regexp.MustCompile(`(?m)(?:^|\s)drawbridge ([a-z]+)`).FindAllStringSubmatch(c, -1) {
			commands[m[1]] = true
		}
	}
	for _, want := range []string{"backup", "restore", "version", "status"} {
		if !commands[want] {
			t.Errorf("docs/operating.md shows no drawbridge %s", want)
		}
	}
	for cmd := range commands {
		var out strings.Builder
		err := run(t.Context(), []string{cmd, "--help"}, &out, &out)
		if err != nil && strings.Contains(err.Error(), "unknown command") {
			t.Errorf("docs/operating.md shows drawbridge %s, which does not exist", cmd)
		}
	}

	reload := guide[strings.Index(guide, "## Reload"):]
	reload = reload[:strings.Index(reload, "Every other change")]
	for _, key := range runtimeSettings {
		shown := key
		if strings.HasSuffix(key, ".") {
			shown = key + "*"
		}
		if !strings.Contains(reload, shown) && !strings.Contains(reload, key[strings.LastIndex(strings.TrimSuffix(key, "."), ".")+1:]) {
			t.Errorf("docs/operating.md, Reload: %s is applied by a reload and not listed", shown)
		}
	}
	for _, m := range regexp.MustCompile(`\]\(\.\./([^)#]+)`).FindAllStringSubmatch(guide, -1) {
		if _, err := os.Stat(filepath.Join(repoRoot, m[1])); err != nil {
			t.Errorf("docs/operating.md links to %s: %v", m[1], err)
		}
	}
	readme := readFile(t, filepath.Join(repoRoot, "README.md"))
	if !strings.Contains(readme, "(docs/operating.md)") {
		t.Error("README.md does not link to docs/operating.md")
	}
}
