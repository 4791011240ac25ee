package whatsapp

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
)

// Configuration keys of the adapter's section (platforms.whatsapp).
const (
	// ConfigDatabase (string, default "whatsapp.db"): the sqlite file of
	// whatsmeow's device store (keys and Signal sessions of every linked
	// account). The gateway puts it beside its own sqlite database.
	ConfigDatabase = "database"
	// ConfigPostgresDSN (string): a PostgreSQL connection string; when set,
	// the device store lives there instead of the sqlite file (for several
	// gateway instances).
	ConfigPostgresDSN = "postgres_dsn"
	// ConfigDeviceName (string, default "Drawbridge (<component domain>)"):
	// the name the phone shows under Linked devices.
	ConfigDeviceName = "device_name"
	// ConfigComponentJID (string): the component's domain, passed by the
	// gateway; it names the device.
	ConfigComponentJID = "component_jid"
	// ConfigMarkOnline (bool, default true): mark the account online while
	// the gateway is connected. WhatsApp sends typing notifications and
	// contacts' presence only to online clients; while one is online the
	// phone gets no push notifications.
	ConfigMarkOnline = "mark_online"
	// ConfigMaxFileSize (bytes, or a size such as "100MB", default 2 GB,
	// WhatsApp's limit for documents): the largest file sent to WhatsApp.
	ConfigMaxFileSize = "max_file_size"

	// configEnabled is the hub's switch for the section; not ours.
	configEnabled = "enabled"
)

// DefaultDatabase is the default sqlite file of the device store.
const DefaultDatabase = "whatsapp.db"

// Defaults returns a copy of the adapter's section with what the adapter
// learns from the rest of the gateway's configuration, where the section
// does not say otherwise: the component's domain (it names the device)
// and, when the gateway keeps its own state in the sqlite file
// gatewaySQLitePath (empty: it does not), a device store beside it.
func Defaults(section map[string]any, componentJID, gatewaySQLitePath string) map[string]any {
	out := maps.Clone(section)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out[ConfigComponentJID]; !ok && componentJID != "" {
		out[ConfigComponentJID] = componentJID
	}
	_, hasDB := out[ConfigDatabase]
	_, hasPG := out[ConfigPostgresDSN]
	if !hasDB && !hasPG && gatewaySQLitePath != "" {
		out[ConfigDatabase] = filepath.Join(filepath.Dir(gatewaySQLitePath), DefaultDatabase)
	}
	return out
}

type config struct {
	database     string
	postgresDSN  string
	deviceName   string
	componentJID string
	markOnline   bool
	maxFileSize  int64
}

func defaultConfig() config {
	return config{database: DefaultDatabase, markOnline: true, maxFileSize: convert.MaxDocumentSize}
}

// parseConfig reads the adapter's section. Errors name the key; unknown
// keys are returned for a warning.
func parseConfig(raw map[string]any) (cfg config, unknown []string, err error) {
	cfg = defaultConfig()
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		v := raw[key]
		switch key {
		case ConfigDatabase:
			cfg.database, err = parseString(key, v)
			if err == nil && strings.TrimSpace(cfg.database) == "" {
				err = fmt.Errorf("whatsapp: config key %q: must not be empty", key)
			}
		case ConfigPostgresDSN:
			cfg.postgresDSN, err = parseString(key, v)
		case ConfigDeviceName:
			cfg.deviceName, err = parseString(key, v)
		case ConfigComponentJID:
			cfg.componentJID, err = parseString(key, v)
		case ConfigMarkOnline:
			cfg.markOnline, err = parseBool(key, v)
		case ConfigMaxFileSize:
			cfg.maxFileSize, err = parseSize(key, v)
			if err == nil && (cfg.maxFileSize <= 0 || cfg.maxFileSize > convert.MaxDocumentSize) {
				err = fmt.Errorf("whatsapp: config key %q: must be between 1 and %d bytes (WhatsApp's limit), got %d",
					key, int64(convert.MaxDocumentSize), cfg.maxFileSize)
			}
		case configEnabled:
		default:
			unknown = append(unknown, key)
		}
		if err != nil {
			return config{}, nil, err
		}
	}
	if cfg.deviceName == "" {
		cfg.deviceName = "Drawbridge"
		if cfg.componentJID != "" {
			cfg.deviceName += " (" + cfg.componentJID + ")"
		}
	}
	return cfg, unknown, nil
}

func parseString(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("whatsapp: config key %q: want a string, got %T", key, v)
	}
	return s, nil
}

func parseBool(key string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("whatsapp: config key %q: want true or false, got %v", key, v)
}

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000},
	{"b", 1},
}

// parseSize reads a byte count: a number, or a string such as "100MB",
// "16MiB" or "2GB".
func parseSize(key string, v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case float64:
		if x == math.Trunc(x) && x >= 0 && x <= math.MaxInt64 {
			return int64(x), nil
		}
	case string:
		s := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(x), " ", ""))
		factor := int64(1)
		for _, u := range sizeUnits {
			if strings.HasSuffix(s, u.suffix) {
				s, factor = strings.TrimSuffix(s, u.suffix), u.factor
				break
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f >= 0 && f*float64(factor) <= math.MaxInt64 {
			return int64(f * float64(factor)), nil
		}
	}
	return 0, fmt.Errorf("whatsapp: config key %q: want a size in bytes such as 104857600 or \"100MB\", got %v", key, v)
}
