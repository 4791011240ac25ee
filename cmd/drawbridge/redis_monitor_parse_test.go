package main

import (
	"maps"
	"testing"
)

func TestParseMonitorLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		name    string
		lua, ok bool
	}{
		{`1700000000.123456 [0 127.0.0.1:6000] "XADD" "k" "*" "d" "x"`, "xadd", false, true},
		{`1700000000.123456 [0 lua] "hget" "acct:{a@b}" "f"`, "hget", true, true},
		{`1700000000.123456 [3 unix:/tmp/r.sock] "evalsha" "abc" "1"`, "evalsha", false, true},
		{`OK`, "", false, false},
		{`1700000000.1 [0 127.0.0.1:1] `, "", false, false},
	} {
		name, lua, ok := parseMonitorLine(tc.line)
		if name != tc.name || lua != tc.lua || ok != tc.ok {
			t.Errorf("parseMonitorLine(%q) = %q, %v, %v; want %q, %v, %v", tc.line, name, lua, ok, tc.name, tc.lua, tc.ok)
		}
	}
}

func TestParseCommandStats(t *testing.T) {
	text := "# Commandstats\r\n" +
		"cmdstat_xadd:calls=12,usec=40,usec_per_call=3.33,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_info:calls=3,usec=9,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_evalsha:calls=5,usec=50,usec_per_call=10.00,rejected_calls=0,failed_calls=1\r\n"
	got := parseCommandStats(text)
	want := map[string]int64{"xadd": 12, "evalsha": 5}
	if !maps.Equal(got, want) {
		t.Errorf("parseCommandStats = %v, want %v", got, want)
	}
	total, by := commandsPerMessage(map[string]int64{"xadd": 2}, got, 5)
	if total != 3 || by["xadd"] != 2 || by["evalsha"] != 1 {
		t.Errorf("commandsPerMessage = %v, %v; want 3, xadd 2, evalsha 1", total, by)
	}
	if s := formatCommands(by); s != "xadd 2.00, evalsha 1.00" {
		t.Errorf("formatCommands = %q", s)
	}
}

func TestNetPerMessage(t *testing.T) {
	c0 := map[string]int{"evalsha": 10, "xadd": 0}
	c1 := map[string]int{"evalsha": 50, "xadd": 20, "pttl": 2}
	c2 := map[string]int{"evalsha": 90, "xadd": 20, "pttl": 10}
	// Half as long busy as idle: the background's share is (90-50)/2 = 20
	// evalsha and 4 pttl.
	total, by := netPerMessage(c0, c1, c2, 0.5, 10)
	want := map[string]float64{"evalsha": 2, "xadd": 2}
	if total != 4 || !maps.Equal(by, want) {
		t.Errorf("netPerMessage = %v, %v; want 4, %v", total, by, want)
	}
}
