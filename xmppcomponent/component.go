// Package xmppcomponent is the XMPP side of Drawbridge: the translation
// between stanzas and gateway events — messages, presence, disco,
// registration, ad-hoc commands, group rooms (MUC) and privileges. The
// XEP-0114 transport it runs on is package stream.
package xmppcomponent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"gosrc.io/xmpp/stanza"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

// Config configures a Component.
type Config struct {
	// Conn is the XEP-0114 connection; Conn.Domain is the component's JID.
	Conn stream.Config
	// Name is the gateway's name in disco (default "Drawbridge").
	Name string
	// Platform is the adapter this component fronts.
	Platform ids.PlatformID
	// Version is reported through XEP-0092.
	Version string
	// Uploader stores files from the platform for XMPP clients; nil means
	// files are passed on only when the platform gives a public URL.
	Uploader FileUploader
	// RoomHistory is how many messages each group's room keeps in memory
	// for join history and its archive (XEP-0313), per owner; 0 means
	// DefaultRoomHistory, a negative value keeps none.
	RoomHistory int
	// Journal, if set, records the messages read from the connection
	// until they are handled, and Run first handles what a previous
	// process left there (intake.go). nil: nothing is recorded.
	Journal StanzaJournal
	// Admin, if set, adds the administration commands (adhoc_admin.go).
	Admin  *AdminCommands
	Logger *slog.Logger
}

// Sender writes stanzas; *stream.Conn is the production one.
type Sender interface {
	Send(ctx context.Context, p stanza.Packet) error
}

// Component translates between XMPP stanzas and the hub.
type Component struct {
	cfg    Config
	gw     Hub
	info   gateway.Info
	addr   Addressing
	domain string
	log    *slog.Logger
	conn   *stream.Conn
	out    Sender
	// connects identifies the link's current connection (Conn.Connects).
	connects func() uint64

	mu       sync.Mutex
	contacts map[contactKey]contactState // presence, subscription request, picture (contactstate.go)
	presOrd  *presenceOrder              // each contact's presence written in the order read (presence_order.go)
	chat     map[ids.Owner]*chatLogin
	stopped  map[ids.Owner]LoginRun // logins their user cancelled (login.go)
	adhoc    map[string]*adhocSession
	gwRoster map[ids.Owner]rosterState // the gateway in owners' rosters (presence.go)

	avatarq avatarQueue // avatar fetches waiting (avatar.go); under mu

	chatq  chatQueues // messages waiting for their files (chatqueue.go)
	admits bool       // the connection runs admit (admit.go)

	priv  privileges // XEP-0356 grants (privilege.go)
	parts partMemory // stanzas of recent multi-part messages (parts.go)
	muc   mucRooms   // rooms for platform groups (muc_state.go)

	ownerRes ownerResources // owners' available resources (owner_presence.go)
}

type contactKey struct {
	owner ids.Owner
	user  ids.UserID
}

// New builds the component and attaches it to gw as the frontend of
// cfg.Platform (HubOf(g) for the production hub).
func New(cfg Config, gw Hub) (*Component, error) {
	c, err := newComponent(cfg, gw)
	if err != nil {
		return nil, err
	}
	cfg = c.cfg
	connCfg := cfg.Conn
	onState := connCfg.OnState
	connCfg.OnState = func(up bool) {
		if onState != nil {
			onState(up)
		}
		if up {
			// Journaled events not in flight go out again (journal.go).
			gw.FrontendConnected()
		}
	}
	if cfg.Journal != nil {
		connCfg.Intake = &intake{j: cfg.Journal, c: c}
		connCfg.HandleRecorded = c.handleRecorded // intake.go
	}
	connCfg.Admit, c.admits = c.admit, true // admit.go
	c.conn = stream.New(connCfg, c.Handle)
	c.out = c.conn
	c.connects = c.conn.Connects
	gw.SetPlatformFrontend(cfg.Platform, c)
	return c, nil
}

