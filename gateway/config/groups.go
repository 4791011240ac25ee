package config

// GroupsConfig configures platform groups as XMPP chat rooms.
type GroupsConfig struct {
	// History is how many messages each room keeps (in memory, per user)
	// for the join history and the room's archive (XEP-0313); 0 keeps
	// none.
	History int64 `yaml:"history"`
}

// DefaultGroupsHistory is the default of groups.history.
const DefaultGroupsHistory = 200

func (c Config) validateGroups(p *problems) {
	if c.Groups.History < 0 || c.Groups.History > 100_000 {
		p.add("groups.history", "must be between 0 and 100000 messages")
	}
}
