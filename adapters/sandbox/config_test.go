package sandbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		key  string
	}{
		{"auto_confirm words", map[string]any{"auto_confirm": "yes please"}, "auto_confirm"},
		{"auto_confirm number", map[string]any{"auto_confirm": 3}, "auto_confirm"},
		{"code_ttl words", map[string]any{"code_ttl": "soon"}, "code_ttl"},
		{"code_ttl number", map[string]any{"code_ttl": 5}, "code_ttl"},
		{"code_ttl zero", map[string]any{"code_ttl": "0s"}, "code_ttl"},
		{"code_ttl negative", map[string]any{"code_ttl": "-1m"}, "code_ttl"},
		{"echo_delay negative", map[string]any{"echo_delay": "-1s"}, "echo_delay"},
		{"echo_delay bool", map[string]any{"echo_delay": true}, "echo_delay"},
		{"edit_window negative", map[string]any{"edit_window": "-1m"}, "edit_window"},
		{"edit_window words", map[string]any{"edit_window": "a while"}, "edit_window"},
		{"retract_window negative", map[string]any{"retract_window": "-1s"}, "retract_window"},
		{"max_file_size negative", map[string]any{"max_file_size": -1}, "max_file_size"},
		{"max_file_size fraction", map[string]any{"max_file_size": 1.5}, "max_file_size"},
		{"max_file_size unit", map[string]any{"max_file_size": "2 parsecs"}, "max_file_size"},
		{"max_file_size overflow", map[string]any{"max_file_size": "99999999999999999999GiB"}, "max_file_size"},
		{"max_file_size bool", map[string]any{"max_file_size": true}, "max_file_size"},
		// With several bad keys the first in sorted order is named.
		{"two bad keys", map[string]any{"echo_delay": true, "code_ttl": "x"}, "code_ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sandbox.New(nil).Init(gatewaytest.NewHost(t), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), `"`+tc.key+`"`) {
				t.Fatalf("Init(%v) = %v; want an error naming %q", tc.cfg, err, tc.key)
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
		{"something_else": 1}, // logged, not an error
		{"enabled": true, "auto_confirm": true},
		{"edit_window": "0s", "retract_window": time.Hour, "max_file_size": 0},
		{"max_file_size": float64(1 << 20)},
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
