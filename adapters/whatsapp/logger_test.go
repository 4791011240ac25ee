package whatsapp

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestWALogger(t *testing.T) {
	var b bytes.Buffer
	l := newWALogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), "whatsmeow")
	l.Infof("connected to %s", "server")
	l.Sub("Client").Debugf("detail %d", 1)
	l.Sub("Recv").Debugf("<node/>")
	l.Sub("Recv").Warnf("odd node")
	out := b.String()
	for _, want := range []string{`level=INFO msg="connected to server" module=whatsmeow`, `level=DEBUG msg="detail 1" module=whatsmeow/Client`, `level=WARN msg="odd node" module=whatsmeow/Recv`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<node/>") {
		t.Errorf("protocol dumps reached the debug log:\n%s", out)
	}
}
