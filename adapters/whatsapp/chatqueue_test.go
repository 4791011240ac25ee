package whatsapp_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// openFiles is an EmitHook doing what the hub does with a message's files
// inside Emit: it reads them (to upload them for the XMPP side).
func openFiles(ctx context.Context, ev event.Event) error {
	m, ok := ev.(*event.Message)
	if !ok {
		return nil
	}
	for _, a := range m.Attachments {
		if a.Open == nil {
			continue
		}
		r, err := a.Open(ctx)
		if err != nil {
			return fmt.Errorf("open %s: %w", a.Name, err)
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// chatIDs lists the ids of the messages emitted in chat, in order.
func chatIDs(h *gatewaytest.Host, chat ids.ChatID) []string {
	var out []string
	for _, ev := range h.EventsFor(gatewaytest.Is[*event.Message]) {
		if m := ev.EventMeta(); m.Chat == chat {
			out = append(out, string(m.ID))
		}
	}
	return out
}

func bigPhoto(path string) *waE2E.Message {
	return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String(path), MediaKey: []byte("k"),
		FileEncSHA256: []byte("e"), FileSHA256: []byte("s"), Mimetype: proto.String("image/jpeg"), FileLength: proto.Uint64(9)}}
}

// TestLargeDownloadDoesNotStallAccount: while the hub downloads a file of
// chat A (held by the fake media server), a text in chat B is emitted; the
// text sent after the file in chat A waits for it; once the download ends
// both come in order.
func TestLargeDownloadDoesNotStallAccount(t *testing.T) {
	e := newEnv(t, nil)
	gate := make(chan struct{})
	e.f.Configure = func(c *wt.Client) {
		c.Media = map[string][]byte{"/v/big": []byte("BIG PHOTO")}
		c.MediaGate = map[string]chan struct{}{"/v/big": gate}
	}
	e.h.EmitHook = openFiles
	_, c := e.connected()
	bob := wt.PN("+15550002222")
	bobChat := ids.ChatID("+15550002222")
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		c.Dispatch(wt.Msg{Chat: alice, ID: "A1", Time: when}.Event(bigPhoto("/v/big")))
		c.Dispatch(wt.Msg{Chat: alice, ID: "A2", Time: when}.Event(textMsg("after the photo")))
		c.Dispatch(wt.Msg{Chat: bob, ID: "B1", Time: when}.Event(textMsg("meanwhile")))
	}()
	if !testutil.Poll(5*time.Second, func() bool { return len(chatIDs(e.h, bobChat)) == 1 }) {
		close(gate)
		t.Fatalf("the text in chat B waited for chat A's download; emitted: %v", e.h.Events())
	}
	<-dispatched
	if got := chatIDs(e.h, aliceChat); len(got) != 0 {
		t.Errorf("chat A emitted %v before its photo's download ended", got)
	}
	close(gate)
	if !testutil.Poll(5*time.Second, func() bool { return len(chatIDs(e.h, aliceChat)) == 2 }) {
		t.Fatalf("chat A: %v", chatIDs(e.h, aliceChat))
	}
	if got := strings.Join(chatIDs(e.h, aliceChat), " "); got != "A1 A2" {
		t.Errorf("chat A order = %s; want A1 A2", got)
	}
}

// TestChatQueueSurvivesRestart: a message whose download a restart
// interrupts, and the one queued behind it, are emitted after the restart,
// in order, once each.
func TestChatQueueSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	e.f.Configure = func(c *wt.Client) {
		c.Media = map[string][]byte{"/v/big": []byte("BIG PHOTO")}
		c.MediaGate = map[string]chan struct{}{"/v/big": make(chan struct{})} // never opens
	}
	e.h.EmitHook = openFiles
	s, c := e.connected()
	if !c.Dispatch(wt.Msg{Chat: alice, ID: "A1", Time: when}.Event(bigPhoto("/v/big"))) ||
		!c.Dispatch(wt.Msg{Chat: alice, ID: "A2", Time: when}.Event(textMsg("after the photo"))) {
		t.Fatal("the messages were not acknowledged")
	}
	acct := s.Account()
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := chatIDs(e.h, aliceChat); len(got) != 0 {
		t.Fatalf("emitted before the restart: %v", got)
	}
	e2 := newEnvOn(t, e.h, e.db, nil)
	e2.f.Configure = func(c *wt.Client) { c.Media = map[string][]byte{"/v/big": []byte("BIG PHOTO")} }
	sess, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(e2.ctx)
	if !testutil.Poll(5*time.Second, func() bool { return len(chatIDs(e.h, aliceChat)) >= 2 }) {
		t.Fatalf("after the restart chat A has %v", chatIDs(e.h, aliceChat))
	}
	if got := strings.Join(chatIDs(e.h, aliceChat), " "); got != "A1 A2" {
		t.Errorf("chat A after the restart = %s; want A1 A2", got)
	}
	// Delivered: the queue is empty, nothing comes again on the next
	// connection.
	sess.Disconnect()
	sess.Connect(e2.ctx)
	e2.client(0).Dispatch(wt.Msg{Chat: alice, ID: "A3", Time: when}.Event(textMsg("later")))
	if got := strings.Join(chatIDs(e.h, aliceChat), " "); got != "A1 A2 A3" {
		t.Errorf("chat A at the end = %s; want A1 A2 A3", got)
	}
}

// TestChatQueueBounded: while downloads hold the queues, at most
// ChatQueueCap messages wait; the next is not acknowledged, so that
// WhatsApp keeps it, and texts of other chats still go.
func TestChatQueueBounded(t *testing.T) {
	e := newEnv(t, nil)
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	e.f.Configure = func(c *wt.Client) {
		c.Media = map[string][]byte{"/v/big": []byte("BIG PHOTO")}
		c.MediaGate = map[string]chan struct{}{"/v/big": gate}
	}
	e.h.EmitHook = openFiles
	_, c := e.connected()
	for i := range whatsapp.ChatQueueCap {
		if !c.Dispatch(wt.Msg{Chat: alice, ID: types.MessageID(fmt.Sprintf("Q%d", i)), Time: when}.Event(bigPhoto("/v/big"))) {
			t.Fatalf("message %d of %d not acknowledged", i, whatsapp.ChatQueueCap)
		}
	}
	if c.Dispatch(wt.Msg{Chat: alice, ID: "OVER", Time: when}.Event(textMsg("one too many"))) {
		t.Error("a message beyond the queues' bound was acknowledged")
	}
	if !c.Dispatch(wt.Msg{Chat: wt.PN("+15550002222"), ID: "B1", Time: when}.Event(textMsg("other chat"))) {
		t.Error("a text of another chat was not acknowledged")
	}
	if got := chatIDs(e.h, "+15550002222"); len(got) != 1 {
		t.Errorf("other chat emitted %v", got)
	}
}
