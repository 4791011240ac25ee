package remote

import (
	"context"
	"fmt"
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// login is the host side of a login flow: one Login stream, one reply
// per request.
type login struct {
	mu     sync.Mutex
	stream adapterv1.AdapterService_LoginClient
	cancel context.CancelFunc
	done   bool
}

var _ gateway.Login = (*login)(nil)

// do sends req and reads its reply; wantStep: the reply must carry a step.
// ctx ending abandons the flow (the stream cannot be resumed mid-reply).
func (l *login) do(ctx context.Context, req *adapterv1.LoginRequest, wantStep bool) (gateway.LoginStep, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return gateway.LoginStep{}, fmt.Errorf("login: the flow was cancelled: %w", gateway.ErrBadRequest)
	}
	stop := context.AfterFunc(ctx, l.cancel)
	defer stop()
	if err := l.stream.Send(req); err != nil {
		return gateway.LoginStep{}, l.fail(ctx, err)
	}
	r, err := l.stream.Recv()
	if err != nil {
		return gateway.LoginStep{}, l.fail(ctx, err)
	}
	if err := fromStatus(r.GetError()); err != nil {
		return gateway.LoginStep{}, err
	}
	if !wantStep {
		return gateway.LoginStep{}, nil
	}
	if r.GetStep() == nil {
		return gateway.LoginStep{}, fmt.Errorf("login reply without a step: %w", errMalformed)
	}
	return stepFromProto(r.GetStep())
}

func (l *login) fail(ctx context.Context, err error) error {
	l.done = true
	if ctx.Err() != nil {
		return fmt.Errorf("login: %w", ctx.Err())
	}
	return fmt.Errorf("login: %w", fromRPC(err))
}

// Start implements gateway.Login.
func (l *login) Start(ctx context.Context) (gateway.LoginStep, error) {
	return l.do(ctx, &adapterv1.LoginRequest{Request: &adapterv1.LoginRequest_Start{Start: &adapterv1.Empty{}}}, true)
}

// Submit implements gateway.Login.
func (l *login) Submit(ctx context.Context, input map[string]string) (gateway.LoginStep, error) {
	return l.do(ctx, &adapterv1.LoginRequest{Request: &adapterv1.LoginRequest_Submit{Submit: &adapterv1.LoginSubmit{Input: input}}}, true)
}

// Wait implements gateway.Login.
func (l *login) Wait(ctx context.Context) (gateway.LoginStep, error) {
	return l.do(ctx, &adapterv1.LoginRequest{Request: &adapterv1.LoginRequest_Wait{Wait: &adapterv1.Empty{}}}, true)
}

// Cancel implements gateway.Login: it closes the stream, which abandons
// the flow on the adapter's side.
func (l *login) Cancel() {
	go func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.done {
			l.done = true
			_ = l.stream.Send(&adapterv1.LoginRequest{Request: &adapterv1.LoginRequest_Cancel{Cancel: &adapterv1.Empty{}}})
			_ = l.stream.CloseSend()
		}
	}()
	l.cancel()
}
