package remote_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestFilesBothWays: a file the host sends reaches the adapter child in
// chunks by reference (read while SendMessage runs), and the echo bot's
// copy comes back as an attachment whose bytes stream from the child by
// reference: the same bytes, over several 64 KiB chunks each way.
func TestFilesBothWays(t *testing.T) {
	a := launchChild(t)
	h := gatewaytest.NewHost(t)
	if err := a.Init(h, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	acct := gatewaytest.Link(t, a, h, gatewaytest.Conformance{
		Answer: func(*testing.T, gateway.LoginStep) map[string]string {
			return map[string]string{sandbox.FieldPhone: "+15550007777"}
		},
	})
	sess, err := a.LoadSession(t.Context(), acct)
	if err != nil {
		t.Fatal(err)
	}
	sess.Connect(t.Context())
	h.WaitState(t, acct, event.StateConnected)

	data := bytes.Repeat([]byte("drawbridge file "), 200<<10/16) // 200 KiB
	var opened atomic.Int32
	_, err = sess.SendMessage(t.Context(), &event.Message{
		Meta: event.Meta{Account: acct, Chat: ids.DirectChat(sandbox.EchoBot), Sender: ids.UserID(acct), FromMe: true, Time: time.Now()},
		Attachments: []event.Attachment{{Name: "f.txt", MIMEType: "text/plain", Size: int64(len(data)), Kind: event.KindFile,
			Open: func(context.Context) (io.ReadCloser, error) {
				opened.Add(1)
				return io.NopCloser(bytes.NewReader(data)), nil
			}}},
	})
	if err != nil {
		t.Fatalf("SendMessage with a file: %v", err)
	}
	if opened.Load() == 0 {
		t.Fatal("the adapter never read the file")
	}
	ev := h.WaitEvent(t, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Sender == sandbox.EchoBot && len(m.Attachments) == 1
	})
	att := ev.(*event.Message).Attachments[0]
	if att.Open == nil || att.Name != "f.txt" {
		t.Fatalf("echoed attachment %+v", att)
	}
	for range 2 { // Open may be called more than once
		rc, err := att.Open(t.Context())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("echoed file: %d bytes (%v), want the %d sent", len(got), err, len(data))
		}
	}
}
