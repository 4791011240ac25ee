package whatsapp

import (
	"maps"
	"path/filepath"
	"strings"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
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
	// ConfigMarkOnline (bool, default false): keep the account online for
	// as long as the gateway is connected. By default it is online only
	// while the owner has an available XMPP resource or is typing, and
	// offline otherwise, so that the phone keeps showing notifications
	// and contacts do not see the user online around the clock.
	ConfigMarkOnline = "mark_online"
	// ConfigMaxFileSize (a size, default 2GB, WhatsApp's limit for
	// documents): the largest file sent to WhatsApp, in bytes or with a
	// unit such as "100MB" or "16MiB" (gateway/config.ByteSize).
	ConfigMaxFileSize = "max_file_size"
	// ConfigHistoryDays (int, default 7; 0 turns history off): how many
	// days of the history the phone sends after linking are bridged:
	// one-to-one messages are delivered once, stamped with their time,
	// group messages go into the room's archive (history.go).
	ConfigHistoryDays = "history_days"
)

// DefaultHistoryDays is how many days of history are bridged by default.
const DefaultHistoryDays = 7

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
	historyDays  int
}

func defaultConfig() config {
	return config{database: DefaultDatabase, markOnline: false, maxFileSize: convert.MaxDocumentSize, historyDays: DefaultHistoryDays}
}

// section is the configuration section as written, for
// gwconfig.DecodeSection; see the Config constants.
type section struct {
	Database     string            `yaml:"database"`
	PostgresDSN  string            `yaml:"postgres_dsn"`
	DeviceName   string            `yaml:"device_name"`
	ComponentJID string            `yaml:"component_jid"`
	MarkOnline   bool              `yaml:"mark_online"`
	MaxFileSize  gwconfig.ByteSize `yaml:"max_file_size"`
	HistoryDays  int               `yaml:"history_days"`
}

// ValidateSection implements gwconfig.SectionValidator.
func (s *section) ValidateSection(problem func(key, format string, args ...any)) {
	if strings.TrimSpace(s.Database) == "" {
		problem(ConfigDatabase, "must not be empty")
	}
	if s.MaxFileSize <= 0 || s.MaxFileSize > convert.MaxDocumentSize {
		problem(ConfigMaxFileSize, "must be between 1 byte and %s (WhatsApp's limit), got %s",
			gwconfig.ByteSize(convert.MaxDocumentSize), s.MaxFileSize)
	}
	if s.HistoryDays < 0 || s.HistoryDays > maxHistoryDays {
		problem(ConfigHistoryDays, "must be between 0 (no history) and %d days, got %d", maxHistoryDays, s.HistoryDays)
	}
}

// maxHistoryDays bounds history_days: WhatsApp's full history sync goes
// back about a year.
const maxHistoryDays = 366

// parseConfig reads the adapter's section. Unknown keys and bad values are
// errors, every one naming its key ("whatsapp.max_file_size: ...").
func parseConfig(raw map[string]any) (config, error) {
	d := defaultConfig()
	s := section{Database: d.database, MarkOnline: d.markOnline, MaxFileSize: gwconfig.ByteSize(d.maxFileSize), HistoryDays: d.historyDays}
	if err := gwconfig.DecodeSection(string(PlatformID), raw, &s); err != nil {
		return config{}, err
	}
	if s.DeviceName == "" {
		s.DeviceName = "Drawbridge"
		if s.ComponentJID != "" {
			s.DeviceName += " (" + s.ComponentJID + ")"
		}
	}
	return config{
		database: s.Database, postgresDSN: s.PostgresDSN, deviceName: s.DeviceName,
		componentJID: s.ComponentJID, markOnline: s.MarkOnline, maxFileSize: int64(s.MaxFileSize),
		historyDays: s.HistoryDays,
	}, nil
}
