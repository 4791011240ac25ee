package remote

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
)

// Keys of a platform section that runs its adapter out of process:
//
//	platforms:
//	  sandbox:
//	    adapter: remote
//	    command: [drawbridge, adapter, sandbox]   # a go-plugin child, or
//	    address: 10.0.0.7:7100                     # a served adapter
//	    tls:                                       # required off loopback
//	      ca_file: /etc/drawbridge/adapter-ca.pem  # verifies the adapter
//	      cert_file: /etc/drawbridge/gateway.pem   # the gateway's client
//	      key_file: /etc/drawbridge/gateway.key    #   certificate (mTLS)
//	      server_name: adapter.internal            # default: the address's host
//	    token: ...                                 # instead of, or with, cert_file
//	    auto_confirm: true                         # the adapter's own keys
//
// Off loopback, an address needs tls, and either a client certificate or
// a token (a token without tls would travel in clear). The other keys of
// the section go to the adapter's Init.
const (
	KeyAdapter = "adapter"
	KeyCommand = "command"
	KeyAddress = "address"
	KeyToken   = "token"
	KeyTLS     = "tls"
	// AdapterRemote is the value of KeyAdapter.
	AdapterRemote = "remote"
)

// Keys of the tls section.
const (
	KeyCAFile     = "ca_file"
	KeyCertFile   = "cert_file"
	KeyKeyFile    = "key_file"
	KeyServerName = "server_name"
)

// Config is where an out-of-process adapter runs.
type Config struct {
	// Command launches the adapter as a go-plugin child (argv).
	Command []string
	// Address is a served adapter's host:port.
	Address string
	// Token is the bearer token the served adapter requires.
	Token string
	// TLS, when set, is the client TLS of the connection to Address
	// (Dial's [WithTLS]), loaded from the tls section's files.
	TLS *tls.Config
}

// IsRemote reports whether a platform section runs its adapter out of
// process.
func IsRemote(section map[string]any) bool {
	v, _ := section[KeyAdapter].(string)
	return v == AdapterRemote
}

// ParseSection splits a remote platform section (named name, e.g.
// "platforms.sandbox") into where the adapter runs and the rest, the
// adapter's own section. Problems are *config.KeyError naming the key.
func ParseSection(name string, section map[string]any) (Config, map[string]any, error) {
	var c Config
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &gwconfig.KeyError{Key: name + "." + key, Err: fmt.Errorf(format, args...)})
	}
	rest := maps.Clone(section)
	for _, k := range []string{KeyAdapter, KeyCommand, KeyAddress, KeyToken, KeyTLS} {
		delete(rest, k)
	}
	switch v := section[KeyCommand].(type) {
	case nil:
	case string:
		c.Command = []string{v}
	case []any:
		for i, a := range v {
			s, ok := a.(string)
			if !ok || s == "" {
				bad(KeyCommand, "item %d must be a non-empty string", i)
				continue
			}
			c.Command = append(c.Command, s)
		}
	default:
		bad(KeyCommand, "must be a list of strings (the program and its arguments)")
	}
	if v, ok := section[KeyAddress]; ok {
		if c.Address, ok = v.(string); !ok {
			bad(KeyAddress, "must be host:port")
		}
	}
	if v, ok := section[KeyToken]; ok {
		if c.Token, ok = v.(string); !ok {
			bad(KeyToken, "must be a string")
		}
	}
	if v, ok := section[KeyTLS]; ok {
		var tlsErrs []error
		c.TLS, tlsErrs = parseTLS(name+"."+KeyTLS, v)
		errs = append(errs, tlsErrs...)
	}
	switch {
	case len(c.Command) == 0 && c.Address == "":
		bad(KeyAdapter, "remote needs %s (a child process) or %s (a served adapter)", KeyCommand, KeyAddress)
	case len(c.Command) > 0 && c.Address != "":
		bad(KeyAddress, "set either %s or %s, not both", KeyCommand, KeyAddress)
	case len(c.Command) > 0 && section[KeyTLS] != nil:
		bad(KeyTLS, "applies to %s only: a child process speaks over a local socket", KeyAddress)
	case c.Address == "" || gwconfig.LoopbackAddr(c.Address) || len(errs) > 0:
	case section[KeyTLS] == nil && c.Token != "":
		bad(KeyTLS, "required for an address other than loopback (%s): without it the token would travel in clear", c.Address)
	case section[KeyTLS] == nil:
		bad(KeyTLS, "required for an address other than loopback (%s), with %s.%s and %s.%s (mutual TLS) or with a %s",
			c.Address, KeyTLS, KeyCertFile, KeyTLS, KeyKeyFile, KeyToken)
	case c.Token == "" && !hasClientCert(c.TLS):
		bad(KeyTLS+"."+KeyCertFile, "required for an address other than loopback (%s) without a %s: the adapter must know the gateway (mutual TLS)",
			c.Address, KeyToken)
	}
	return c, rest, errors.Join(errs...)
}

// parseTLS loads the client TLS of the tls section named name.
func parseTLS(name string, v any) (*tls.Config, []error) {
	var errs []error
	bad := func(key string, err error) {
		errs = append(errs, &gwconfig.KeyError{Key: name + key, Err: err})
	}
	m, ok := v.(map[string]any)
	if !ok {
		bad("", fmt.Errorf("must be a section with %s, %s, %s, %s", KeyCAFile, KeyCertFile, KeyKeyFile, KeyServerName))
		return nil, errs
	}
	keys := []string{KeyCAFile, KeyCertFile, KeyKeyFile, KeyServerName}
	str := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			msg := "unknown key (known: " + strings.Join(keys, ", ") + ")"
			if near := gwconfig.Nearest(k, keys); near != "" {
				msg += "; did you mean " + near + "?"
			}
			bad("."+k, errors.New(msg))
			continue
		}
		s, ok := m[k].(string)
		if !ok || s == "" {
			bad("."+k, errors.New("must be a non-empty string"))
			continue
		}
		str[k] = s
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: str[KeyServerName]}
	if f := str[KeyCAFile]; f != "" {
		pool, err := LoadCertPool(f)
		if err != nil {
			bad("."+KeyCAFile, err)
		}
		c.RootCAs = pool
	}
	cert, key := str[KeyCertFile], str[KeyKeyFile]
	switch {
	case cert != "" && key == "":
		bad("."+KeyKeyFile, fmt.Errorf("required with %s", KeyCertFile))
	case cert == "" && key != "":
		bad("."+KeyCertFile, fmt.Errorf("required with %s", KeyKeyFile))
	case cert != "":
		if _, err := os.Stat(cert); err != nil {
			bad("."+KeyCertFile, err)
		} else if _, err := os.Stat(key); err != nil {
			bad("."+KeyKeyFile, err)
		} else if pair, err := tls.LoadX509KeyPair(cert, key); err != nil {
			bad("."+KeyCertFile, fmt.Errorf("with %s: %w", KeyKeyFile, err))
		} else {
			c.Certificates = []tls.Certificate{pair}
		}
	}
	return c, errs
}
