package config

import "time"

// LimitsConfig bounds what one XMPP user, and everybody together, may make
// the gateway do. A rate of 0 turns that limit off.
type LimitsConfig struct {
	// MaxStanzaSize is the largest stanza, in bytes, the component reads
	// from the XMPP server; a larger one is skipped (and its sender told)
	// without being held in memory.
	MaxStanzaSize ByteSize `yaml:"max_stanza_size"`
	// DispatchChatBytes bounds the inbound stanzas (bytes as read) waiting
	// to be handled in one dispatch lane (the lane of a conversation, which
	// it may share with others), and DispatchTotalBytes those waiting in
	// all lanes together. A stanza that does not fit is answered
	// wait/resource-constraint instead of being held.
	DispatchChatBytes  ByteSize `yaml:"dispatch_chat_bytes"`
	DispatchTotalBytes ByteSize `yaml:"dispatch_total_bytes"`
	// MaxBodySize is the longest message body, in bytes, sent on to a
	// platform.
	MaxBodySize ByteSize `yaml:"max_body_size"`
	// MaxAttachments is the most files one message may carry.
	MaxAttachments int64 `yaml:"max_attachments"`
	// Messages limits the messages sent to platforms.
	Messages RateConfig `yaml:"messages"`
	// Registrations limits new registrations.
	Registrations RateConfig `yaml:"registrations"`
	// Logins limits login attempts (started login flows).
	Logins RateConfig `yaml:"logins"`
	// SendRetryDeadline is how long a message to a platform that is
	// unavailable right now is kept and retried before its sender is told
	// it was not sent, e.g. "2m"; "0" turns the retry queue off (the
	// sender is told at once).
	SendRetryDeadline Duration `yaml:"send_retry_deadline"`
	// FetchTimeout bounds the download of one file a user sends (a
	// XEP-0066 or XEP-0363 URL), from connecting to the last byte, and
	// FetchConnectTimeout the connect alone.
	FetchTimeout        Duration `yaml:"fetch_timeout"`
	FetchConnectTimeout Duration `yaml:"fetch_connect_timeout"`
	// FetchInFlightBytes bounds the bytes of all downloaded files not yet
	// passed on to the platform, together; a download that finds it used
	// up waits up to 10s, then is refused.
	FetchInFlightBytes ByteSize `yaml:"fetch_in_flight_bytes"`
	// FetchesPerUser bounds the downloads one user's messages make at
	// once, and Fetches those of everybody together.
	FetchesPerUser int64 `yaml:"fetches_per_user"`
	Fetches        int64 `yaml:"fetches"`
}

// SendRetryDuration is SendRetryDeadline as a time.Duration.
func (l LimitsConfig) SendRetryDuration() time.Duration { return time.Duration(l.SendRetryDeadline) }

// RateConfig is a pair of token buckets: one per bare JID and one shared
// by everybody. Rates are per minute; a burst is how many may come at once.
type RateConfig struct {
	// PerJID is the sustained rate per bare JID, per minute; 0 is no limit.
	PerJID int64 `yaml:"per_jid"`
	// PerJIDBurst is the burst per bare JID.
	PerJIDBurst int64 `yaml:"per_jid_burst"`
	// Global is the sustained rate for all users together, per minute;
	// 0 is no limit.
	Global int64 `yaml:"global"`
	// GlobalBurst is the burst for all users together.
	GlobalBurst int64 `yaml:"global_burst"`
}

// Default limits.
const (
	// DefaultMaxStanzaSize is 1 MiB: above Prosody's own c2s (256 KiB)
	// and s2s (512 KiB) defaults, so only what a server lets through
	// unusually large is skipped.
	DefaultMaxStanzaSize = 1 << 20
	// DefaultDispatchChatBytes and DefaultDispatchTotalBytes bound the
	// stanzas waiting for a handler: 16 MiB in one lane, 128 MiB in all.
	DefaultDispatchChatBytes  = 16 << 20
	DefaultDispatchTotalBytes = 128 << 20
	// DefaultMaxBodySize is 64 KiB, WhatsApp's own text limit.
	DefaultMaxBodySize    = 64 << 10
	DefaultMaxAttachments = 10
	// DefaultSendRetryDeadline is how long a message waits for an
	// unavailable platform.
	DefaultSendRetryDeadline = 2 * time.Minute
	// Downloads of the files users send: 30s each, 5s to connect, 256 MiB
	// in flight, 2 at once per user and 16 in all.
	DefaultFetchTimeout        = 30 * time.Second
	DefaultFetchConnectTimeout = 5 * time.Second
	DefaultFetchInFlightBytes  = 256 << 20
	DefaultFetchesPerUser      = 2
	DefaultFetches             = 16
)

