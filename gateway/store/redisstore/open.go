package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/drawbridge-im/drawbridge/gateway/store"
)

// Config says which Redis to use. Exactly one of URL and Addrs is set.
type Config struct {
	// URL addresses a standalone server: redis://[user:password@]host:port[/db]
	// (rediss:// for TLS).
	URL string
	// Addrs are Cluster nodes (any subset will do), or the Sentinels when
	// MasterName is set.
	Addrs []string
	// MasterName selects Sentinel: the name of the monitored master.
	MasterName string
	// Username and Password, if set, override those of URL.
	Username, Password string
	// DB, if not 0, overrides the database of URL. Cluster only has DB 0.
	DB int
	// KeyPrefix is Options.KeyPrefix.
	KeyPrefix string
}

// Open connects to the Redis that cfg describes, checks that it answers PING,
// brings the key layout up to date (Migrate) and returns a Store that owns
// the connection.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	client, target, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redisstore: redis at %s does not answer PING: %w", target, err)
	}
	s := New(client, Options{KeyPrefix: cfg.KeyPrefix})
	if err := s.Migrate(ctx); err != nil {
		client.Close()
		if tooNew, ok := errors.AsType[*store.SchemaTooNewError](err); ok {
			tooNew.Store = fmt.Sprintf("the Redis store at %s (key %s)", target, s.keys.schema())
			return nil, fmt.Errorf("redisstore: %w", tooNew)
		}
		return nil, fmt.Errorf("%w (redis at %s)", err, target)
	}
	return s, nil
}

// newClient builds the client for cfg and describes what it connects to
// (without credentials), for error messages.
func newClient(cfg Config) (redis.UniversalClient, string, error) {
	switch {
	case cfg.URL != "" && (len(cfg.Addrs) > 0 || cfg.MasterName != ""):
		return nil, "", errors.New("config sets URL and Addrs/MasterName; a URL is for a standalone server, Addrs for Cluster or Sentinel")
	case cfg.URL != "":
		opts, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, "", fmt.Errorf("parsing the redis URL: %w", err)
		}
		if cfg.Username != "" {
			opts.Username = cfg.Username
		}
		if cfg.Password != "" {
			opts.Password = cfg.Password
		}
		if cfg.DB != 0 {
			opts.DB = cfg.DB
		}
		return redis.NewClient(opts), fmt.Sprintf("%s (db %d)", opts.Addr, opts.DB), nil
	case len(cfg.Addrs) == 0:
		return nil, "", errors.New("config sets neither URL nor Addrs")
	case cfg.MasterName != "":
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: cfg.Addrs, MasterName: cfg.MasterName,
			Username: cfg.Username, Password: cfg.Password, DB: cfg.DB,
		})
		return client, fmt.Sprintf("master %q of sentinels %s", cfg.MasterName, strings.Join(cfg.Addrs, ",")), nil
	case cfg.DB != 0:
		return nil, "", fmt.Errorf("config selects DB %d, but Redis Cluster only has DB 0", cfg.DB)
	default:
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: cfg.Addrs, IsClusterMode: true,
			Username: cfg.Username, Password: cfg.Password,
		})
		return client, "cluster " + strings.Join(cfg.Addrs, ","), nil
	}
}

// NewClient returns a client for the Redis that cfg describes, as Open
// connects to it, without any I/O; the caller closes it. Other users of
// the same Redis (gateway/cluster) share the store's configuration
// through it.
func NewClient(cfg Config) (redis.UniversalClient, error) {
	client, _, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return client, nil
}

// EffectiveKeyPrefix is the prefix of every key a store opened with cfg
// writes (the default when none is set, braces escaped), for other users
// of the same Redis to keep their keys beside the store's.
func (cfg Config) EffectiveKeyPrefix() string {
	p := cfg.KeyPrefix
	if p == "" {
		p = DefaultKeyPrefix
	}
	return prefixEscaper.Replace(p)
}
