package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// callTimeout bounds the calls of the contract that take no context
// (Disconnect, Capabilities, IsGroup).
const callTimeout = 10 * time.Second

// transport is how the host reaches the adapter: a go-plugin child or a
// dialed address.
type transport interface {
	// conn returns the current connection.
	conn() *grpc.ClientConn
	// alive reports whether the adapter can be reached without a restart
	// (the child has not exited).
	alive() bool
	// restart replaces the connection (launches the child again, or
	// redials).
	restart(ctx context.Context) error
	// close ends the connection (and the child).
	close() error
	// describe names the adapter for logs ("child /usr/bin/x", "remote
	// host:port").
	describe() string
}

// Adapter is the host side: a gateway.Adapter whose platform adapter runs
// out of process. It keeps the Host stream open, restarts or redials the
// adapter when it goes away, and then loads and connects again the
// sessions that were connected, so that the hub sees one adapter.
type Adapter struct {
	t    transport
	info gateway.Info
	log  *slog.Logger

	mu       sync.Mutex
	host     gateway.Host
	cfg      []byte
	started  bool
	sessions map[ids.AccountID]*session
	life     context.Context
	stop     context.CancelFunc
	done     chan struct{}
	ready    chan struct{} // closed while a Host stream is up; replaced on loss
	files    *refTable
	reading  map[string]*hostFile
	restarts int
	health   time.Duration
}

var _ gateway.Adapter = (*Adapter)(nil)

// newAdapter asks the adapter for its Info over t.
func newAdapter(ctx context.Context, t transport, log *slog.Logger) (*Adapter, error) {
	if log == nil {
		log = slog.Default()
	}
	r, err := adapterv1.NewAdapterServiceClient(t.conn()).Info(ctx, &adapterv1.InfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("adapter %s: Info: %w", t.describe(), fromRPC(err))
	}
	if r.GetProtocolVersion() != ProtocolVersion {
		return nil, fmt.Errorf("adapter %s speaks protocol version %d, this gateway %d: %w",
			t.describe(), r.GetProtocolVersion(), ProtocolVersion, gateway.ErrNotSupported)
	}
	info := gateway.Info{ID: ids.PlatformID(r.GetId()), Name: r.GetName(), GatewayType: r.GetGatewayType(), UserPrompt: r.GetUserPrompt(), NotBridged: r.GetNotBridged()}
	if info.ID == "" {
		return nil, fmt.Errorf("adapter %s: Info without an id: %w", t.describe(), errMalformed)
	}
	return &Adapter{t: t, info: info, log: log.With("adapter", string(info.ID), "placement", t.describe()),
		sessions: map[ids.AccountID]*session{}, files: newRefTable(4096), ready: make(chan struct{})}, nil
}

func (a *Adapter) client() adapterv1.AdapterServiceClient {
	return adapterv1.NewAdapterServiceClient(a.t.conn())
}

// Restarts counts how often the adapter was restarted or redialed.
func (a *Adapter) Restarts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.restarts
}

// Info implements gateway.Adapter.
func (a *Adapter) Info() gateway.Info { return a.info }

// Init implements gateway.Adapter: the section travels as JSON, and the
// adapter checks it at once.
func (a *Adapter) Init(host gateway.Host, cfg map[string]any) error {
	if host == nil {
		return fmt.Errorf("remote adapter %s: Init without a host", a.info.ID)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("remote adapter %s: configuration section: %w", a.info.ID, err)
	}
	a.mu.Lock()
	a.host, a.cfg = host, raw
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := a.client().Init(ctx, &adapterv1.InitRequest{ConfigJson: raw}); err != nil {
		return fmt.Errorf("remote adapter %s: Init: %w", a.info.ID, fromRPC(err))
	}
	return nil
}

// Start implements gateway.Adapter: it opens the Host stream, starts the
// adapter and keeps both up until Stop.
func (a *Adapter) Start(ctx context.Context) error {
	a.mu.Lock()
	if a.host == nil {
		a.mu.Unlock()
		return fmt.Errorf("remote adapter %s: Start before Init", a.info.ID)
	}
	if a.started {
		a.mu.Unlock()
		return nil
	}
	a.started = true
	a.life, a.stop = context.WithCancel(context.WithoutCancel(ctx))
	a.done = make(chan struct{})
	a.mu.Unlock()
	link, err := a.openHost()
	if err == nil {
		_, err = a.client().Start(ctx, &adapterv1.StartRequest{})
		err = fromRPC(err)
	}
	if err != nil {
		a.stop()
		a.mu.Lock()
		a.started = false
		a.mu.Unlock()
		return fmt.Errorf("remote adapter %s: Start: %w", a.info.ID, err)
	}
	go a.supervise(link)
	return nil
}

