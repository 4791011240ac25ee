package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// KeyError is one configuration problem, tied to the key path of the
// setting it concerns ("component.server", "registration.allowed_jids[2]").
// Its message never contains a secret.
type KeyError struct {
	// Key is the YAML key path of the offending setting.
	Key string
	// Err says what is wrong with it.
	Err error
	// Source, when known, is where the value came from: "line 12" of
	// the configuration file, or the environment variable that set it
	// ("DRAWBRIDGE_LOG_LEVEL"). Parse and Load fill it in for the
	// problems found after decoding.
	Source string
}

// Error returns "key: problem", followed by the source in parentheses
// when it is known: "(line 12)" or "(from DRAWBRIDGE_LOG_LEVEL)".
func (e *KeyError) Error() string {
	msg := e.Key + ": " + e.Err.Error()
	switch {
	case e.Source == "":
	case e.fromEnv():
		msg += " (from " + e.Source + ")"
	default:
		msg += " (" + e.Source + ")"
	}
	return msg
}

// fromEnv reports whether the value came from an environment variable.
func (e *KeyError) fromEnv() bool { return strings.HasPrefix(e.Source, EnvPrefix) }

// Unwrap returns the underlying problem.
func (e *KeyError) Unwrap() error { return e.Err }

// Accepted values of the enumerated settings.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
	backends   = []string{BackendSQLite, BackendRedis}
	redisURLs  = []string{"redis", "rediss", "unix"}
)

// platformIDPattern is the syntax of an adapter id.
var platformIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// problems collects KeyErrors.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
}

// Validate checks the whole configuration and returns every problem found,
// joined with errors.Join, each a *KeyError naming its key path; nil means
// the configuration is usable. Secrets are checked for presence only and
// never quoted.
func (c Config) Validate() error {
	var p problems
	if len(c.Components) > 0 {
		c.validateComponents(&p) // components.go
	} else {
		c.validateComponent(&p)
	}
	c.validateRegistration(&p)
	c.validateStore(&p)
	c.validatePlatforms(&p)
	c.validateLog(&p)
	c.validateAPI(&p)
	c.validateFiles(&p)
	c.validateGroups(&p)
	c.validateLimits(&p)
	c.validateEncryption(&p)
	c.validateCluster(&p)
	return errors.Join(p...)
}

func (c Config) validateComponent(p *problems) {
	cc := c.Component
	switch {
	case cc.JID == "":
		p.add("component.jid", "required")
	case !isDomain(cc.JID):
		p.add("component.jid", "%q is not a valid domain", cc.JID)
	}
	switch {
	case cc.Server == "":
		p.add("component.server", "required")
	case !isHostPort(cc.Server):
		p.add("component.server", "%q is not host:port", cc.Server)
	}
	if cc.Secret == "" {
		p.add("component.secret", "required (or set component.secret_file)")
	} else if !cc.AllowWeakSecret {
		checkSecret(p, "component.secret", "component.allow_weak_secret", cc.Secret)
	}
	if cc.Name == "" {
		p.add("component.name", "required")
	}
}

func (c Config) validateRegistration(p *problems) {
	r := c.Registration
	for i, d := range r.AllowedDomains {
		if d != "*" && !isDomain(d) {
			p.add(fmt.Sprintf("registration.allowed_domains[%d]", i), "%q is not a valid domain (or *)", d)
		}
	}
	if first := c.Links()[0]; len(r.AllowedDomains) == 0 && isDomain(first.JID) && c.ParentDomain() == "" {
		p.add("registration.allowed_domains", "required because %s.jid %q has no parent domain", first.Key, first.JID)
	}
	for i, j := range r.AllowedJIDs {
		if !isBareJID(j) {
			p.add(fmt.Sprintf("registration.allowed_jids[%d]", i), "%q is not a bare JID (localpart@domain)", j)
		}
	}
	for i, j := range r.DeniedJIDs {
		if !isBareJID(j) {
			p.add(fmt.Sprintf("registration.denied_jids[%d]", i), "%q is not a bare JID (localpart@domain)", j)
		}
	}
}

