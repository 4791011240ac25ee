package mgmt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"mellium.im/xmpp/jid"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// DefaultFlowLimit bounds how long one LinkAccount stream may run.
const DefaultFlowLimit = 10 * time.Minute

// service implements adminv1.AdminServiceServer on the hub's admin use
// cases.
type service struct {
	adminv1.UnimplementedAdminServiceServer
	admin     *gateway.Admin
	flows     flows
	flowLimit time.Duration
	log       *slog.Logger
	// cluster reads the cluster's status (cluster.go); nil: single process.
	cluster ClusterReader
}

var _ adminv1.AdminServiceServer = (*service)(nil)

// parseOwner checks and normalises an owner: a bare JID, lower-cased the
// way XMPP servers do.
func parseOwner(s string) (ids.Owner, error) {
	if s == "" {
		return "", fmt.Errorf("owner is required (a bare JID, user@domain): %w", gateway.ErrBadRequest)
	}
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("owner %q is not a JID: %v: %w", s, err, gateway.ErrBadRequest)
	}
	if j.Localpart() == "" || j.Resourcepart() != "" {
		return "", fmt.Errorf("owner %q is not a bare JID (user@domain): %w", s, gateway.ErrBadRequest)
	}
	return ids.Owner(j.Bare().String()), nil
}

func (s *service) fail(method string, err error) error { return toStatus(s.log, method, err) }

func (s *service) ListAccounts(ctx context.Context, req *adminv1.ListAccountsRequest) (*adminv1.ListAccountsResponse, error) {
	var platform ids.PlatformID
	if req.GetPlatform() != "" {
		p, err := s.admin.Platform(ids.PlatformID(req.GetPlatform()))
		if err != nil {
			return nil, s.fail("ListAccounts", err)
		}
		platform = p
	}
	accts, err := s.admin.Accounts(ctx, platform, req.GetLinkedOnly())
	if err != nil {
		return nil, s.fail("ListAccounts", err)
	}
	out := &adminv1.ListAccountsResponse{Accounts: make([]*adminv1.Account, 0, len(accts))}
	for _, a := range accts {
		out.Accounts = append(out.Accounts, accountPB(a))
	}
	return out, nil
}

func (s *service) GetAccount(ctx context.Context, req *adminv1.GetAccountRequest) (*adminv1.Account, error) {
	owner, err := parseOwner(req.GetOwner())
	if err != nil {
		return nil, s.fail("GetAccount", err)
	}
	a, err := s.admin.Account(ctx, owner, ids.PlatformID(req.GetPlatform()))
	if err != nil {
		return nil, s.fail("GetAccount", err)
	}
	return accountPB(a), nil
}

func (s *service) UnlinkAccount(ctx context.Context, req *adminv1.UnlinkAccountRequest) (*adminv1.Account, error) {
	owner, err := parseOwner(req.GetOwner())
	if err != nil {
		return nil, s.fail("UnlinkAccount", err)
	}
	a, err := s.admin.Unlink(ctx, owner, ids.PlatformID(req.GetPlatform()))
	if err != nil {
		return nil, s.fail("UnlinkAccount", err)
	}
	s.log.Info("api: account unlinked", "owner", owner, "platform", a.Platform)
	return accountPB(a), nil
}

func (s *service) ListAdapters(context.Context, *adminv1.ListAdaptersRequest) (*adminv1.ListAdaptersResponse, error) {
	out := &adminv1.ListAdaptersResponse{}
	for _, a := range s.admin.Adapters() {
		out.Adapters = append(out.Adapters, adapterPB(a))
	}
	return out, nil
}

func (s *service) GetStatus(ctx context.Context, _ *adminv1.GetStatusRequest) (*adminv1.Status, error) {
	return statusPB(s.admin.Status(ctx)), nil
}

func (s *service) SendTestMessage(ctx context.Context, req *adminv1.SendTestMessageRequest) (*adminv1.SendTestMessageResponse, error) {
	owner, err := parseOwner(req.GetOwner())
	if err != nil {
		return nil, s.fail("SendTestMessage", err)
	}
	to, id, err := s.admin.SendTestMessage(ctx, owner, ids.PlatformID(req.GetPlatform()), req.GetTo(), req.GetBody())
	if err != nil {
		return nil, s.fail("SendTestMessage", err)
	}
	return &adminv1.SendTestMessageResponse{To: string(to), MessageId: string(id)}, nil
}

func (s *service) ReloadConfig(ctx context.Context, _ *adminv1.ReloadConfigRequest) (*adminv1.ReloadConfigResponse, error) {
	r, err := s.admin.Reload(ctx)
	if err != nil {
		return nil, s.fail("ReloadConfig", err)
	}
	s.log.Info("api: configuration reloaded", "applied", r.Applied, "needs_restart", r.NeedsRestart)
	return &adminv1.ReloadConfigResponse{Applied: r.Applied, NeedsRestart: r.NeedsRestart}, nil
}

