package sandbox_test

import (
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

func TestConfigErrors(t *testing.T) {
	const sizeSyntax = `want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB"`
	const durationSyntax = `want a duration such as "90s", "15m" or "2h45m"`
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		want string // the whole error
	}{
		{"unknown key", map[string]any{"something_else": 1}, "sandbox.something_else: unknown key"},
		{"auto_confirm words", map[string]any{"auto_confirm": "yes please"}, `sandbox.auto_confirm: want true or false, got "yes please"`},
		{"auto_confirm number", map[string]any{"auto_confirm": 3}, "sandbox.auto_confirm: want true or false, got 3"},
		{"code_ttl words", map[string]any{"code_ttl": "soon"}, `sandbox.code_ttl: ` + durationSyntax + `, got "soon"`},
		{"code_ttl number", map[string]any{"code_ttl": 5}, `sandbox.code_ttl: ` + durationSyntax + `, got "5"`},
		{"code_ttl zero", map[string]any{"code_ttl": "0s"}, "sandbox.code_ttl: must be positive, got 0s"},
		{"code_ttl negative", map[string]any{"code_ttl": "-1m"}, "sandbox.code_ttl: must be positive, got -1m0s"},
		{"echo_delay negative", map[string]any{"echo_delay": "-1s"}, "sandbox.echo_delay: must not be negative, got -1s"},
		{"echo_delay bool", map[string]any{"echo_delay": true}, "sandbox.echo_delay: " + durationSyntax + ", got true (bool)"},
		{"edit_window negative", map[string]any{"edit_window": "-1m"},
			"sandbox.edit_window: must not be negative (0s means no limit), got -1m0s"},
		{"edit_window words", map[string]any{"edit_window": "a while"}, `sandbox.edit_window: ` + durationSyntax + `, got "a while"`},
		{"retract_window negative", map[string]any{"retract_window": "-1s"},
			"sandbox.retract_window: must not be negative (0s means no limit), got -1s"},
		{"max_file_size negative", map[string]any{"max_file_size": -1}, "sandbox.max_file_size: must not be negative, got -1"},
		{"max_file_size fraction", map[string]any{"max_file_size": 1.5}, "sandbox.max_file_size: " + sizeSyntax + ", got 1.5"},
		{"max_file_size unit", map[string]any{"max_file_size": "2 parsecs"},
			`sandbox.max_file_size: ` + sizeSyntax + `, got "2 parsecs" (unknown unit "parsecs")`},
		{"max_file_size overflow", map[string]any{"max_file_size": "99999999999999999999GiB"},
			`sandbox.max_file_size: "99999999999999999999GiB" is too large`},
		{"max_file_size bool", map[string]any{"max_file_size": true}, "sandbox.max_file_size: " + sizeSyntax + ", got true (bool)"},
		// Every problem is reported, in key order.
		{"several bad keys", map[string]any{"echo_delay": true, "code_ttl": "x", "colour": "blue"},
			`sandbox.code_ttl: ` + durationSyntax + `, got "x"` + "\n" +
				"sandbox.colour: unknown key\n" +
				"sandbox.echo_delay: " + durationSyntax + ", got true (bool)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sandbox.New(nil).Init(gatewaytest.NewHost(t), tc.cfg)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Init(%v) = %v\nwant %s", tc.cfg, err, tc.want)
			}
		})
	}
}

func TestConfigAccepted(t *testing.T) {
	for _, cfg := range []map[string]any{
		nil,
		{},
		{"auto_confirm": "false", "code_ttl": "1m", "echo_delay": "0s"},
		{"auto_confirm": true, "code_ttl": 90 * time.Second, "echo_delay": time.Duration(0)},
		{"enabled": true, "auto_confirm": true},
		{"edit_window": "0s", "retract_window": time.Hour, "max_file_size": 0},
		{"echo_delay": 0, "auto_confirm": nil},
		{"max_file_size": float64(1 << 20)},
		// Every documented key is known.
		{sandbox.ConfigAutoConfirm: true, sandbox.ConfigCodeTTL: "1m", sandbox.ConfigEchoDelay: "1s",
			sandbox.ConfigEditWindow: "1m", sandbox.ConfigRetractWindow: "1h", sandbox.ConfigMaxFileSize: "1MiB"},
	} {
		if err := sandbox.New(nil).Init(gatewaytest.NewHost(t), cfg); err != nil {
			t.Errorf("Init(%v) = %v", cfg, err)
		}
	}
	if err := sandbox.New(nil).Init(nil, nil); err == nil {
		t.Error("Init without a host succeeded")
	}
}

func TestConfigSizes(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
	}{
		{1048576, 1 << 20},
		{int64(10), 10},
		{uint64(10), 10},
		{float64(2048), 2048},
		{"1048576", 1 << 20},
		{"512KiB", 512 << 10},
		{"2MiB", 2 << 20},
		{"2 MiB", 2 << 20},
		{"1MB", 1000 * 1000},
		{"1GiB", 1 << 30},
		{"100B", 100},
		{"0", 0},
		{"1.5MB", 1_500_000},
		{"512k", 512_000},
		{"2mib", 2 << 20},
	} {
		h := gatewaytest.NewHost(t)
		a := sandbox.New(nil)
		if err := a.Init(h, map[string]any{sandbox.ConfigMaxFileSize: tc.in}); err != nil {
			t.Errorf("max_file_size %v: %v", tc.in, err)
			continue
		}
		if got := a.Platform().Capabilities().MaxFileSize; got != tc.want {
			t.Errorf("max_file_size %v = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestInfo(t *testing.T) {
	a := sandbox.New(nil)
	want := gateway.Info{
		ID: "sandbox", Name: "Sandbox", GatewayType: "sandbox",
		UserPrompt: "Phone number in international format, e.g. +15550001111",
	}
	if got := a.Info(); got != want {
		t.Errorf("Info = %+v", got)
	}
	if a.Platform() == nil {
		t.Error("no platform")
	}
	p := sandbox.NewPlatform(sandbox.Options{})
	if sandbox.New(p).Platform() != p {
		t.Error("Platform() is not the one given")
	}
}
