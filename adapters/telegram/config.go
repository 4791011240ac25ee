package telegram

import (
	"strings"
	"time"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
)

// Configuration keys of the adapter's section (platforms.telegram).
const (
	// ConfigAPIID (integer, required): the operator's application id from
	// https://my.telegram.org ("App api_id").
	ConfigAPIID = "api_id"
	// ConfigAPIHash (string, required, secret): the application's hash
	// ("App api_hash"). It is never logged; config output shows REDACTED.
	ConfigAPIHash = "api_hash"
)

type config struct {
	apiID   int
	apiHash string
}

// section is the configuration section as written, for
// gwconfig.DecodeSection; see the Config constants.
type section struct {
	APIID   int    `yaml:"api_id"`
	APIHash string `yaml:"api_hash"`
}

// ValidateSection implements gwconfig.SectionValidator.
func (s *section) ValidateSection(problem func(key, format string, args ...any)) {
	if s.APIID <= 0 {
		problem(ConfigAPIID, "required: the api_id of your application from https://my.telegram.org (a positive number)")
	}
	if strings.TrimSpace(s.APIHash) == "" {
		problem(ConfigAPIHash, "required: the api_hash of your application from https://my.telegram.org")
	}
}

// parseConfig reads the adapter's section. Unknown keys and bad values are
// errors, every one naming its key ("telegram.api_id: ...").
func parseConfig(raw map[string]any) (config, error) {
	var s section
	if err := gwconfig.DecodeSection(string(PlatformID), raw, &s); err != nil {
		return config{}, err
	}
	return config{apiID: s.APIID, apiHash: s.APIHash}, nil
}

// reconnectDelay bounds the wait before a session whose client stopped
// starts it again.
const reconnectDelay = 5 * time.Second