// LinkAccount drives one login flow and streams its steps. Input steps
// are answered from req.Inputs when they hold every field the step asks
// for, and otherwise by SubmitLoginInput.
func (s *service) LinkAccount(req *adminv1.LinkAccountRequest, stream adminv1.AdminService_LinkAccountServer) error {
	const method = "LinkAccount"
	owner, err := parseOwner(req.GetOwner())
	if err != nil {
		return s.fail(method, err)
	}
	ctx, cancel := context.WithTimeout(stream.Context(), s.flowLimit)
	defer cancel()
	run, step, err := s.admin.StartLink(ctx, owner, ids.PlatformID(req.GetPlatform()), req.GetFlow())
	if err != nil {
		return s.fail(method, err)
	}
	f := s.flows.add()
	defer s.flows.remove(f)
	finished := false
	defer func() {
		if !finished {
			run.Cancel()
		}
	}()
	s.log.Info("api: login flow started", "owner", owner, "flow", f.id)

	pending := make(map[string]string, len(req.GetInputs()))
	for k, v := range req.GetInputs() {
		pending[k] = v
	}
	problem := ""
	send := func(st gateway.LoginStep) error {
		return stream.Send(stepPB(s.log, f.id, st, problem))
	}
	for {
		switch step.Kind {
		case gateway.StepDone:
			finished = true
			s.log.Info("api: login flow done", "owner", owner, "flow", f.id, "account", step.Account)
			return send(step)
		case gateway.StepQR, gateway.StepCode:
			problem = ""
			if err := send(step); err != nil {
				return err
			}
			step, err = run.Wait(ctx)
			if err != nil {
				return s.flowError(ctx, err)
			}
		case gateway.StepInput:
			next, used, err := s.input(ctx, f, run, step, pending, &problem, send)
			for _, k := range used {
				delete(pending, k)
			}
			switch {
			case errors.Is(err, gateway.ErrBadRequest):
				problem = userText(err)
			case err != nil:
				return s.flowError(ctx, err)
			default:
				problem = ""
				step = next
			}
		default:
			return s.fail(method, fmt.Errorf("login flow produced a step of unknown kind %d", step.Kind))
		}
	}
}

// input answers one INPUT step: from pending when it covers every field
// (and was not refused already), or else by showing the step and waiting
// for SubmitLoginInput. used lists the pending keys it consumed.
func (s *service) input(ctx context.Context, f *flow, run *gateway.LoginRun, step gateway.LoginStep, pending map[string]string, problem *string, send func(gateway.LoginStep) error) (next gateway.LoginStep, used []string, err error) {
	if *problem == "" && covers(pending, step.Fields) {
		values := make(map[string]string, len(step.Fields))
		for _, fl := range step.Fields {
			values[fl.ID] = pending[fl.ID]
			used = append(used, fl.ID)
		}
		next, err = run.Submit(ctx, values)
		return next, used, err
	}
	// Waiting before the client sees the step, so that an answer sent as
	// soon as it arrives is taken.
	f.setWaiting(true)
	defer f.setWaiting(false)
	if err := send(step); err != nil {
		return step, nil, err
	}
	select {
	case sub := <-f.submit:
		f.setWaiting(false)
		values := make(map[string]string, len(step.Fields))
		for _, fl := range step.Fields {
			if v, ok := pending[fl.ID]; ok {
				values[fl.ID] = v
			}
		}
		for k, v := range sub.inputs {
			values[k] = v
		}
		next, err = run.Submit(ctx, values)
		sub.reply <- submitResult{step: next, err: err}
		return next, nil, err
	case <-ctx.Done():
		return step, nil, ctx.Err()
	}
}

// covers reports whether values has a non-empty value for every field.
func covers(values map[string]string, fields []gateway.LoginField) bool {
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		if values[f.ID] == "" {
			return false
		}
	}
	return true
}

// flowError ends a LinkAccount stream.
func (s *service) flowError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return status.Errorf(codes.DeadlineExceeded, "the login flow did not finish within %s", s.flowLimit)
	}
	return s.fail("LinkAccount", err)
}

func (s *service) SubmitLoginInput(ctx context.Context, req *adminv1.SubmitLoginInputRequest) (*adminv1.SubmitLoginInputResponse, error) {
	f, ok := s.flows.get(req.GetFlowId())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no login flow %q is running (it ended, or its LinkAccount stream closed)", req.GetFlowId())
	}
	if !f.isWaiting() {
		return nil, status.Error(codes.FailedPrecondition, "the login flow is not waiting for input now")
	}
	sub := submission{inputs: req.GetInputs(), reply: make(chan submitResult, 1)}
	select {
	case f.submit <- sub:
	case <-f.done:
		return nil, status.Error(codes.FailedPrecondition, "the login flow ended")
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	select {
	case r := <-sub.reply:
		if r.err != nil {
			return nil, s.fail("SubmitLoginInput", r.err)
		}
		return &adminv1.SubmitLoginInputResponse{Next: stepPB(s.log, f.id, r.step, "")}, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// userText is an error's message without the hub sentinel's own words at
// the end (": bad request"), for showing as a step's problem.
func userText(err error) string {
	msg := err.Error()
	suffix := ": " + gateway.ErrBadRequest.Error()
	if len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
		return msg[:len(msg)-len(suffix)]
	}
	return msg
}
