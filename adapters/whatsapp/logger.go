package whatsapp

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// levelTrace is below slog's debug level: whatsmeow's dumps of every
// protocol node it sends and receives, which would drown the gateway's
// own debug log.
const levelTrace = slog.LevelDebug - 4

// slogLogger lets whatsmeow log through the gateway's *slog.Logger.
type slogLogger struct {
	log    *slog.Logger
	module string
	debug  slog.Level
}

// newWALogger returns a waLog.Logger writing to log with the given module.
func newWALogger(log *slog.Logger, module string) waLog.Logger {
	return &slogLogger{log: log, module: module, debug: slog.LevelDebug}
}

func (l *slogLogger) logf(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, fmt.Sprintf(msg, args...), "module", l.module)
}

// Warnf implements waLog.Logger.
func (l *slogLogger) Warnf(msg string, args ...any) { l.logf(slog.LevelWarn, msg, args) }

// Errorf implements waLog.Logger.
func (l *slogLogger) Errorf(msg string, args ...any) { l.logf(slog.LevelError, msg, args) }

// Infof implements waLog.Logger.
func (l *slogLogger) Infof(msg string, args ...any) { l.logf(slog.LevelInfo, msg, args) }

// Debugf implements waLog.Logger; protocol dumps go below debug.
func (l *slogLogger) Debugf(msg string, args ...any) { l.logf(l.debug, msg, args) }

// Sub implements waLog.Logger.
func (l *slogLogger) Sub(module string) waLog.Logger {
	sub := &slogLogger{log: l.log, module: l.module + "/" + module, debug: l.debug}
	if module == "Recv" || module == "Send" {
		sub.debug = levelTrace
	}
	return sub
}
