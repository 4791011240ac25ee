package mgmt

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// errorCodes maps each hub sentinel error to one gRPC code (and so, through
// grpc-gateway, to one HTTP status). It is the only place where hub errors
// become API errors.
var errorCodes = []struct {
	err  error
	code codes.Code
}{
	{gateway.ErrBadRequest, codes.InvalidArgument},
	{gateway.ErrNotRegistered, codes.NotFound},
	{gateway.ErrUnknownChat, codes.NotFound},
	{gateway.ErrTargetNotFound, codes.NotFound},
	{gateway.ErrNotLinked, codes.FailedPrecondition},
	{gateway.ErrForbidden, codes.PermissionDenied},
	{gateway.ErrRateLimited, codes.ResourceExhausted},
	{gateway.ErrUnavailable, codes.Unavailable},
	{gateway.ErrRemoteNotFound, codes.FailedPrecondition},
	{gateway.ErrRemoteTimeout, codes.DeadlineExceeded},
	{gateway.ErrNotSupported, codes.Unimplemented},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
	{context.Canceled, codes.Canceled},
}

// toStatus turns an error of the hub into a gRPC status error. Errors that
// are not hub sentinels are Internal and logged; operators see their text
// too (it names what failed, never a secret).
func toStatus(log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return status.Error(m.code, err.Error())
		}
	}
	log.Error("api: request failed", "method", method, "err", err)
	return status.Error(codes.Internal, err.Error())
}
