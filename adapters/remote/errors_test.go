package remote

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// TestSentinelMapping: every sentinel error of the hub crosses the wire
// as its own reason and status code and comes back as itself, also when
// wrapped and explained; no two sentinels share a reason.
func TestSentinelMapping(t *testing.T) {
	for _, tc := range []struct {
		err    error
		reason adapterv1.ErrorDetail_Reason
		code   codes.Code
	}{
		{gateway.ErrNotSupported, adapterv1.ErrorDetail_REASON_NOT_SUPPORTED, codes.Unimplemented},
		{gateway.ErrNotLinked, adapterv1.ErrorDetail_REASON_NOT_LINKED, codes.FailedPrecondition},
		{gateway.ErrNotRegistered, adapterv1.ErrorDetail_REASON_NOT_REGISTERED, codes.FailedPrecondition},
		{gateway.ErrUnknownChat, adapterv1.ErrorDetail_REASON_UNKNOWN_CHAT, codes.NotFound},
		{gateway.ErrTargetNotFound, adapterv1.ErrorDetail_REASON_TARGET_NOT_FOUND, codes.NotFound},
		{gateway.ErrForbidden, adapterv1.ErrorDetail_REASON_FORBIDDEN, codes.PermissionDenied},
		{gateway.ErrRateLimited, adapterv1.ErrorDetail_REASON_RATE_LIMITED, codes.ResourceExhausted},
		{gateway.ErrTooFast, adapterv1.ErrorDetail_REASON_TOO_FAST, codes.ResourceExhausted},
		{gateway.ErrOverLimit, adapterv1.ErrorDetail_REASON_OVER_LIMIT, codes.InvalidArgument},
		{gateway.ErrBadRequest, adapterv1.ErrorDetail_REASON_BAD_REQUEST, codes.InvalidArgument},
		{gateway.ErrNotAcceptable, adapterv1.ErrorDetail_REASON_NOT_ACCEPTABLE, codes.OutOfRange},
		{gateway.ErrRemoteNotFound, adapterv1.ErrorDetail_REASON_REMOTE_NOT_FOUND, codes.NotFound},
		{gateway.ErrRemoteTimeout, adapterv1.ErrorDetail_REASON_REMOTE_TIMEOUT, codes.DeadlineExceeded},
		{gateway.ErrUnavailable, adapterv1.ErrorDetail_REASON_UNAVAILABLE, codes.Unavailable},
		{gateway.ErrNotDurable, adapterv1.ErrorDetail_REASON_NOT_DURABLE, codes.Aborted},
		{store.ErrNotFound, adapterv1.ErrorDetail_REASON_KEY_NOT_FOUND, codes.NotFound},
	} {
		t.Run(tc.reason.String(), func(t *testing.T) {
			wrapped := gateway.Explain("Try again.", fmt.Errorf("sandbox: send: %w", tc.err))
			st := toStatus(wrapped)
			if st.GetDetail().GetReason() != tc.reason || codes.Code(st.GetCode()) != tc.code {
				t.Fatalf("toStatus = %s/%s, want %s/%s", st.GetDetail().GetReason(), codes.Code(st.GetCode()), tc.reason, tc.code)
			}
			// Through a real gRPC status, as an RPC returns it.
			back := fromRPC(rpcError(wrapped))
			if !errors.Is(back, tc.err) {
				t.Errorf("fromRPC(rpcError(%v)) = %v, not the sentinel", wrapped, back)
			}
			for _, other := range sentinels {
				if other.err != tc.err && errors.Is(back, other.err) && !errors.Is(tc.err, other.err) {
					t.Errorf("%v also matches %v", back, other.err)
				}
			}
			if text, ok := gateway.ExplainedText(back); !ok || text != "Try again." {
				t.Errorf("explained text = %q, %v", text, ok)
			}
			// Through a protocol Status (acks, login replies).
			if back := fromStatus(st); !errors.Is(back, tc.err) {
				t.Errorf("fromStatus = %v, not the sentinel", back)
			}
		})
	}
	seen := map[adapterv1.ErrorDetail_Reason]bool{}
	for _, s := range sentinels {
		if seen[s.reason] {
			t.Errorf("reason %s used twice", s.reason)
		}
		seen[s.reason] = true
	}
	if len(seen) != len(adapterv1.ErrorDetail_Reason_name)-1 {
		t.Errorf("%d reasons mapped, the proto has %d", len(seen), len(adapterv1.ErrorDetail_Reason_name)-1)
	}
}

// TestUnmappedErrors: an error without a sentinel keeps its code; a gRPC
// UNAVAILABLE without detail (the adapter is gone) is ErrUnavailable.
func TestUnmappedErrors(t *testing.T) {
	if err := fromRPC(rpcError(errors.New("boom"))); errors.Is(err, gateway.ErrUnavailable) || err == nil {
		t.Errorf("plain error came back as %v", err)
	}
	if err := fromRPC(status.Error(codes.Unavailable, "connection refused")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("UNAVAILABLE = %v, want ErrUnavailable", err)
	}
	if err := fromRPC(rpcError(context.Canceled)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled = %v", err)
	}
	if err := fromStatus(&adapterv1.Status{Code: int32(codes.Internal), Message: "x", Detail: &adapterv1.ErrorDetail{Reason: 999}}); err == nil {
		t.Error("unknown reason gave no error")
	}
}