func (c Config) validateStore(p *problems) {
	s := c.Store
	switch s.Backend {
	case BackendSQLite:
		if s.SQLite.Path == "" {
			p.add("store.sqlite.path", "required when store.backend is sqlite")
		}
	case BackendRedis:
		validateRedis(p, s.Redis)
	default:
		p.add("store.backend", "%q is not one of %s", s.Backend, strings.Join(backends, ", "))
	}
}

func validateRedis(p *problems, r RedisConfig) {
	switch {
	case r.URL != "" && len(r.Addrs) > 0:
		p.add("store.redis.url", "cannot be combined with store.redis.addrs")
	case r.URL == "" && len(r.Addrs) == 0:
		p.add("store.redis", "set url (one server) or addrs (Cluster or Sentinel)")
	case r.URL != "":
		if err := checkRedisURL(r.URL); err != nil {
			p.add("store.redis.url", "%w", err)
		}
	}
	for i, addr := range r.Addrs {
		if !isHostPort(addr) {
			p.add(fmt.Sprintf("store.redis.addrs[%d]", i), "%q is not host:port", addr)
		}
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		p.add("store.redis.master_name", "requires store.redis.addrs (the Sentinel addresses)")
	}
}

// checkRedisURL checks a Redis URL without ever quoting it whole, since
// it may carry a password.
func checkRedisURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if !slices.Contains(redisURLs, u.Scheme) {
		return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(redisURLs, ", "))
	}
	if u.Scheme == "unix" {
		if u.Path == "" {
			return errors.New("no socket path")
		}
		return nil
	}
	if u.Hostname() == "" {
		return errors.New("no host")
	}
	if port := u.Port(); port != "" && !isPort(port) {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return fmt.Errorf("database %q is not a number", db)
		}
	}
	return nil
}

func (c Config) validatePlatforms(p *problems) {
	ids := make([]string, 0, len(c.Platforms))
	for id := range c.Platforms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	enabled := 0
	for _, id := range ids {
		if !platformIDPattern.MatchString(id) {
			p.add("platforms", "%q is not a valid platform id (lower-case letters, digits, _ and -)", id)
			continue
		}
		if v, ok := c.Platforms[id]["enabled"]; ok {
			if _, isBool := v.(bool); !isBool {
				p.add("platforms."+id+".enabled", "must be true or false")
				continue
			}
		}
		if c.PlatformEnabled(id) {
			enabled++
		}
	}
	if enabled == 0 {
		p.add("platforms", "no platform is enabled")
	}
}

func (c Config) validateLog(p *problems) {
	if !slices.Contains(logLevels, c.Log.Level) {
		p.add("log.level", "%q is not one of %s", c.Log.Level, strings.Join(logLevels, ", "))
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		p.add("log.format", "%q is not one of %s", c.Log.Format, strings.Join(logFormats, ", "))
	}
}

// MinSecretLength is the shortest component secret accepted without
// component.allow_weak_secret.
const MinSecretLength = 16

// placeholderSecrets are secrets that appear in examples and shipped
// manifests (deploy/kubernetes/secret.yaml, deploy/prosody/drawbridge.cfg.lua
// say change-me), compared case-insensitively.
var placeholderSecrets = []string{"change-me", "changeme", "change_me", "secret", "password", "drawbridge"}

// checkSecret refuses a placeholder or short component secret at key:
// whoever reaches the server's component port with it can act as the
// gateway. allowKey is the setting that accepts it anyway. The message
// never quotes the secret.
func checkSecret(p *problems, key, allowKey, secret string) {
	fix := "use a long random value (e.g. openssl rand -hex 24) here and in the XMPP server's component secret, " +
		"or set " + allowKey + ": true for a test setup"
	trimmed := strings.ToLower(strings.TrimSpace(secret))
	switch {
	case slices.Contains(placeholderSecrets, trimmed):
		p.add(key, "is a placeholder from the examples or shipped manifests; %s", fix)
	case len(secret) < MinSecretLength:
		p.add(key, "is %d characters, shorter than %d; %s", len(secret), MinSecretLength, fix)
	}
}
