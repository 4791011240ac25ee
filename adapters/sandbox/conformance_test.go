package sandbox_test

import (
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestConformance(t *testing.T) {
	answer := func(t *testing.T, step gateway.LoginStep) map[string]string {
		return map[string]string{sandbox.FieldPhone: phoneA}
	}
	for _, tc := range []struct {
		name    string
		cfg     map[string]any
		confirm func(t *testing.T, a gateway.Adapter, step gateway.LoginStep)
	}{
		{name: "auto_confirm", cfg: nil},
		{
			name: "manual",
			cfg:  map[string]any{sandbox.ConfigAutoConfirm: false},
			confirm: func(t *testing.T, a gateway.Adapter, step gateway.LoginStep) {
				if err := a.(*sandbox.Adapter).Platform().ConfirmPairing(phoneA, step.Data); err != nil {
					t.Fatalf("ConfirmPairing: %v", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
				NewAdapter: func(t *testing.T) gateway.Adapter { return sandbox.New(nil) },
				Config:     tc.cfg,
				Answer:     answer,
				Confirm:    tc.confirm,
				Contact:    ids.DirectChat(sandbox.EchoBot),
				Unlinked:   "+15557654321",
			})
		})
	}
}
