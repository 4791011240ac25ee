package remote

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// ErrUnauthenticated: the adapter refused the gateway's credentials: its
// token or client certificate, or their absence.
var ErrUnauthenticated = errors.New("the adapter refused the gateway's credentials")

// sentinel is one hub sentinel error with its protocol reason and status
// code.
type sentinel struct {
	err    error
	reason adapterv1.ErrorDetail_Reason
	code   codes.Code
}

// sentinels maps the hub's sentinel errors (and the store's ErrNotFound,
// which an adapter's key-value Get returns) one to one to protocol reasons.
// Order matters when encoding: errors that wrap another sentinel
// (ErrTooFast wraps ErrRateLimited, ErrOverLimit wraps ErrBadRequest) come
// before it.
var sentinels = []sentinel{
	{gateway.ErrTooFast, adapterv1.ErrorDetail_REASON_TOO_FAST, codes.ResourceExhausted},
	{gateway.ErrOverLimit, adapterv1.ErrorDetail_REASON_OVER_LIMIT, codes.InvalidArgument},
	{gateway.ErrNotSupported, adapterv1.ErrorDetail_REASON_NOT_SUPPORTED, codes.Unimplemented},
	{gateway.ErrNotLinked, adapterv1.ErrorDetail_REASON_NOT_LINKED, codes.FailedPrecondition},
	{gateway.ErrNotRegistered, adapterv1.ErrorDetail_REASON_NOT_REGISTERED, codes.FailedPrecondition},
	{gateway.ErrUnknownChat, adapterv1.ErrorDetail_REASON_UNKNOWN_CHAT, codes.NotFound},
	{gateway.ErrTargetNotFound, adapterv1.ErrorDetail_REASON_TARGET_NOT_FOUND, codes.NotFound},
	{gateway.ErrForbidden, adapterv1.ErrorDetail_REASON_FORBIDDEN, codes.PermissionDenied},
	{gateway.ErrRateLimited, adapterv1.ErrorDetail_REASON_RATE_LIMITED, codes.ResourceExhausted},
	{gateway.ErrBadRequest, adapterv1.ErrorDetail_REASON_BAD_REQUEST, codes.InvalidArgument},
	{gateway.ErrNotAcceptable, adapterv1.ErrorDetail_REASON_NOT_ACCEPTABLE, codes.OutOfRange},
	{gateway.ErrRemoteNotFound, adapterv1.ErrorDetail_REASON_REMOTE_NOT_FOUND, codes.NotFound},
	{gateway.ErrRemoteTimeout, adapterv1.ErrorDetail_REASON_REMOTE_TIMEOUT, codes.DeadlineExceeded},
	{gateway.ErrUnavailable, adapterv1.ErrorDetail_REASON_UNAVAILABLE, codes.Unavailable},
	{gateway.ErrNotDurable, adapterv1.ErrorDetail_REASON_NOT_DURABLE, codes.Aborted},
	{store.ErrNotFound, adapterv1.ErrorDetail_REASON_KEY_NOT_FOUND, codes.NotFound},
}

// toStatus turns err into the protocol's Status: the first sentinel in its
// chain gives the reason and code, an Explained its sentence; a context
// error keeps its own code; anything else is UNKNOWN.
func toStatus(err error) *adapterv1.Status {
	if err == nil {
		return nil
	}
	st := &adapterv1.Status{Code: int32(codes.Unknown), Message: err.Error(), Detail: &adapterv1.ErrorDetail{}}
	switch {
	case errors.Is(err, context.Canceled):
		st.Code = int32(codes.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		st.Code = int32(codes.DeadlineExceeded)
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			st.Code, st.Detail.Reason = int32(s.code), s.reason
			break
		}
	}
	if text, ok := gateway.ExplainedText(err); ok {
		st.Detail.Explained = text
	}
	return st
}

// fromStatus turns a protocol Status back into an error that wraps the
// sentinel it names (and an Explained with its sentence). A reason this
// version does not know, or none, gives a plain error with the code.
func fromStatus(st *adapterv1.Status) error {
	if st == nil {
		return nil
	}
	var err error
	reason := st.GetDetail().GetReason()
	for _, s := range sentinels {
		if s.reason == reason {
			err = &remoteError{msg: st.GetMessage(), sentinel: s.err}
			break
		}
	}
	if err == nil {
		re := &remoteError{msg: st.GetMessage(), code: codes.Code(st.GetCode())}
		switch re.code {
		case codes.Canceled:
			re.sentinel = context.Canceled
		case codes.DeadlineExceeded:
			re.sentinel = context.DeadlineExceeded
		}
		err = re
	}
	if text := st.GetDetail().GetExplained(); text != "" {
		err = gateway.Explain(text, err)
	}
	return err
}

// remoteError is an error that came over the wire.
type remoteError struct {
	msg      string
	sentinel error
	code     codes.Code
}

func (e *remoteError) Error() string {
	if e.sentinel == nil || e.code != codes.OK {
		return fmt.Sprintf("adapter: %s (%s)", e.msg, e.code)
	}
	return "adapter: " + e.msg
}

// Unwrap returns the sentinel, so that errors.Is finds it.
func (e *remoteError) Unwrap() error { return e.sentinel }

// rpcError turns err into a gRPC status error for an RPC's return, with
// the Status as its detail.
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	st := toStatus(err)
	s := status.New(codes.Code(st.Code), st.Message)
	if d, derr := s.WithDetails(st.Detail); derr == nil {
		s = d
	}
	return s.Err()
}

// fromRPC turns an error of a gRPC call into the hub's terms: the sentinel
// the status names; a status without detail keeps its code (UNAVAILABLE:
// the adapter is unreachable, ErrUnavailable).
func fromRPC(err error) error {
	if err == nil {
		return nil
	}
	s, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("adapter: %w", err)
	}
	for _, d := range s.Details() {
		if ed, ok := d.(*adapterv1.ErrorDetail); ok {
			return fromStatus(&adapterv1.Status{Code: int32(s.Code()), Message: s.Message(), Detail: ed})
		}
	}
	switch s.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("%s: %w", s.Message(), ErrUnauthenticated)
	case codes.Unavailable:
		return fmt.Errorf("adapter unreachable: %s: %w", s.Message(), gateway.ErrUnavailable)
	case codes.Canceled:
		return fmt.Errorf("adapter: %s: %w", s.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("adapter: %s: %w", s.Message(), context.DeadlineExceeded)
	}
	return &remoteError{msg: s.Message(), code: s.Code()}
}
