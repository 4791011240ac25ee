package config

import (
	"io"
	"log/slog"
)

// SlogLevel returns log.level as a slog.Level; an unknown level gives
// slog.LevelInfo.
func (c Config) SlogLevel() slog.Level {
	switch c.Log.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Logger returns a logger writing to w in log.format (json, or text for
// anything else) at log.level, redacting addresses if log.redact is set.
func (c Config) Logger(w io.Writer) *slog.Logger {
	level := new(slog.LevelVar)
	level.Set(c.SlogLevel())
	return c.LoggerLevel(w, level)
}

// LoggerLevel is Logger with its level taken from level, which a reload
// may change while the logger is in use.
func (c Config) LoggerLevel(w io.Writer, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if c.Log.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if c.Log.Redact {
		h = NewRedactHandler(h, c.redactKey())
	}
	return slog.New(h)
}
