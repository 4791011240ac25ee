package remote

import (
	"errors"
	"slices"
	"strings"
	"testing"

	gwconfig "github.com/drawbridge-im/drawbridge/gateway/config"
)

func TestParseSection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    Config
		rest    []string
		errKey  string
	}{
		{name: "command", section: map[string]any{"adapter": "remote", "command": []any{"/bin/drawbridge", "adapter", "sandbox"}, "auto_confirm": true},
			want: Config{Command: []string{"/bin/drawbridge", "adapter", "sandbox"}}, rest: []string{"auto_confirm"}},
		{name: "command_string", section: map[string]any{"adapter": "remote", "command": "/bin/adapter"},
			want: Config{Command: []string{"/bin/adapter"}}},
		{name: "loopback_without_token", section: map[string]any{"adapter": "remote", "address": "127.0.0.1:7100"},
			want: Config{Address: "127.0.0.1:7100"}},
		{name: "remote_with_token", section: map[string]any{"adapter": "remote", "address": "10.0.0.7:7100", "token": "t0ken"},
			want: Config{Address: "10.0.0.7:7100", Token: "t0ken"}},
		{name: "remote_without_token", section: map[string]any{"adapter": "remote", "address": "10.0.0.7:7100"}, errKey: "platforms.x.token"},
		{name: "neither", section: map[string]any{"adapter": "remote"}, errKey: "platforms.x.adapter"},
		{name: "both", section: map[string]any{"adapter": "remote", "command": "/a", "address": "127.0.0.1:1"}, errKey: "platforms.x.address"},
		{name: "bad_command", section: map[string]any{"adapter": "remote", "command": []any{"/a", 3}}, errKey: "platforms.x.command"},
		{name: "bad_token", section: map[string]any{"adapter": "remote", "address": "127.0.0.1:1", "token": 5}, errKey: "platforms.x.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rest, err := ParseSection("platforms.x", tc.section)
			if tc.errKey != "" {
				var ke *gwconfig.KeyError
				if !errors.As(err, &ke) || ke.Key != tc.errKey {
					t.Fatalf("err = %v, want a problem with %s", err, tc.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Command, tc.want.Command) || got.Address != tc.want.Address || got.Token != tc.want.Token {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			var keys []string
			for k := range rest {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if strings.Join(keys, ",") != strings.Join(tc.rest, ",") {
				t.Errorf("rest keys %v, want %v", keys, tc.rest)
			}
		})
	}
}
