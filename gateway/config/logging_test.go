package config

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn,
		"error": slog.LevelError, "": slog.LevelInfo, "bogus": slog.LevelInfo,
	} {
		c := Config{Log: LogConfig{Level: level}}
		if got := c.SlogLevel(); got != want {
			t.Errorf("SlogLevel() for %q = %v, want %v", level, got, want)
		}
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	c := Config{Log: LogConfig{Level: "warn", Format: "json"}}
	log := c.Logger(&buf)
	if log.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("info enabled at level warn")
	}
	log.Warn("hello", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "hello" || rec["k"] != "v" {
		t.Errorf("json log line %q: %v", buf.String(), err)
	}

	buf.Reset()
	c.Log.Format = "text"
	c.Logger(&buf).Error("bye")
	if !strings.Contains(buf.String(), "msg=bye") {
		t.Errorf("text log line %q", buf.String())
	}
}