// hostLink is one open Host stream and what ends it.
type hostLink struct {
	stream adapterv1.AdapterService_HostClient
	ctx    context.Context
	cancel context.CancelFunc
}

// openHost opens the Host stream and waits for the adapter's hello, so
// that the adapter has the stream before Start (or a restart) makes it
// emit or read its key-value space.
func (a *Adapter) openHost() (hostLink, error) {
	ctx, cancel := context.WithCancel(a.life)
	stream, err := a.client().Host(ctx)
	if err == nil {
		err = stream.Send(&adapterv1.HostMessage{})
	}
	var hello *adapterv1.AdapterMessage
	if err == nil {
		// The adapter's first message says it took the stream.
		hello, err = stream.Recv()
	}
	if err != nil {
		cancel()
		return hostLink{}, fromRPC(err)
	}
	if hello.GetSeq() != 0 || hello.GetKind() != nil {
		cancel()
		return hostLink{}, fmt.Errorf("the Host stream's first message is not the empty hello: %w", errMalformed)
	}
	a.mu.Lock()
	close(a.ready)
	a.mu.Unlock()
	return hostLink{stream: stream, ctx: ctx, cancel: cancel}, nil
}

// SetHealthInterval sets how often the host checks that the adapter
// answers (default 5 s); call it before Start.
func (a *Adapter) SetHealthInterval(d time.Duration) {
	a.mu.Lock()
	a.health = d
	a.mu.Unlock()
}

// healthCheck asks the adapter for its Info every interval while link is
// up; a child that exited, or two checks in a row without an answer,
// end the link (the supervisor then restarts the adapter).
func (a *Adapter) healthCheck(link hostLink) {
	a.mu.Lock()
	every := a.health
	a.mu.Unlock()
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-link.ctx.Done():
			return
		case <-t.C:
		}
		if !a.t.alive() {
			a.log.Warn("remote adapter: the child exited")
			link.cancel()
			return
		}
		ctx, cancel := context.WithTimeout(link.ctx, max(every, time.Second))
		_, err := a.client().Info(ctx, &adapterv1.InfoRequest{})
		cancel()
		if err == nil {
			failed = 0
			continue
		}
		if link.ctx.Err() != nil {
			return
		}
		if failed++; failed >= 2 {
			a.log.Warn("remote adapter: health check failed; dropping it", "err", fromRPC(err))
			link.cancel()
			return
		}
	}
}

