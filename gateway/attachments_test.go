package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// syncBuffer is a log destination that several goroutines write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDownloadFailuresAreTheURLs: a file URL whose host refuses the
// connection or never answers is the sender's problem: the send fails
// with ErrRemoteNotFound / ErrRemoteTimeout (remote-server-not-found and
// remote-server-timeout on the XMPP side), and nothing is logged as an
// error (issue 21, Low: these were internal errors, logged at ERROR).
func TestDownloadFailuresAreTheURLs(t *testing.T) {
	var logs syncBuffer
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         openStore(t),
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		Media:         gateway.MediaOptions{AllowPrivate: true, Timeout: 300 * time.Millisecond},
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	fe := newFrontend()
	gw.SetFrontend(fe)
	if err := gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(context.Background()) })
	h := &hub{gw: gw, fe: fe, platform: p}
	const owner = ids.Owner("alice@example.test")
	h.link(t, owner, "+15557654321")

	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })

	for _, tc := range []struct {
		url  string
		want error
		text string
	}{
		{"http://" + refusedAddr + "/cat.jpg", gateway.ErrRemoteNotFound, "cannot be reached"},
		{"http://" + silent.Addr().String() + "/cat.jpg", gateway.ErrRemoteTimeout, "did not answer in time"},
	} {
		msg := &event.Message{Meta: event.Meta{Chat: ids.ChatID(sandbox.EchoBot)}, Body: tc.url,
			Attachments: []event.Attachment{{URL: tc.url}}}
		_, err := gw.SendMessage(t.Context(), owner, sb, msg, gateway.SendOptions{XMPPIDs: []string{"x-" + tc.text}})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || strings.Contains(err.Error(), "/cat.jpg") {
			t.Errorf("%s: %v, want %v saying %q without the path", tc.url, err, tc.want, tc.text)
		}
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || !strings.Contains(out, "level=INFO msg=\"attachment not downloaded\"") {
		t.Errorf("the log:\n%s", out)
	}
}
