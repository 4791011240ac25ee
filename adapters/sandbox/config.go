package sandbox

import (
	"time"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
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
	// ConfigEchoReplyOnly (bool, default false): the Echo Bot answers each
	// message with its echo alone, without the delivered and displayed
	// receipts and the typing notification, so that a relayed message
	// costs one stanza each way (for benchmarks against a one-reply echo
	// component).
	ConfigEchoReplyOnly = "echo_reply_only"
	// ConfigEditWindow (duration string, default "15m"): how long after
	// sending a message its author may edit it; "0s" means no limit.
	ConfigEditWindow = "edit_window"
	// ConfigRetractWindow (duration string, default "48h"): how long after
	// sending a message its author may retract it; "0s" means no limit.
	ConfigRetractWindow = "retract_window"
	// ConfigMaxFileSize (a size, default 1MiB): the largest attachment
	// the platform takes, in bytes or with a unit such as "512KiB",
	// "2 MiB" or "1.5MB" (gateway/config.ByteSize); 0 means the platform
	// takes no files.
	ConfigMaxFileSize = "max_file_size"
	// ConfigWeb is the sub-section of the web page (web.go): "listen"
	// (host:port, default empty: no page) and "token" (required when
	// listen is not a loopback address).
	ConfigWeb = "web"
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
	replyOnly   bool
	limits      limits
	web         webConfig
}

func defaultConfig() config {
	return config{autoConfirm: true, codeTTL: DefaultCodeTTL, limits: defaultLimits()}
}

// section is the configuration section as written, for
// gwconfig.DecodeSection; see the Config constants.
type section struct {
	AutoConfirm   bool              `yaml:"auto_confirm"`
	CodeTTL       time.Duration     `yaml:"code_ttl"`
	EchoDelay     time.Duration     `yaml:"echo_delay"`
	EchoReplyOnly bool              `yaml:"echo_reply_only"`
	EditWindow    time.Duration     `yaml:"edit_window"`
	RetractWindow time.Duration     `yaml:"retract_window"`
	MaxFileSize   gwconfig.ByteSize `yaml:"max_file_size"`
}

// ValidateSection implements gwconfig.SectionValidator.
func (s *section) ValidateSection(problem func(key, format string, args ...any)) {
	if s.CodeTTL <= 0 {
		problem(ConfigCodeTTL, "must be positive, got %s", s.CodeTTL)
	}
	if s.EchoDelay < 0 {
		problem(ConfigEchoDelay, "must not be negative, got %s", s.EchoDelay)
	}
	if s.EditWindow < 0 {
		problem(ConfigEditWindow, "must not be negative (0s means no limit), got %s", s.EditWindow)
	}
	if s.RetractWindow < 0 {
		problem(ConfigRetractWindow, "must not be negative (0s means no limit), got %s", s.RetractWindow)
	}
}

// parseConfig reads the adapter's configuration section. Unknown keys and
// bad values are errors, every one naming its key ("sandbox.code_ttl: ...").
func parseConfig(raw map[string]any) (config, error) {
	d := defaultConfig()
	web, raw, err := parseWebConfig(raw)
	if err != nil {
		return config{}, err
	}
	s := section{
		AutoConfirm: d.autoConfirm, CodeTTL: d.codeTTL, EchoDelay: d.echoDelay,
		EditWindow: d.limits.editWindow, RetractWindow: d.limits.retractWindow,
		MaxFileSize: gwconfig.ByteSize(d.limits.maxFileSize),
	}
	if err := gwconfig.DecodeSection(string(PlatformID), raw, &s); err != nil {
		return config{}, err
	}
	return config{
		autoConfirm: s.AutoConfirm, codeTTL: s.CodeTTL, echoDelay: s.EchoDelay, replyOnly: s.EchoReplyOnly,
		limits: limits{editWindow: s.EditWindow, retractWindow: s.RetractWindow, maxFileSize: int64(s.MaxFileSize)},
		web:    web,
	}, nil
}
