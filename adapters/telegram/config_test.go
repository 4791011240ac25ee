package telegram_test

import (
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// TestConfig checks that Init names the key of every problem of the
// section, suggests near misses, and never quotes the api_hash.
func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		section map[string]any
		want    []string // substrings of the error; none: valid
		notWant string
	}{
		{"valid", map[string]any{"api_id": 12345, "api_hash": "0123456789abcdef"}, nil, ""},
		{"empty section", nil, []string{"telegram.api_id: required", "telegram.api_hash: required"}, ""},
		{"missing hash", map[string]any{"api_id": 12345}, []string{"telegram.api_hash: required"}, "api_id"},
		{"near miss", map[string]any{"api_id": 1, "api_hash": "x", "api_hsah": "y"}, []string{"telegram.api_hsah: unknown key (did you mean api_hash?)"}, ""},
		{"id not a number", map[string]any{"api_id": "abc", "api_hash": "x"}, []string{"telegram.api_id: want a whole number"}, ""},
		{"hash of the wrong type is not quoted", map[string]any{"api_id": 1, "api_hash": 123456789}, []string{"telegram.api_hash: want a string"}, "123456789"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := telegram.New().Init(gatewaytest.NewHost(t), tc.section)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Init = %v, want ok", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Init accepted the section")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Init = %v, want it to say %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("Init = %v, should not mention %q", err, tc.notWant)
			}
		})
	}
}
