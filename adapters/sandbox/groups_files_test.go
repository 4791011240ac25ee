package sandbox_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// TestSendGroupFileAs: a member's file reaches every member account as a
// message whose attachment opens to the bytes sent, and is on the
// platform's record; a non-member and a type the platform refuses are
// refused.
func TestSendGroupFileAs(t *testing.T) {
	e := newEnv(t, nil, sandbox.Options{})
	a := e.link(t, phoneA)
	e.connect(t, a)
	c := ctx(t)
	if err := e.p.AddMember(sandbox.Alice, sandbox.Lounge, ids.UserID(a)); err != nil {
		t.Fatal(err)
	}
	data := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	id, err := e.p.SendGroupFileAs(c, sandbox.Bob, sandbox.Lounge, "p.png", "image/png", data)
	if err != nil {
		t.Fatal(err)
	}
	got := e.h.WaitEvent(t, func(ev event.Event) bool {
		m, ok := ev.(*event.Message)
		return ok && m.Account == a && m.Chat == sandbox.Lounge && m.ID == id
	}).(*event.Message)
	if got.Sender != sandbox.Bob || len(got.Attachments) != 1 || got.Attachments[0].MIMEType != "image/png" || got.Attachments[0].Name != "p.png" {
		t.Fatalf("the member got %+v", got)
	}
	rc, err := got.Attachments[0].Open(c)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(body, data) {
		t.Errorf("the attachment opens to %d bytes (%v), want the %d sent", len(body), err, len(data))
	}
	if rec, ok := e.p.MessageByID(id); !ok || rec.Group != sandbox.Lounge || len(rec.Attachments) != 1 || !bytes.Equal(rec.Attachments[0].Data, data) {
		t.Errorf("the platform's record: %+v", rec)
	}

	if _, err := e.p.SendGroupFileAs(c, sandbox.QuietBot, sandbox.Lounge, "p.png", "image/png", data); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("a file from a non-member: %v, want ErrForbidden", err)
	}
	if _, err := e.p.SendGroupFileAs(c, sandbox.Bob, sandbox.Lounge, "a.zip", "application/zip", []byte("PK\x03\x04")); err == nil {
		t.Error("a type the platform refuses was sent")
	}
}