// newComponent checks cfg and builds the component's state, attached to
// no transport yet.
func newComponent(cfg Config, gw Hub) (*Component, error) {
	if cfg.Conn.Domain == "" {
		return nil, errors.New("xmppcomponent: Conn.Domain is required")
	}
	info, ok := gw.PlatformInfo(cfg.Platform)
	if !ok {
		return nil, fmt.Errorf("xmppcomponent: platform %q is not configured", cfg.Platform)
	}
	if cfg.Name == "" {
		cfg.Name = "Drawbridge"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Component{
		cfg:      cfg,
		gw:       gw,
		info:     info,
		addr:     Addressing{Domain: cfg.Conn.Domain},
		domain:   cfg.Conn.Domain,
		log:      cfg.Logger.With("component", cfg.Conn.Domain),
		contacts: make(map[contactKey]contactState),
		presOrd:  newPresenceOrder(),
		chat:     make(map[ids.Owner]*chatLogin),
		stopped:  make(map[ids.Owner]LoginRun),
		adhoc:    make(map[string]*adhocSession),
	}
	return c, nil
}

// Conn is the component's XEP-0114 connection; nil for a component on a
// virtual link (NewOnLink).
func (c *Component) Conn() *stream.Conn { return c.conn }

// SetSender replaces the stanza writer (tests).
func (c *Component) SetSender(s Sender) { c.out = s }

// Run serves the XMPP connection until ctx is done, reconnecting as needed.
// It first handles the messages a previous process read and did not
// finish (Config.Journal), so they stay ahead of new ones; it returns once
// the messages waiting in chat queues (chatqueue.go) have given up too.
func (c *Component) Run(ctx context.Context) error {
	if c.conn == nil {
		<-ctx.Done() // a virtual link: its reader feeds Handle
		c.chatq.wait()
		return ctx.Err()
	}
	c.replayIntake(ctx)
	err := c.conn.Run(ctx)
	c.chatq.wait()
	return err
}

// Handle processes one inbound stanza. It is the connection's Handler.
func (c *Component) Handle(ctx context.Context, p stanza.Packet) {
	switch s := p.(type) {
	case stanza.Message:
		c.onMessage(ctx, s)
	case *stanza.Message:
		c.onMessage(ctx, *s)
	case stanza.Presence:
		c.onPresence(ctx, s)
	case *stanza.Presence:
		c.onPresence(ctx, *s)
	case *stanza.IQ:
		c.onIQ(ctx, s)
	case stream.Undecodable:
		c.onUndecodable(ctx, s) // malformed.go
	default:
		c.log.Debug("ignoring non-stanza packet", "type", fmt.Sprintf("%T", p))
	}
}

// send writes a stanza that is no delivery's, logging failure (the
// connection's queue only fails on shutdown).
func (c *Component) send(ctx context.Context, p stanza.Packet) {
	c.plain().sendLogged(ctx, p)
}

// parseAddrs parses a stanza's from and to. from must be a full or bare JID
// with a localpart or a domain (servers, users); to must be on our domain.
func (c *Component) parseAddrs(a stanza.Attrs) (from, to jid.JID, err error) {
	from, err = jid.Parse(a.From)
	if err != nil {
		return from, to, fmt.Errorf("bad from %q: %w", a.From, err)
	}
	to, err = jid.Parse(a.To)
	if err != nil {
		return from, to, fmt.Errorf("bad to %q: %w", a.To, err)
	}
	return from, to, nil
}

// isGateway reports whether to addresses the gateway itself.
func (c *Component) isGateway(to jid.JID) bool { return to.Localpart() == "" }

func (c *Component) logErr(msg string, owner ids.Owner, err error) {
	if _, internal := stanzaError(err); internal {
		c.log.Error(msg, "owner", owner, "err", err)
		return
	}
	c.log.Debug(msg, "owner", owner, "err", err)
}
