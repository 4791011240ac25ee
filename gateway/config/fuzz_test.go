package config

import (
	"strings"
	"testing"
)

// FuzzParse runs the loader on arbitrary YAML and environment entries:
// it must return a configuration that validates, or an error and the zero
// Config, and never panic. Inputs naming *_file
// settings are skipped so that the fuzzer does not read the machine's
// files.
func FuzzParse(f *testing.F) {
	// The example names *_file settings, which the target skips (it must
	// not read the machine's files): the seed is the example without them.
	f.Add(withoutFileSettings(Example()), "DRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars")
	f.Add("component:\n  jid: wa.example.org\n  secret: a-test-secret-of-24-chars\nlimits:\n  messages:\n    per_jid: -1\n", "")
	f.Add("platforms:\n  sandbox:\n    enabled: false\n  whatsapp: {}\n", "DRAWBRIDGE_PLATFORMS_WHATSAPP_ENABLED=true\nDRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars")
	f.Add("store: [1, 2]\n", "DRAWBRIDGE_LIMITS_MAX_BODY_SIZE=x")
	f.Add("a: &a [*a]\n", "DRAWBRIDGE_NOPE=1")
	f.Add("files:\n  quota: 99999999999999999999999\n", "DRAWBRIDGE_STORE_REDIS_ADDRS=,,")
	f.Fuzz(func(t *testing.T, yaml, env string) {
		if len(yaml)+len(env) > 16<<10 || strings.Contains(strings.ToLower(yaml+env), "_file") {
			t.Skip()
		}
		cfg, err := Parse([]byte(yaml), strings.Split(env, "\n"))
		if err != nil {
			if cfg.Component.JID != "" {
				t.Fatalf("Parse failed (%v) but returned a configuration", err)
			}
			return
		}
		if verr := cfg.Validate(); verr != nil {
			t.Fatalf("Parse returned a configuration that does not validate: %v", verr)
		}
		_ = cfg.Redacted()
	})
}

// withoutFileSettings drops the lines of a configuration that mention a
// *_file setting (settings and comments alike).
func withoutFileSettings(yaml string) string {
	var kept []string
	for _, line := range strings.Split(yaml, "\n") {
		if !strings.Contains(strings.ToLower(line), "_file") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// TestFuzzParseExampleSeed: FuzzParse's first seed is a whole valid
// configuration, so that the fuzzer starts from one that parses.
func TestFuzzParseExampleSeed(t *testing.T) {
	cfg, err := Parse([]byte(withoutFileSettings(Example())), []string{"DRAWBRIDGE_COMPONENT_SECRET=a-test-secret-of-24-chars"})
	if err != nil {
		t.Fatalf("the example without *_file settings does not parse: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("it does not validate: %v", err)
	}
}
