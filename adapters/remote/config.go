package remote

import (
	"errors"
	"fmt"
	"maps"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
)

// Keys of a platform section that runs its adapter out of process:
//
//	platforms:
//	  sandbox:
//	    adapter: remote
//	    command: [drawbridge, adapter, sandbox]   # a go-plugin child, or
//	    address: 10.0.0.7:7100                     # a served adapter
//	    token: ...                                 # required off loopback
//	    auto_confirm: true                         # the adapter's own keys
//
// The other keys of the section go to the adapter's Init.
const (
	KeyAdapter = "adapter"
	KeyCommand = "command"
	KeyAddress = "address"
	KeyToken   = "token"
	// AdapterRemote is the value of KeyAdapter.
	AdapterRemote = "remote"
)

// Config is where an out-of-process adapter runs.
type Config struct {
	// Command launches the adapter as a go-plugin child (argv).
	Command []string
	// Address is a served adapter's host:port.
	Address string
	// Token is the bearer token the served adapter requires.
	Token string
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
	for _, k := range []string{KeyAdapter, KeyCommand, KeyAddress, KeyToken} {
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
	switch {
	case len(c.Command) == 0 && c.Address == "":
		bad(KeyAdapter, "remote needs %s (a child process) or %s (a served adapter)", KeyCommand, KeyAddress)
	case len(c.Command) > 0 && c.Address != "":
		bad(KeyAddress, "set either %s or %s, not both", KeyCommand, KeyAddress)
	case c.Address != "" && c.Token == "" && !gwconfig.LoopbackAddr(c.Address):
		bad(KeyToken, "required for an address other than loopback (%s)", c.Address)
	}
	return c, rest, errors.Join(errs...)
}
