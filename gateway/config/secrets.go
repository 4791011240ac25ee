package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// redactedValue replaces secrets in [Config.Redacted].
const redactedValue = "REDACTED"

// resolveSecretFiles reads component.secret_file and
// store.redis.password_file into the settings they stand for.
func resolveSecretFiles(cfg *Config) error {
	var errs []error
	for i := range cfg.Components {
		e := &cfg.Components[i]
		key := fmt.Sprintf("components[%d]", i)
		errs = append(errs, readSecretFile(&e.Secret, e.SecretFile, key+".secret", key+".secret_file"))
	}
	return errors.Join(append(errs,
		readSecretFile(&cfg.Component.Secret, cfg.Component.SecretFile, "component.secret", "component.secret_file"),
		readSecretFile(&cfg.Store.Redis.Password, cfg.Store.Redis.PasswordFile, "store.redis.password", "store.redis.password_file"),
		readSecretFile(&cfg.API.Token, cfg.API.TokenFile, "api.token", "api.token_file"),
		readSecretFile(&cfg.Store.EncryptionKey, cfg.Store.EncryptionKeyFile, "store.encryption_key", "store.encryption_key_file"),
	)...)
}

// readSecretFile sets *secret to the content of path with trailing line
// breaks removed. Nothing happens when path is empty; it is an error when
// *secret is already set, or the file is unreadable or empty.
func readSecretFile(secret *string, path, secretKey, fileKey string) error {
	if path == "" {
		return nil
	}
	if *secret != "" {
		return &KeyError{Key: fileKey, Err: fmt.Errorf("cannot be combined with %s", secretKey)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &KeyError{Key: fileKey, Err: err}
	}
	value := strings.TrimRight(string(data), "\r\n")
	if value == "" {
		return &KeyError{Key: fileKey, Err: fmt.Errorf("%q is empty", path)}
	}
	*secret = value
	return nil
}

// Redacted returns a copy of c fit for printing: the component secrets,
// the Redis password and the password in the Redis URL read "REDACTED",
// and so does every platform setting whose key suggests a secret
// (containing "secret", "password", "token", "key", "dsn" or "hash", as
// Telegram's api_hash). The copy shares no slice or map with c.
func (c Config) Redacted() Config {
	r := c
	r.Registration.AllowedDomains = slices.Clone(c.Registration.AllowedDomains)
	r.Registration.AllowedJIDs = slices.Clone(c.Registration.AllowedJIDs)
	r.Registration.DeniedJIDs = slices.Clone(c.Registration.DeniedJIDs)
	r.Store.Redis.Addrs = slices.Clone(c.Store.Redis.Addrs)
	r.Component.Secret = redact(c.Component.Secret)
	r.Components = slices.Clone(c.Components)
	for i := range r.Components {
		r.Components[i].Secret = redact(r.Components[i].Secret)
	}
	r.Store.Redis.Password = redact(c.Store.Redis.Password)
	r.API.Token = redact(c.API.Token)
	r.Store.EncryptionKey = redact(c.Store.EncryptionKey)
	r.Component.Admins = slices.Clone(c.Component.Admins)
	r.API.AllowedHosts = slices.Clone(c.API.AllowedHosts)
	r.Store.Redis.URL = redactURL(c.Store.Redis.URL)
	if c.Platforms != nil {
		r.Platforms = make(map[string]map[string]any, len(c.Platforms))
		for id, section := range c.Platforms {
			r.Platforms[id] = redactSection(section)
		}
	}
	return r
}

// redact hides a non-empty secret; an empty one stays empty so that the
// output still shows it is unset.
func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return redactedValue
}

// redactURL hides the password of a URL's user information. A value that
// does not parse is hidden whole, since it may hold anything.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redactedValue
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedValue)
	}
	return u.String()
}

// redactSection deep-copies a free-form platform section, hiding the
// values of secret-looking keys at any depth.
func redactSection(section map[string]any) map[string]any {
	if section == nil {
		return nil
	}
	out := make(map[string]any, len(section))
	for k, v := range section {
		out[k] = redactAny(k, v)
	}
	return out
}

func redactAny(key string, v any) any {
	if secretKey(key) && v != nil {
		if _, isMap := v.(map[string]any); !isMap {
			return redactedValue
		}
	}
	switch v := v.(type) {
	case map[string]any:
		return redactSection(v)
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = redactAny(key, item)
		}
		return out
	default:
		return v
	}
}

// secretKey reports whether a platform setting's key suggests a secret.
func secretKey(key string) bool {
	key = strings.ToLower(key)
	for _, word := range []string{"secret", "password", "token", "key", "dsn", "hash"} {
		if strings.Contains(key, word) {
			return true
		}
	}
	return false
}