// supervise serves the Host stream; when it breaks it restarts (child) or
// redials (remote) the adapter with backoff and restores its sessions.
func (a *Adapter) supervise(link hostLink) {
	defer close(a.done)
	backoff := 50 * time.Millisecond
	for {
		go a.healthCheck(link)
		err := newHostServer(a, link.stream).run(link.ctx)
		link.cancel()
		if a.life.Err() != nil {
			return
		}
		a.mu.Lock()
		a.ready = make(chan struct{})
		a.mu.Unlock()
		a.log.Warn("remote adapter: the Host stream broke; restoring the adapter", "err", err)
		a.outage("the platform adapter went away; reconnecting")
		for {
			link, err = a.recover()
			if err == nil {
				backoff = 50 * time.Millisecond
				break
			}
			a.log.Warn("remote adapter: restoring failed", "err", err, "retry_in", backoff)
			select {
			case <-a.life.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// outage tells the hub that the connected sessions are down for now.
func (a *Adapter) outage(detail string) {
	a.mu.Lock()
	var accts []ids.AccountID
	for acct, s := range a.sessions {
		if s.wantConnected() {
			accts = append(accts, acct)
		}
	}
	host := a.host
	a.mu.Unlock()
	a.log.Info("remote adapter: telling the hub of the outage", "accounts", len(accts))
	for _, acct := range accts {
		host.SetState(a.life, acct, event.StateDisconnected, detail)
	}
}

// recover brings the adapter back: a restart when the child exited or
// does not answer, then Init, the Host stream, Start, and the sessions.
func (a *Adapter) recover() (hostLink, error) {
	ctx, cancel := context.WithTimeout(a.life, 30*time.Second)
	defer cancel()
	// Whether the adapter still answers or not, the host no longer knows
	// what it holds: launch (or dial) it afresh, then restore it.
	if err := a.t.restart(ctx); err != nil {
		return hostLink{}, fmt.Errorf("restart: %w", err)
	}
	a.mu.Lock()
	a.restarts++
	cfg := a.cfg
	a.mu.Unlock()
	if _, err := a.client().Init(ctx, &adapterv1.InitRequest{ConfigJson: cfg}); err != nil {
		return hostLink{}, fmt.Errorf("Init: %w", fromRPC(err))
	}
	link, err := a.openHost()
	if err != nil {
		return hostLink{}, fmt.Errorf("Host stream: %w", err)
	}
	if _, err := a.client().Start(ctx, &adapterv1.StartRequest{}); err != nil {
		link.cancel()
		return hostLink{}, fmt.Errorf("Start: %w", fromRPC(err))
	}
	// The sessions are restored once the new Host stream is served (they
	// read their key-value space through it).
	go a.restoreSessions()
	return link, nil
}

// restoreSessions loads again, and connects again, the sessions the hub
// had loaded before the adapter went away.
func (a *Adapter) restoreSessions() {
	ctx, cancel := context.WithTimeout(a.life, 30*time.Second)
	defer cancel()
	a.mu.Lock()
	sessions := make([]*session, 0, len(a.sessions))
	for _, s := range a.sessions {
		sessions = append(sessions, s)
	}
	a.mu.Unlock()
	for _, s := range sessions {
		if err := s.reload(ctx); err != nil {
			a.log.Warn("remote adapter: session not restored", "account", s.acct, "err", err)
			continue
		}
		if s.wantConnected() {
			s.Connect(a.life)
		}
	}
	a.log.Info("remote adapter restored", "sessions", len(sessions))
}

// waitReady waits until a Host stream is up (after a restart).
func (a *Adapter) waitReady(ctx context.Context) error {
	a.mu.Lock()
	ch := a.ready
	a.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("remote adapter %s not ready: %w", a.info.ID, gateway.ErrUnavailable)
	}
}

// Stop implements gateway.Adapter: it stops the adapter and closes the
// connection (a child process exits).
func (a *Adapter) Stop(ctx context.Context) error {
	a.mu.Lock()
	started := a.started
	a.started = false
	stop, done := a.stop, a.done
	a.mu.Unlock()
	var err error
	if started {
		if _, rerr := a.client().Stop(ctx, &adapterv1.StopRequest{}); rerr != nil {
			err = fmt.Errorf("remote adapter %s: Stop: %w", a.info.ID, fromRPC(rerr))
		}
		stop()
		<-done
	}
	return errors.Join(err, a.t.close())
}

// LoginFlows implements gateway.Adapter.
func (a *Adapter) LoginFlows() []gateway.LoginFlow {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	r, err := a.client().LoginFlows(ctx, &adapterv1.LoginFlowsRequest{})
	if err != nil {
		a.log.Warn("remote adapter: LoginFlows failed", "err", fromRPC(err))
		return nil
	}
	return flowsFromProto(r.GetFlows())
}

// NewLogin implements gateway.Adapter: one Login stream per flow.
func (a *Adapter) NewLogin(ctx context.Context, owner ids.Owner, flow string) (gateway.Login, error) {
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stream, err := a.client().Login(lctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("remote adapter %s: login: %w", a.info.ID, fromRPC(err))
	}
	l := &login{stream: stream, cancel: cancel}
	if _, err := l.do(ctx, &adapterv1.LoginRequest{Request: &adapterv1.LoginRequest_Begin{Begin: &adapterv1.LoginBegin{Owner: string(owner), Flow: flow}}}, false); err != nil {
		l.Cancel()
		return nil, err
	}
	return l, nil
}

// LoadSession implements gateway.Adapter.
func (a *Adapter) LoadSession(ctx context.Context, account ids.AccountID) (gateway.Session, error) {
	s := &session{a: a, acct: account}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.sessions[account] = s
	a.mu.Unlock()
	return s.typed(), nil
}
