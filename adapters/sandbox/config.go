package sandbox

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	// ConfigEditWindow (duration string, default "15m"): how long after
	// sending a message its author may edit it; "0s" means no limit.
	ConfigEditWindow = "edit_window"
	// ConfigRetractWindow (duration string, default "48h"): how long after
	// sending a message its author may retract it; "0s" means no limit.
	ConfigRetractWindow = "retract_window"
	// ConfigMaxFileSize (bytes, default 1048576): the largest attachment
	// the platform takes. An integer, or a string with a unit such as
	// "512KiB", "2MiB" or "1MB"; 0 means the platform takes no files.
	ConfigMaxFileSize = "max_file_size"

	// configEnabled is read by the hub (platforms.<id>.enabled) and passed
	// along with the section; the adapter ignores it.
	configEnabled = "enabled"
)

// Defaults of the configuration.
const (
	DefaultCodeTTL = 3 * time.Minute
	// DefaultEditWindow is how long a message may be edited.
	DefaultEditWindow = 15 * time.Minute
	// DefaultRetractWindow is how long a message may be retracted.
	DefaultRetractWindow = 48 * time.Hour
	// DefaultMaxFileSize is the largest attachment, in bytes (1 MiB).
	DefaultMaxFileSize int64 = 1 << 20
	// MaxPairingCodes is how many codes one login shows before it gives up.
	MaxPairingCodes = 5
)

// config is the parsed configuration section.
type config struct {
	autoConfirm bool
	codeTTL     time.Duration
	echoDelay   time.Duration
	limits      limits
}

func defaultConfig() config {
	return config{autoConfirm: true, codeTTL: DefaultCodeTTL, limits: defaultLimits()}
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
		case ConfigEditWindow:
			cfg.limits.editWindow, err = parseWindow(key, v)
		case ConfigRetractWindow:
			cfg.limits.retractWindow, err = parseWindow(key, v)
		case ConfigMaxFileSize:
			cfg.limits.maxFileSize, err = parseSize(key, v)
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

// parseWindow reads a duration that may be zero (no limit) but not
// negative.
func parseWindow(key string, v any) (time.Duration, error) {
	d, err := parseDuration(key, v)
	if err == nil && d < 0 {
		err = fmt.Errorf("sandbox: config key %q: must not be negative (0s means no limit), got %s", key, d)
	}
	return d, err
}

// sizeRE is a size with an optional unit: "1048576", "512KiB", "2 MB".
var sizeRE = regexp.MustCompile(`^([0-9]+)\s*([KMG]i?B|B)?$`)

// sizeUnits are the multipliers of sizeRE's units.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
}

// parseSize reads a non-negative number of bytes: an integer (YAML gives
// int, JSON float64) or a string with an optional unit.
func parseSize(key string, v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("sandbox: config key %q: %d bytes is too large", key, x)
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, fmt.Errorf("sandbox: config key %q: want a whole number of bytes, got %v", key, x)
		}
		n = int64(x)
	case string:
		m := sizeRE.FindStringSubmatch(strings.TrimSpace(x))
		if m == nil {
			return 0, fmt.Errorf("sandbox: config key %q: want a size such as 1048576, \"512KiB\" or \"2MiB\", got %q", key, x)
		}
		num, err := strconv.ParseInt(m[1], 10, 64)
		unit := sizeUnits[m[2]]
		if err != nil || num > math.MaxInt64/unit {
			return 0, fmt.Errorf("sandbox: config key %q: %q is too large", key, x)
		}
		n = num * unit
	default:
		return 0, fmt.Errorf("sandbox: config key %q: want a size such as 1048576 or \"2MiB\", got %T %v", key, v, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("sandbox: config key %q: must not be negative (0 means no files), got %d", key, n)
	}
	return n, nil
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
