package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// ProtocolVersion is the version of proto/drawbridge/adapter/v1.
const ProtocolVersion = 1

// chunkSize is the largest chunk of a file on the wire.
const chunkSize = 64 << 10

// Server serves a gateway.Adapter over the adapter protocol: the adapter
// side of the SDK. The adapter sees a gateway.Host as in process; its
// calls travel to the gateway on the Host stream.
type Server struct {
	adapterv1.UnimplementedAdapterServiceServer

	a    gateway.Adapter
	host *hostProxy
	refs *refTable

	// life is the context of the adapter's connections: an RPC's context
	// ends with the RPC, a session's connection must not.
	life   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	handles map[string]gateway.Session // by session handle
	newest  map[ids.AccountID]string   // the account's newest handle
	nextID  uint64
}

// NewServer wraps a (not yet initialised) adapter. log receives the
// adapter's log while no gateway is attached.
func NewServer(a gateway.Adapter, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	life, cancel := context.WithCancel(context.Background())
	s := &Server{a: a, refs: newRefTable(1024), life: life, cancel: cancel, handles: map[string]gateway.Session{}, newest: map[ids.AccountID]string{}}
	s.host = newHostProxy(log, s.refs)
	return s
}

// Register adds the service to g.
func (s *Server) Register(g *grpc.Server) { adapterv1.RegisterAdapterServiceServer(g, s) }

// Close ends the sessions' contexts. It does not stop the adapter (the
// gateway calls Stop).
func (s *Server) Close() { s.cancel() }

// Info implements the protocol.
func (s *Server) Info(context.Context, *adapterv1.InfoRequest) (*adapterv1.InfoResponse, error) {
	i := s.a.Info()
	return &adapterv1.InfoResponse{Id: string(i.ID), Name: i.Name, GatewayType: i.GatewayType, UserPrompt: i.UserPrompt, NotBridged: i.NotBridged, ProtocolVersion: ProtocolVersion}, nil
}

// Init implements the protocol.
func (s *Server) Init(_ context.Context, r *adapterv1.InitRequest) (*adapterv1.InitResponse, error) {
	var cfg map[string]any
	if len(r.GetConfigJson()) > 0 {
		if err := json.Unmarshal(r.GetConfigJson(), &cfg); err != nil {
			return nil, rpcError(fmt.Errorf("configuration section is not a JSON object: %v: %w", err, gateway.ErrBadRequest))
		}
	}
	return &adapterv1.InitResponse{}, rpcError(s.a.Init(s.host, cfg))
}

// Start implements the protocol.
func (s *Server) Start(context.Context, *adapterv1.StartRequest) (*adapterv1.StartResponse, error) {
	return &adapterv1.StartResponse{}, rpcError(s.a.Start(s.life))
}

// Stop implements the protocol.
func (s *Server) Stop(ctx context.Context, _ *adapterv1.StopRequest) (*adapterv1.StopResponse, error) {
	err := s.a.Stop(ctx)
	s.mu.Lock()
	clear(s.handles)
	clear(s.newest)
	s.mu.Unlock()
	return &adapterv1.StopResponse{}, rpcError(err)
}

// LoginFlows implements the protocol.
func (s *Server) LoginFlows(context.Context, *adapterv1.LoginFlowsRequest) (*adapterv1.LoginFlowsResponse, error) {
	return &adapterv1.LoginFlowsResponse{Flows: flowsToProto(s.a.LoginFlows())}, nil
}

// Login implements the protocol: one flow per stream.
func (s *Server) Login(stream grpc.BidiStreamingServer[adapterv1.LoginRequest, adapterv1.LoginReply]) error {
	ctx := stream.Context()
	var l gateway.Login
	defer func() {
		if l != nil {
			l.Cancel()
		}
	}()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var step gateway.LoginStep
		switch r := req.GetRequest().(type) {
		case *adapterv1.LoginRequest_Begin:
			if l != nil {
				err = fmt.Errorf("login: begin sent twice: %w", gateway.ErrBadRequest)
				break
			}
			l, err = s.a.NewLogin(ctx, ids.Owner(r.Begin.GetOwner()), r.Begin.GetFlow())
			if err := stream.Send(&adapterv1.LoginReply{Error: toStatus(err)}); err != nil {
				return err
			}
			continue
		case *adapterv1.LoginRequest_Cancel:
			if l != nil {
				l.Cancel()
			}
			return nil
		default:
			if l == nil {
				err = fmt.Errorf("login: a step before begin: %w", gateway.ErrBadRequest)
				break
			}
			switch r := r.(type) {
			case *adapterv1.LoginRequest_Start:
				step, err = l.Start(ctx)
			case *adapterv1.LoginRequest_Submit:
				step, err = l.Submit(ctx, r.Submit.GetInput())
			case *adapterv1.LoginRequest_Wait:
				step, err = l.Wait(ctx)
			default:
				err = fmt.Errorf("login: empty request: %w", gateway.ErrBadRequest)
			}
		}
		reply := &adapterv1.LoginReply{Error: toStatus(err)}
		if err == nil {
			reply.Step = stepToProto(step)
		}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
}

