package config

// Config is the whole gateway configuration. Its zero value is not useful:
// start from [Default], or use [Load] or [Parse].
type Config struct {
	// Component is the XEP-0114 connection to the XMPP server.
	Component ComponentConfig `yaml:"component"`
	// Components, when not empty, lists several components served by one
	// process, each fronting one platform (see components.go); Component
	// then gives their defaults and the administrators.
	Components []ComponentLink `yaml:"components"`
	// Registration says which XMPP users may register with the gateway.
	Registration RegistrationConfig `yaml:"registration"`
	// Store selects and configures the state backend.
	Store StoreConfig `yaml:"store"`
	// Platforms holds one free-form section per adapter, keyed by adapter
	// id ("sandbox", "whatsapp"). Each section is handed to the adapter
	// as is. A section is enabled unless its "enabled" key is false.
	// A platforms key in the YAML file replaces the default sections as a
	// whole rather than merging with them.
	Platforms map[string]map[string]any `yaml:"platforms"`
	// Log configures the process logger.
	Log LogConfig `yaml:"log"`
	// API is the management API; Metrics the Prometheus and health
	// endpoint (see api.go).
	API     APIConfig     `yaml:"api"`
	Metrics MetricsConfig `yaml:"metrics"`
	// Files configures how files cross the gateway (see files.go).
	Files FilesConfig `yaml:"files"`
	// Limits bounds rates and sizes (see limits.go).
	Limits LimitsConfig `yaml:"limits"`
	// Groups configures group chats as rooms (see groups.go).
	Groups GroupsConfig `yaml:"groups"`
	// Cluster runs several processes on one Redis (see cluster.go).
	Cluster ClusterConfig `yaml:"cluster"`
}

// ComponentConfig is the component's identity and its connection to the
// XMPP server's component port.
type ComponentConfig struct {
	// JID is the component's domain, e.g. "wa.example.org".
	JID string `yaml:"jid"`
	// Server is the XMPP server's component port as host:port.
	Server string `yaml:"server"`
	// Secret is the XEP-0114 shared secret.
	Secret string `yaml:"secret"`
	// SecretFile, when set, names a file whose content (trailing newline
	// trimmed) becomes Secret. It cannot be combined with Secret.
	SecretFile string `yaml:"secret_file"`
	// AllowWeakSecret accepts a secret shorter than MinSecretLength or a
	// known placeholder such as "change-me"; for tests and throwaway
	// setups only (see validateSecret).
	AllowWeakSecret bool `yaml:"allow_weak_secret"`
	// Name is the human-readable name shown in the disco identity.
	Name string `yaml:"name"`
	// Admins lists the bare JIDs that may run the gateway's XEP-0050
	// administration commands (see [Config.IsAdmin]).
	Admins []string `yaml:"admins"`
}

// RegistrationConfig decides which XMPP users may register.
// See [Config.RegistrationAllowed].
type RegistrationConfig struct {
	// AllowedDomains lists the JID domains whose users may register.
	// Empty means the component's parent domain. "*" allows every domain.
	AllowedDomains []string `yaml:"allowed_domains"`
	// AllowedJIDs lists further bare JIDs that may register.
	AllowedJIDs []string `yaml:"allowed_jids"`
	// DeniedJIDs lists bare JIDs that may never register; it wins over
	// both allow lists.
	DeniedJIDs []string `yaml:"denied_jids"`
}

// Store backend names accepted in [StoreConfig.Backend].
const (
	BackendSQLite = "sqlite"
	BackendRedis  = "redis"
)

// StoreConfig selects the state backend and configures it.
type StoreConfig struct {
	// Backend is BackendSQLite or BackendRedis.
	Backend string `yaml:"backend"`
	// SQLite configures the embedded single-file backend.
	SQLite SQLiteConfig `yaml:"sqlite"`
	// Redis configures the Redis backend.
	Redis RedisConfig `yaml:"redis"`
	// EncryptionKey, when set, seals the platforms' session state at rest
	// (see encryption.go); EncryptionKeyFile reads it from a file.
	EncryptionKey     string `yaml:"encryption_key"`
	EncryptionKeyFile string `yaml:"encryption_key_file"`
}

// SQLiteConfig configures the SQLite backend.
type SQLiteConfig struct {
	// Path is the database file.
	Path string `yaml:"path"`
}

// RedisConfig configures the Redis backend. Set either URL (one server)
// or Addrs (several: Cluster, or Sentinel when MasterName is set).
type RedisConfig struct {
	// URL is a redis://, rediss:// or unix:// URL of a standalone server.
	URL string `yaml:"url"`
	// Addrs lists host:port addresses of Cluster nodes or Sentinels.
	Addrs []string `yaml:"addrs"`
	// MasterName is the Sentinel master name; it requires Addrs.
	MasterName string `yaml:"master_name"`
	// Username is the ACL user name, if any.
	Username string `yaml:"username"`
	// Password is the server password, if any.
	Password string `yaml:"password"`
	// PasswordFile, when set, names a file whose content (trailing
	// newline trimmed) becomes Password. It cannot be combined with
	// Password.
	PasswordFile string `yaml:"password_file"`
	// KeyPrefix is prepended to every key the gateway writes.
	KeyPrefix string `yaml:"key_prefix"`
}

// LogConfig configures the process logger. See [Config.Logger].
type LogConfig struct {
	// Level is one of debug, info, warn, error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
	// Redact replaces JIDs and phone numbers in log records by a short
	// keyed hash, the same for the same address (see [RedactHandler]).
	Redact bool `yaml:"redact"`
}

// Default returns the embedded defaults: component gw.localhost on
// 127.0.0.1:5347 with no secret, the SQLite store in drawbridge.db, the
// sandbox platform enabled with auto_confirm, and info-level text logs.
// Each call returns fresh maps and slices.
func Default() Config {
	return Config{
		Component: ComponentConfig{
			JID:    "gw.localhost",
			Server: "127.0.0.1:5347",
			Name:   "Drawbridge",
			Admins: []string{},
		},
		Components: []ComponentLink{},
		Registration: RegistrationConfig{
			AllowedDomains: []string{},
			AllowedJIDs:    []string{},
			DeniedJIDs:     []string{},
		},
		Store: StoreConfig{
			Backend: BackendSQLite,
			SQLite:  SQLiteConfig{Path: "drawbridge.db"},
			Redis: RedisConfig{
				URL:       "redis://127.0.0.1:6379/0",
				Addrs:     []string{},
				KeyPrefix: "drawbridge:",
			},
		},
		Platforms: map[string]map[string]any{
			"sandbox": {"enabled": true, "auto_confirm": true},
		},
		Log:     LogConfig{Level: "info", Format: "text"},
		API:     APIConfig{Listen: DefaultAPIListen, AllowedHosts: []string{}},
		Metrics: MetricsConfig{Listen: DefaultMetricsListen},
		Files:   defaultFiles(),
		Groups:  GroupsConfig{History: DefaultGroupsHistory},
		Limits:  defaultLimits(),
		Cluster: ClusterConfig{Mode: ClusterStandby, Links: ClusterLinksOne, LeaseTTL: Duration(DefaultLeaseTTL)},
	}
}

// PlatformEnabled reports whether the configuration has a section for the
// adapter id whose "enabled" key is not false.
func (c Config) PlatformEnabled(id string) bool {
	section, ok := c.Platforms[id]
	if !ok {
		return false
	}
	enabled, ok := section["enabled"].(bool)
	return !ok || enabled
}
