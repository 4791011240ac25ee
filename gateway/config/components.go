package config

import (
	"fmt"
	"slices"
	"strings"
)

// ComponentLink is one entry of the components list: one XEP-0114
// component, with its own domain and secret, fronting one platform. With
// a components list, one process serves several platforms, each on its own
// domain and link; the component section then only gives the defaults
// (server, name) and the administrators.
type ComponentLink struct {
	// JID is the component's domain, e.g. "wa.example.org".
	JID string `yaml:"jid"`
	// Server is the XMPP server's component port as host:port; empty
	// means component.server.
	Server string `yaml:"server"`
	// Secret is the XEP-0114 shared secret of this component.
	Secret string `yaml:"secret"`
	// SecretFile, when set, names a file whose content (trailing newline
	// trimmed) becomes Secret. It cannot be combined with Secret.
	SecretFile string `yaml:"secret_file"`
	// AllowWeakSecret is component.allow_weak_secret for this component.
	AllowWeakSecret bool `yaml:"allow_weak_secret"`
	// Name is the disco identity's name; empty means component.name.
	Name string `yaml:"name"`
	// Platform names the platforms.<id> section of the adapter this
	// component fronts (which may run out of process: adapter: remote).
	Platform string `yaml:"platform"`
}

// Link is one XEP-0114 component as the process runs it, with the
// defaults applied: from the components list, or the component section
// and its one enabled platform. See [Config.Links].
type Link struct {
	JID, Server, Secret, Name string
	// Platform is the platforms.<id> section the component fronts; ""
	// when a configuration without a components list enables no platform
	// or several (which the process refuses before starting).
	Platform string
	// Key is where the link is configured, for messages: "component" or
	// "components[1]".
	Key string
}

// Links returns the components the process runs, in configuration order:
// one per components entry, or, when the list is empty, the component
// section alone with the one enabled platform.
func (c Config) Links() []Link {
	if len(c.Components) == 0 {
		platform := ""
		if enabled := c.enabledPlatforms(); len(enabled) == 1 {
			platform = enabled[0]
		}
		cc := c.Component
		return []Link{{JID: cc.JID, Server: cc.Server, Secret: cc.Secret, Name: cc.Name, Platform: platform, Key: "component"}}
	}
	out := make([]Link, len(c.Components))
	for i, e := range c.Components {
		l := Link{JID: e.JID, Server: e.Server, Secret: e.Secret, Name: e.Name, Platform: e.Platform, Key: fmt.Sprintf("components[%d]", i)}
		if l.Server == "" {
			l.Server = c.Component.Server
		}
		if l.Name == "" {
			l.Name = c.Component.Name
		}
		out[i] = l
	}
	return out
}

// PrimaryJID is the domain of the first component: the component's, or
// the first of the components list. The settings that name one domain
// (registration's default parent domain, the file host's) use it.
func (c Config) PrimaryJID() string { return c.Links()[0].JID }

// primarySecret is the first component's secret (log.redact's key).
func (c Config) primarySecret() string { return c.Links()[0].Secret }

// enabledPlatforms lists the ids of the enabled platform sections, sorted.
func (c Config) enabledPlatforms() []string {
	var out []string
	for id := range c.Platforms {
		if c.PlatformEnabled(id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// validateComponents checks the components list: each entry's domain,
// server and secret as the component section's are checked, domains and
// platforms each used once, and every enabled platform fronted by one
// component. The component section must then not set a domain or a
// secret of its own, which nothing would use.
func (c Config) validateComponents(p *problems) {
	cc := c.Component
	if cc.JID != Default().Component.JID {
		p.add("component.jid", "cannot be combined with components: give each component its jid there (components[0].jid, ...)")
	}
	if cc.Secret != "" || cc.SecretFile != "" {
		p.add("component.secret", "cannot be combined with components: give each component its secret there (components[0].secret, ...)")
	}
	if cc.Server != "" && !isHostPort(cc.Server) {
		p.add("component.server", "%q is not host:port", cc.Server)
	}
	if cc.Name == "" {
		p.add("component.name", "required")
	}
	jids := map[string]int{}
	platforms := map[string]int{}
	for i, e := range c.Components {
		key := fmt.Sprintf("components[%d]", i)
		jid := strings.ToLower(e.JID)
		switch {
		case e.JID == "":
			p.add(key+".jid", "required")
		case !isDomain(e.JID):
			p.add(key+".jid", "%q is not a valid domain", e.JID)
		default:
			if j, dup := jids[jid]; dup {
				p.add(key+".jid", "%q is also components[%d].jid: each component needs its own domain", e.JID, j)
			} else {
				jids[jid] = i
			}
		}
		switch {
		case e.Server == "" && cc.Server == "":
			p.add(key+".server", "required (or set component.server for every component)")
		case e.Server != "" && !isHostPort(e.Server):
			p.add(key+".server", "%q is not host:port", e.Server)
		}
		if e.Secret == "" {
			p.add(key+".secret", "required (or set %s.secret_file)", key)
		} else if !e.AllowWeakSecret {
			checkSecret(p, key+".secret", key+".allow_weak_secret", e.Secret)
		}
		switch {
		case e.Platform == "":
			p.add(key+".platform", "required: the platforms.<id> section this component fronts")
		case !hasSection(c.Platforms, e.Platform):
			p.add(key+".platform", "%q names no platforms section (have: %s)", e.Platform, strings.Join(sortedKeys(c.Platforms), ", "))
		case !c.PlatformEnabled(e.Platform):
			p.add(key+".platform", "platforms.%s is disabled (enabled: false)", e.Platform)
		default:
			if j, dup := platforms[e.Platform]; dup {
				p.add(key+".platform", "%q is also components[%d].platform: a platform is fronted by one component", e.Platform, j)
			} else {
				platforms[e.Platform] = i
			}
		}
	}
	for _, id := range c.enabledPlatforms() {
		if _, ok := platforms[id]; !ok && platformIDPattern.MatchString(id) {
			p.add("platforms."+id, "enabled but no component fronts it: add it to components, or set platforms.%s.enabled: false", id)
		}
	}
}

// hasSection reports whether the platforms map has a (possibly empty)
// section named id.
func hasSection(platforms map[string]map[string]any, id string) bool {
	_, ok := platforms[id]
	return ok
}

// sortedKeys lists a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
