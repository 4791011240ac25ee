package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix starts the name of every environment variable the
// configuration reads.
const EnvPrefix = "DRAWBRIDGE_"

// EnvConfigFile is the environment variable the command line may use to
// name the configuration file. It is not a setting, so the configuration
// ignores it instead of reporting it as unknown.
const EnvConfigFile = EnvPrefix + "CONFIG"

// envPlatforms starts the names of platform overrides:
// DRAWBRIDGE_PLATFORMS_<ID>_<KEY>.
const envPlatforms = EnvPrefix + "PLATFORMS_"

// envSetting is one environment variable that overrides one setting.
type envSetting struct {
	key   string // the YAML key path, e.g. "store.redis.url"
	index []int  // the field's index path from Config
	list  bool   // a comma-separated []string rather than a string
}

// envSettings maps each environment variable name to the setting it
// overrides, derived from the yaml tags of Config's string and []string
// fields. Platforms are handled apart.
var envSettings = buildEnvSettings()

func buildEnvSettings() map[string]envSetting {
	settings := make(map[string]envSetting)
	var walk func(t reflect.Type, index []int, key string)
	walk = func(t reflect.Type, index []int, key string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			fieldIndex := append(slices.Clone(index), i)
			fieldKey := key + name
			envName := EnvPrefix + strings.ToUpper(strings.ReplaceAll(fieldKey, ".", "_"))
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, fieldIndex, fieldKey+".")
			case f.Type.Kind() == reflect.String, f.Type.Kind() == reflect.Bool, f.Type.Kind() == reflect.Int64:
				settings[envName] = envSetting{key: fieldKey, index: fieldIndex}
			case f.Type == reflect.TypeFor[[]string]():
				settings[envName] = envSetting{key: fieldKey, index: fieldIndex, list: true}
			}
		}
	}
	walk(reflect.TypeFor[Config](), nil, "")
	return settings
}

// EnvNames returns the sorted names of the environment variables that
// override fixed settings. Platform settings are overridden by
// DRAWBRIDGE_PLATFORMS_<ID>_<KEY>, which this list does not include.
func EnvNames() []string {
	names := make([]string, 0, len(envSettings))
	for name := range envSettings {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// applyEnv applies every DRAWBRIDGE_* entry of env to cfg. Later entries
// of the same name win, as in a process environment. An entry that names
// no setting is an error; its value is never shown. The key path of each
// setting set is recorded in src with the variable's name.
func applyEnv(cfg *Config, env []string, src Sources) error {
	values := make(map[string]string)
	for _, entry := range env {
		name, value, ok := strings.Cut(entry, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) && name != EnvConfigFile {
			values[name] = value
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)

	var errs []error
	for _, name := range names {
		key, err := applyEnvVar(cfg, name, values[name])
		if err != nil {
			errs = append(errs, &envError{err})
		} else if key != "" {
			src[key] = name
		}
	}
	return errors.Join(errs...)
}

// envError is a problem with an environment variable, which the error
// names; Load does not blame the configuration file for it.
type envError struct{ err error }

func (e *envError) Error() string { return e.err.Error() }
func (e *envError) Unwrap() error { return e.err }

// applyEnvVar applies one DRAWBRIDGE_* variable and returns the key path
// of the setting it set.
func applyEnvVar(cfg *Config, name, value string) (string, error) {
	if s, ok := envSettings[name]; ok {
		field := reflect.ValueOf(cfg).Elem().FieldByIndex(s.index)
		if u, ok := field.Addr().Interface().(encoding.TextUnmarshaler); ok {
			// ByteSize, Duration: their own grammar.
			if err := u.UnmarshalText([]byte(value)); err != nil {
				return "", fmt.Errorf("%s (%s): %w", name, s.key, err)
			}
			return s.key, nil
		}
		switch {
		case s.list:
			field.Set(reflect.ValueOf(splitList(value)))
		case field.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return "", fmt.Errorf("%s (%s): want true or false", name, s.key)
			}
			field.SetBool(b)
		case field.Kind() == reflect.Int64:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return "", fmt.Errorf("%s (%s): want a whole number", name, s.key)
			}
			field.SetInt(n)
		default:
			field.SetString(value)
		}
		return s.key, nil
	}
	if strings.HasPrefix(name, envPlatforms) {
		return applyPlatformEnv(cfg, name, value)
	}
	msg := "environment variable " + name + " names no setting"
	if near := nearestEnvName(name); near != "" {
		msg += " (did you mean " + near + "?)"
	}
	return "", errors.New(msg)
}

// applyPlatformEnv applies DRAWBRIDGE_PLATFORMS_<ID>_<KEY>=value: it sets
// key (lower-cased) in the section of platform id, creating the section if
// needed. The id is the longest configured platform id that fits, or else
// the first underscore-separated word. "true" and "false" become booleans;
// anything else stays a string.
func applyPlatformEnv(cfg *Config, name, value string) (string, error) {
	rest := strings.TrimPrefix(name, envPlatforms)
	id, key := "", ""
	for known := range cfg.Platforms {
		prefix := strings.ToUpper(known) + "_"
		if strings.HasPrefix(rest, prefix) && len(known) > len(id) {
			id, key = known, strings.TrimPrefix(rest, prefix)
		}
	}
	if id == "" {
		upperID, upperKey, _ := strings.Cut(rest, "_")
		id, key = strings.ToLower(upperID), upperKey
	}
	if id == "" || key == "" {
		return "", fmt.Errorf("environment variable %s: want %s<PLATFORM>_<KEY>", name, envPlatforms)
	}
	if cfg.Platforms == nil {
		cfg.Platforms = make(map[string]map[string]any)
	}
	if cfg.Platforms[id] == nil {
		cfg.Platforms[id] = make(map[string]any)
	}
	var v any = value
	switch value {
	case "true":
		v = true
	case "false":
		v = false
	}
	cfg.Platforms[id][strings.ToLower(key)] = v
	return "platforms." + id + "." + strings.ToLower(key), nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items. An empty value gives an empty, non-nil list.
func splitList(value string) []string {
	items := []string{}
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// nearestEnvName returns the known variable name closest to name when it
// is a likely typo (at most two edits away), or "".
func nearestEnvName(name string) string {
	return Nearest(name, EnvNames())
}

// Nearest returns the candidate closest to name when name is a likely
// typo of it (at most two edits away, and fewer edits than half name's
// length, so that short words are not "corrected" into others), or "".
// Ties go to the earliest candidate.
func Nearest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, known := range candidates {
		if d := editDistance(name, known); d < bestDist && 2*d < len(name) {
			best, bestDist = known, d
		}
	}
	return best
}

// unknownKey is the error for a key that names no setting, with the
// nearest of known as a suggestion when there is one.
func unknownKey(name string, known []string) error {
	if near := Nearest(name, known); near != "" {
		return fmt.Errorf("unknown key (did you mean %s?)", near)
	}
	return errors.New("unknown key")
}

// editDistance is the number of single-byte insertions, deletions,
// substitutions and swaps of two neighbours that turn a into b (the
// optimal string alignment distance), so that "confrim" is one edit from
// "confirm".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
