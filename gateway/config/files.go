package config

import (
	"net/url"
	"time"
)

// FilesConfig says where files from the platform go so that XMPP clients
// can fetch them, and how files from XMPP users are downloaded.
type FilesConfig struct {
	// ServerUpload uses the XMPP server's XEP-0363 upload service when it
	// offers one to the component (discovered at connect time); the
	// built-in file host takes what it refuses.
	ServerUpload bool `yaml:"server_upload"`
	// Listen is the built-in file host's host:port; empty disables it.
	Listen string `yaml:"listen"`
	// PublicURL is the prefix clients fetch files from (the file host
	// behind your reverse proxy, e.g. https://files.example.org/drawbridge/);
	// empty means http://LISTEN/, fine only for clients on this machine.
	PublicURL string `yaml:"public_url"`
	// Dir stores the built-in file host's files.
	Dir string `yaml:"dir"`
	// Expiry is how long a file stays available, e.g. "168h".
	Expiry Duration `yaml:"expiry"`
	// Quota is the most bytes the file host keeps at once, e.g. "1GiB".
	Quota ByteSize `yaml:"quota"`
	// OwnerQuota is the most bytes the file host keeps for one user (the
	// recipient), e.g. "256MiB", and SenderQuota the most it keeps from
	// one platform sender over all users, e.g. "128MiB": one sender, or
	// the files sent to one user, cannot fill the file host for everybody.
	// Quota stays the bound for all together.
	OwnerQuota  ByteSize `yaml:"owner_quota"`
	SenderQuota ByteSize `yaml:"sender_quota"`
	// MaxFileSize is the largest file the file host accepts, e.g. "100MiB".
	MaxFileSize ByteSize `yaml:"max_file_size"`
	// AllowPrivateFetch lets downloads of files users send reach loopback
	// and private addresses (an upload service on your internal network).
	// Off, such downloads are refused: users must not make the gateway
	// probe your network.
	AllowPrivateFetch bool `yaml:"allow_private_fetch"`
}

// Default file settings.
const (
	DefaultFilesListen = "127.0.0.1:8481"
	DefaultFilesExpiry = 168 * time.Hour
	DefaultFilesQuota  = 1 << 30
	DefaultFilesMax    = 100 << 20
	// DefaultFilesOwnerQuota and DefaultFilesSenderQuota are a quarter
	// and an eighth of DefaultFilesQuota.
	DefaultFilesOwnerQuota  = 256 << 20
	DefaultFilesSenderQuota = 128 << 20
)

func defaultFiles() FilesConfig {
	return FilesConfig{
		ServerUpload: true,
		Listen:       DefaultFilesListen,
		Dir:          "files",
		Expiry:       Duration(DefaultFilesExpiry),
		Quota:        DefaultFilesQuota,
		OwnerQuota:   DefaultFilesOwnerQuota,
		SenderQuota:  DefaultFilesSenderQuota,
		MaxFileSize:  DefaultFilesMax,
	}
}

// ExpiryDuration is Expiry as a time.Duration.
func (f FilesConfig) ExpiryDuration() time.Duration { return time.Duration(f.Expiry) }

func (c Config) validateFiles(p *problems) {
	f := c.Files
	if f.Listen != "" && !isListenAddr(f.Listen) {
		p.add("files.listen", "%q is not host:port", f.Listen)
	}
	if f.PublicURL != "" {
		u, err := url.Parse(f.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("files.public_url", "%q is not an http(s) URL", f.PublicURL)
		}
	}
	if f.Listen != "" && f.Dir == "" {
		p.add("files.dir", "required when files.listen is set")
	}
	if f.Expiry <= 0 {
		p.add("files.expiry", "must be a positive duration (e.g. 168h), got %s", f.Expiry)
	}
	if f.Quota <= 0 {
		p.add("files.quota", "must be a positive number of bytes")
	}
	if f.MaxFileSize <= 0 || f.MaxFileSize > f.Quota {
		p.add("files.max_file_size", "must be positive and at most files.quota")
	}
	// A share smaller than the largest file would refuse it even when
	// empty; a share above files.quota is bounded by files.quota.
	for _, share := range []struct {
		key string
		v   ByteSize
	}{{"files.owner_quota", f.OwnerQuota}, {"files.sender_quota", f.SenderQuota}} {
		switch {
		case share.v <= 0:
			p.add(share.key, "must be a positive number of bytes")
		case share.v < f.MaxFileSize && f.MaxFileSize <= f.Quota:
			p.add(share.key, "must be at least files.max_file_size (%d bytes)", int64(f.MaxFileSize))
		}
	}
}