// features lists what sess implements, as data.
func features(sess gateway.Session) []adapterv1.Feature {
	var f []adapterv1.Feature
	add := func(ok bool, v adapterv1.Feature) {
		if ok {
			f = append(f, v)
		}
	}
	_, ok := sess.(gateway.ReceiptSender)
	add(ok, adapterv1.Feature_FEATURE_RECEIPTS)
	_, ok = sess.(gateway.ChatStateSender)
	add(ok, adapterv1.Feature_FEATURE_CHAT_STATES)
	_, ok = sess.(gateway.Editor)
	add(ok, adapterv1.Feature_FEATURE_EDITS)
	_, ok = sess.(gateway.Retracter)
	add(ok, adapterv1.Feature_FEATURE_RETRACTIONS)
	_, ok = sess.(gateway.Reactor)
	add(ok, adapterv1.Feature_FEATURE_REACTIONS)
	_, ok = sess.(gateway.AvatarGetter)
	add(ok, adapterv1.Feature_FEATURE_AVATARS)
	_, ok = sess.(gateway.ContactLister)
	add(ok, adapterv1.Feature_FEATURE_CONTACTS)
	_, ok = sess.(gateway.UserResolver)
	add(ok, adapterv1.Feature_FEATURE_RESOLVER)
	_, ok = sess.(gateway.GroupManager)
	add(ok, adapterv1.Feature_FEATURE_GROUPS)
	return f
}

// LoadSession implements the protocol: each call gives a new handle, as
// the contract gives a new Session (the adapter supersedes the previous
// one).
func (s *Server) LoadSession(ctx context.Context, r *adapterv1.LoadSessionRequest) (*adapterv1.SessionDescription, error) {
	acct := ids.AccountID(r.GetAccount())
	sess, err := s.a.LoadSession(ctx, acct)
	if err != nil {
		return nil, rpcError(err)
	}
	s.mu.Lock()
	s.nextID++
	handle := fmt.Sprintf("%s#%d", acct, s.nextID)
	s.handles[handle] = sess
	s.newest[acct] = handle
	s.mu.Unlock()
	return &adapterv1.SessionDescription{Account: string(acct), Session: handle, Features: features(sess),
		DirectCapabilities: capsToProto(sess.Capabilities(ids.DirectChat("")))}, nil
}

// session returns the session named by handle (empty: the account's
// newest); NOT_LINKED for one never loaded here (the host loads it again
// after an adapter restart) or of another account.
func (s *Server) session(account, handle string) (gateway.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if handle == "" {
		handle = s.newest[ids.AccountID(account)]
	}
	sess, ok := s.handles[handle]
	if !ok || !strings.HasPrefix(handle, account+"#") {
		return nil, fmt.Errorf("session %q of %q not loaded: %w", handle, account, gateway.ErrNotLinked)
	}
	return sess, nil
}

// Connect implements the protocol.
func (s *Server) Connect(_ context.Context, r *adapterv1.SessionRequest) (*adapterv1.Empty, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	sess.Connect(s.life)
	return &adapterv1.Empty{}, nil
}

// Disconnect implements the protocol.
func (s *Server) Disconnect(_ context.Context, r *adapterv1.SessionRequest) (*adapterv1.Empty, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	sess.Disconnect()
	return &adapterv1.Empty{}, nil
}

// Logout implements the protocol.
func (s *Server) Logout(ctx context.Context, r *adapterv1.SessionRequest) (*adapterv1.Empty, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	if err := sess.Logout(ctx); err != nil {
		return nil, rpcError(err)
	}
	s.mu.Lock()
	for h := range s.handles {
		if strings.HasPrefix(h, r.GetAccount()+"#") {
			delete(s.handles, h)
		}
	}
	delete(s.newest, ids.AccountID(r.GetAccount()))
	s.mu.Unlock()
	return &adapterv1.Empty{}, nil
}

