package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/delivery"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestQueuedFileIsNotHeld: a message with a file that waits in the retry
// queue (the platform is unavailable) holds no downloaded file meanwhile:
// the download is removed when SendMessage returns, and the queued
// message downloads the file again when it is sent, with the same bytes;
// nothing is left in the download directory after.
func TestQueuedFileIsNotHeld(t *testing.T) {
	data := bytes.Repeat([]byte("queued file\n"), 1000)
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	p := sandbox.NewPlatform(sandbox.Options{Seed: 1})
	t.Cleanup(p.Close)
	gw, err := gateway.New(gateway.Options{
		Store:         openStore(t),
		Adapters:      []gateway.Adapter{sandbox.New(p)},
		AdapterConfig: map[ids.PlatformID]map[string]any{"sandbox": {"auto_confirm": true}},
		Media:         gateway.MediaOptions{AllowPrivate: true, TempDir: dir},
		SendRetry:     delivery.SendRetry{Deadline: time.Minute, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		Logger:        slog.New(slog.DiscardHandler),
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
	h.link(t, retryOwner, string(retryAcct))

	empty := func() bool {
		es, err := os.ReadDir(dir)
		return err == nil && len(es) == 0
	}
	p.SetOutage(retryAcct, true)
	msg := &event.Message{Meta: event.Meta{Chat: echoChat}, Attachments: []event.Attachment{{URL: srv.URL + "/notes.txt"}}}
	if _, err := gw.SendMessage(t.Context(), retryOwner, sb, msg, gateway.SendOptions{XMPPIDs: []string{"f1"}}); !errors.Is(err, gateway.ErrQueued) {
		t.Fatalf("send during the outage: %v, want ErrQueued", err)
	}
	if gets.Load() != 1 || !empty() {
		t.Fatalf("after queuing: %d downloads, download directory empty: %v; want 1 and empty", gets.Load(), empty())
	}
	p.SetOutage(retryAcct, false)
	testutil.WaitFor(t, "the queued file on the platform", func() bool {
		for _, m := range p.Received(sandbox.EchoBot) {
			if len(m.Attachments) == 1 && bytes.Equal(m.Attachments[0].Data, data) {
				return true
			}
		}
		return false
	})
	if gets.Load() != 2 {
		t.Errorf("%d downloads, want 2 (the queued message downloads again)", gets.Load())
	}
	testutil.WaitFor(t, "the download removed", empty)
}
