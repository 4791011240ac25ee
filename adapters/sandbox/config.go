package sandbox

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Configuration keys of the adapter's section.
const (
	// ConfigAutoConfirm (bool, default true): the simulated phone confirms
	// each pairing code by itself as soon as the user waits for it.
	ConfigAutoConfirm = "auto_confirm"
	// ConfigCodeTTL (duration string, default "3m"): how long a pairing
	// code stays valid before the next one replaces it.
	ConfigCodeTTL = "code_ttl"
	// ConfigEchoDelay (duration string, default "0s"): how long the Echo Bot
	// "types" before it answers.
	ConfigEchoDelay = "echo_delay"

	// configEnabled is read by the hub (platforms.<id>.enabled) and passed
	// along with the section; the adapter ignores it.
	configEnabled = "enabled"
)

// Defaults of the configuration.
const (
	DefaultCodeTTL = 3 * time.Minute
	// MaxPairingCodes is how many codes one login shows before it gives up.
	MaxPairingCodes = 5
)

// config is the parsed configuration section.
type config struct {
	autoConfirm bool
	codeTTL     time.Duration
	echoDelay   time.Duration
}

func defaultConfig() config {
	return config{autoConfirm: true, codeTTL: DefaultCodeTTL}
}

// parseConfig reads the adapter's configuration section. Every error names
// the key. Keys it does not know are returned so that the caller can warn.
func parseConfig(raw map[string]any) (cfg config, unknown []string, err error) {
	cfg = defaultConfig()
	// Sorted, so that with several bad keys the error is always the same.
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		v := raw[key]
		switch key {
		case ConfigAutoConfirm:
			cfg.autoConfirm, err = parseBool(key, v)
		case ConfigCodeTTL:
			cfg.codeTTL, err = parseDuration(key, v)
			if err == nil && cfg.codeTTL <= 0 {
				err = fmt.Errorf("sandbox: config key %q: must be positive, got %s", key, cfg.codeTTL)
			}
		case ConfigEchoDelay:
			cfg.echoDelay, err = parseDuration(key, v)
			if err == nil && cfg.echoDelay < 0 {
				err = fmt.Errorf("sandbox: config key %q: must not be negative, got %s", key, cfg.echoDelay)
			}
		case configEnabled:
			// The hub's switch for the whole section; not the adapter's.
		default:
			unknown = append(unknown, key)
		}
		if err != nil {
			return config{}, nil, err
		}
	}
	return cfg, unknown, nil
}

func parseBool(key string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("sandbox: config key %q: want true or false, got %q", key, x)
		}
		return b, nil
	}
	return false, fmt.Errorf("sandbox: config key %q: want true or false, got %T %v", key, v, v)
}

func parseDuration(key string, v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("sandbox: config key %q: want a duration such as \"1.5s\" or \"3m\": %w", key, err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("sandbox: config key %q: want a duration string such as \"1.5s\" or \"3m\", got %T %v", key, v, v)
}