// Capabilities implements the protocol.
func (s *Server) Capabilities(_ context.Context, r *adapterv1.ChatRequest) (*adapterv1.ChatCapabilities, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	chat := ids.ChatID(r.GetChat())
	out := &adapterv1.ChatCapabilities{Capabilities: capsToProto(sess.Capabilities(chat))}
	if gm, ok := sess.(gateway.GroupManager); ok {
		out.Group = gm.IsGroup(chat)
	}
	return out, nil
}

// SendMessage implements the protocol.
func (s *Server) SendMessage(ctx context.Context, r *adapterv1.SendMessageRequest) (*adapterv1.SendMessageResponse, error) {
	ev, err := eventFromProto(r.GetEvent(), s.host.hostFile)
	if err != nil {
		return nil, rpcError(err)
	}
	msg, ok := ev.(*event.Message)
	if !ok {
		return nil, rpcError(fmt.Errorf("SendMessage with a %T: %w", ev, errMalformed))
	}
	sess, err := s.session(string(msg.Account), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	id, err := sess.SendMessage(ctx, msg)
	if err != nil {
		return nil, rpcError(err)
	}
	return &adapterv1.SendMessageResponse{Id: string(id)}, nil
}

// SendEvent implements the protocol.
func (s *Server) SendEvent(ctx context.Context, r *adapterv1.SendEventRequest) (*adapterv1.Empty, error) {
	ev, err := eventFromProto(r.GetEvent(), nil)
	if err != nil {
		return nil, rpcError(err)
	}
	sess, err := s.session(string(ev.EventMeta().Account), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	unsupported := fmt.Errorf("%T: %w", ev, gateway.ErrNotSupported)
	switch e := ev.(type) {
	case *event.Edit:
		if x, ok := sess.(gateway.Editor); ok {
			err = x.EditMessage(ctx, e)
		} else {
			err = unsupported
		}
	case *event.Retract:
		if x, ok := sess.(gateway.Retracter); ok {
			err = x.RetractMessage(ctx, e)
		} else {
			err = unsupported
		}
	case *event.Reaction:
		if x, ok := sess.(gateway.Reactor); ok {
			err = x.SendReaction(ctx, e)
		} else {
			err = unsupported
		}
	case *event.Receipt:
		if x, ok := sess.(gateway.ReceiptSender); ok {
			err = x.SendReceipt(ctx, e)
		} else {
			err = unsupported
		}
	case *event.ChatState:
		if x, ok := sess.(gateway.ChatStateSender); ok {
			err = x.SendChatState(ctx, e)
		} else {
			err = unsupported
		}
	default:
		err = unsupported
	}
	if err != nil {
		return nil, rpcError(err)
	}
	return &adapterv1.Empty{}, nil
}

// GetAvatar implements the protocol.
func (s *Server) GetAvatar(ctx context.Context, r *adapterv1.UserRequest) (*adapterv1.Avatar, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	if r.GetGroup() != "" {
		gg, ok := sess.(gateway.GroupAvatarGetter)
		if !ok {
			return nil, rpcError(fmt.Errorf("group avatars: %w", gateway.ErrNotSupported))
		}
		av, err := gg.GetGroupAvatar(ctx, ids.ChatID(r.GetGroup()))
		if err != nil {
			return nil, rpcError(err)
		}
		return &adapterv1.Avatar{Hash: av.Hash, MimeType: av.MIMEType, Data: av.Data}, nil
	}
	ag, ok := sess.(gateway.AvatarGetter)
	if !ok {
		return nil, rpcError(fmt.Errorf("avatars: %w", gateway.ErrNotSupported))
	}
	av, err := ag.GetAvatar(ctx, ids.UserID(r.GetUser()))
	if err != nil {
		return nil, rpcError(err)
	}
	return &adapterv1.Avatar{Hash: av.Hash, MimeType: av.MIMEType, Data: av.Data}, nil
}

// ListContacts implements the protocol.
func (s *Server) ListContacts(ctx context.Context, r *adapterv1.SessionRequest) (*adapterv1.ContactList, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	cl, ok := sess.(gateway.ContactLister)
	if !ok {
		return nil, rpcError(fmt.Errorf("contacts: %w", gateway.ErrNotSupported))
	}
	cs, err := cl.ListContacts(ctx)
	if err != nil {
		return nil, rpcError(err)
	}
	out := &adapterv1.ContactList{}
	for _, c := range cs {
		pe, err := eventToProto(c, nil)
		if err != nil {
			return nil, rpcError(err)
		}
		out.Contacts = append(out.Contacts, pe)
	}
	return out, nil
}

// ResolveUser implements the protocol.
func (s *Server) ResolveUser(ctx context.Context, r *adapterv1.ResolveUserRequest) (*adapterv1.ResolveUserResponse, error) {
	var res gateway.UserResolver
	if r.GetAccount() == "" {
		res, _ = s.a.(gateway.UserResolver)
	} else {
		sess, err := s.session(r.GetAccount(), r.GetSession())
		if err != nil {
			return nil, rpcError(err)
		}
		res, _ = sess.(gateway.UserResolver)
	}
	if res == nil {
		return nil, rpcError(fmt.Errorf("resolving users: %w", gateway.ErrNotSupported))
	}
	u, err := res.ResolveUser(ctx, r.GetInput())
	if err != nil {
		return nil, rpcError(err)
	}
	return &adapterv1.ResolveUserResponse{User: string(u)}, nil
}

// Group implements the protocol.
func (s *Server) Group(ctx context.Context, r *adapterv1.GroupRequest) (*adapterv1.GroupResponse, error) {
	sess, err := s.session(r.GetAccount(), r.GetSession())
	if err != nil {
		return nil, rpcError(err)
	}
	gm, ok := sess.(gateway.GroupManager)
	if !ok {
		return nil, rpcError(fmt.Errorf("group chats: %w", gateway.ErrNotSupported))
	}
	chat := ids.ChatID(r.GetChat())
	out := &adapterv1.GroupResponse{}
	switch c := r.GetCall().(type) {
	case *adapterv1.GroupRequest_List:
		var gs []gateway.GroupInfo
		gs, err = gm.ListGroups(ctx)
		for _, g := range gs {
			out.Groups = append(out.Groups, groupToProto(g))
		}
	case *adapterv1.GroupRequest_Info:
		var g gateway.GroupInfo
		g, err = gm.GroupInfo(ctx, chat)
		out.Groups = []*adapterv1.GroupInfo{groupToProto(g)}
	case *adapterv1.GroupRequest_SetTopic:
		err = gm.SetGroupTopic(ctx, chat, c.SetTopic)
	case *adapterv1.GroupRequest_RemoveMember:
		err = gm.RemoveMember(ctx, chat, ids.UserID(c.RemoveMember))
	case *adapterv1.GroupRequest_SetRole:
		err = gm.SetMemberRole(ctx, chat, ids.UserID(c.SetRole.GetUser()), gateway.GroupRole(c.SetRole.GetRole()))
	case *adapterv1.GroupRequest_AddMember:
		err = gm.AddMember(ctx, chat, ids.UserID(c.AddMember))
	case *adapterv1.GroupRequest_Leave:
		err = gm.LeaveGroup(ctx, chat)
	case *adapterv1.GroupRequest_Create:
		var id ids.ChatID
		id, err = gm.CreateGroup(ctx, c.Create.GetName(), typed[ids.UserID](c.Create.GetMembers()))
		out.Chat = string(id)
	default:
		err = fmt.Errorf("group request without a call: %w", errMalformed)
	}
	if err != nil {
		return nil, rpcError(err)
	}
	return out, nil
}

// OpenAttachment implements the protocol.
func (s *Server) OpenAttachment(r *adapterv1.OpenAttachmentRequest, stream grpc.ServerStreamingServer[adapterv1.Chunk]) error {
	open, ok := s.refs.get(r.GetRef())
	if !ok {
		return rpcError(fmt.Errorf("attachment %q: unknown or expired reference: %w", r.GetRef(), gateway.ErrTargetNotFound))
	}
	rc, err := open(stream.Context())
	if err != nil {
		return rpcError(err)
	}
	defer func() { _ = rc.Close() }()
	buf := make([]byte, chunkSize)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if serr := stream.Send(&adapterv1.Chunk{Data: buf[:n]}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return rpcError(err)
		}
	}
}

// Host implements the protocol: the gateway's stream back.
func (s *Server) Host(stream grpc.BidiStreamingServer[adapterv1.HostMessage, adapterv1.AdapterMessage]) error {
	return s.host.serve(stream)
}