func defaultLimits() LimitsConfig {
	return LimitsConfig{
		MaxStanzaSize: DefaultMaxStanzaSize,
		MaxBodySize:   DefaultMaxBodySize,

		DispatchChatBytes:  DefaultDispatchChatBytes,
		DispatchTotalBytes: DefaultDispatchTotalBytes,
		MaxAttachments:     DefaultMaxAttachments,
		Messages:           RateConfig{PerJID: 600, PerJIDBurst: 100, Global: 6_000_000, GlobalBurst: 20_000},
		Registrations:      RateConfig{PerJID: 6, PerJIDBurst: 3, Global: 600, GlobalBurst: 60},
		Logins:             RateConfig{PerJID: 6, PerJIDBurst: 5, Global: 600, GlobalBurst: 60},

		SendRetryDeadline: Duration(DefaultSendRetryDeadline),

		FetchTimeout:        Duration(DefaultFetchTimeout),
		FetchConnectTimeout: Duration(DefaultFetchConnectTimeout),
		FetchInFlightBytes:  DefaultFetchInFlightBytes,
		FetchesPerUser:      DefaultFetchesPerUser,
		Fetches:             DefaultFetches,
	}
}

func (c Config) validateLimits(p *problems) {
	l := c.Limits
	if l.MaxStanzaSize < 4096 {
		p.add("limits.max_stanza_size", "must be at least 4096 bytes")
	}
	if l.DispatchChatBytes < l.MaxStanzaSize {
		p.add("limits.dispatch_chat_bytes", "must be at least limits.max_stanza_size (%d bytes)", int64(l.MaxStanzaSize))
	}
	if l.DispatchTotalBytes < l.DispatchChatBytes {
		p.add("limits.dispatch_total_bytes", "must be at least limits.dispatch_chat_bytes (%d bytes)", int64(l.DispatchChatBytes))
	}
	if l.MaxBodySize <= 0 {
		p.add("limits.max_body_size", "must be a positive number of bytes")
	}
	if l.MaxAttachments < 1 {
		p.add("limits.max_attachments", "must be at least 1")
	}
	if l.SendRetryDeadline < 0 {
		p.add("limits.send_retry_deadline", "must not be negative (e.g. 2m; 0 turns retrying off), got %s", l.SendRetryDeadline)
	}
	if l.FetchTimeout <= 0 {
		p.add("limits.fetch_timeout", "must be a positive duration (e.g. 30s), got %s", l.FetchTimeout)
	}
	if l.FetchConnectTimeout <= 0 || l.FetchConnectTimeout > l.FetchTimeout {
		p.add("limits.fetch_connect_timeout", "must be a positive duration no longer than limits.fetch_timeout (e.g. 5s), got %s", l.FetchConnectTimeout)
	}
	if l.FetchInFlightBytes < 1<<20 {
		p.add("limits.fetch_in_flight_bytes", "must be at least 1MiB")
	}
	if l.FetchesPerUser < 1 {
		p.add("limits.fetches_per_user", "must be at least 1")
	}
	if l.Fetches < l.FetchesPerUser {
		p.add("limits.fetches", "must be at least limits.fetches_per_user (%d)", l.FetchesPerUser)
	}
	for _, r := range []struct {
		key string
		r   RateConfig
	}{{"limits.messages", l.Messages}, {"limits.registrations", l.Registrations}, {"limits.logins", l.Logins}} {
		r.r.validate(p, r.key)
	}
}

func (r RateConfig) validate(p *problems, key string) {
	for _, f := range []struct {
		name string
		v    int64
	}{{"per_jid", r.PerJID}, {"per_jid_burst", r.PerJIDBurst}, {"global", r.Global}, {"global_burst", r.GlobalBurst}} {
		if f.v < 0 {
			p.add(key+"."+f.name, "must not be negative (0 turns the limit off)")
		}
	}
}
