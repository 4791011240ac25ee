package xmppcomponent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

func TestNewRefusesIncompleteConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no domain", Config{Platform: fakePlatform}, "Conn.Domain is required"},
		{"unknown platform", Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: "nope"}, `platform "nope" is not configured`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFakeHub()
			c, err := New(tc.cfg, hub)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want an error about %q", c, err, tc.want)
			}
			if hub.frontend != nil {
				t.Error("a component that failed to build was attached to the hub")
			}
		})
	}
}

func TestNewDefaultsAndAttaches(t *testing.T) {
	hub := newFakeHub()
	c, err := New(Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: fakePlatform}, hub)
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Name != "Drawbridge" || c.cfg.Logger == nil {
		t.Errorf("defaults: name %q, logger %v", c.cfg.Name, c.cfg.Logger)
	}
	if hub.frontend != gateway.Frontend(c) {
		t.Error("the component is not the hub's frontend")
	}
	if c.Conn() == nil {
		t.Error("no connection")
	}
}

// TestHandlePacketForms: the stream hands over values and pointers; both
// are handled, and what is no stanza is ignored.
func TestHandlePacketForms(t *testing.T) {
	ping := func(id string) *stanza.IQ {
		return &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: stanza.IQTypeGet, Id: id, From: "alice@example.test/phone", To: "gw.example.test"},
			Payload: &xep.Ping{XMLName: xml.Name{Space: xep.NSPing, Local: "ping"}}}
	}
	probe := stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: stanza.Attrs{Type: stanza.PresenceTypeProbe, From: "alice@example.test", To: "gw.example.test"}}
	msg := stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: "m1", From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}, Body: "hi"}
	for _, tc := range []struct {
		name     string
		p        stanza.Packet
		want     string // a part of the one stanza written; "" for none
		wantCall string // the hub call; "" for none
	}{
		{"iq", ping("p1"), `<iq type="result" id="p1" from="gw.example.test" to="alice@example.test/phone">`, ""},
		{"presence value", probe, `<presence from="gw.example.test/drawbridge" to="alice@example.test"><status>Connected</status>`, ""},
		{"presence pointer", &probe, `<presence from="gw.example.test/drawbridge" to="alice@example.test"><status>Connected</status>`, ""},
		{"message value", msg, "", `SendMessage "alice@example.test" {"body":"hi","chat":"+15550000001"} ["m1",""]`},
		{"message pointer", &msg, "", `SendMessage "alice@example.test" {"body":"hi","chat":"+15550000001"} ["m1",""]`},
		{"not a stanza", stanza.Handshake{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFakeHub()
			linkFake(hub, "alice@example.test")
			c, rec := coreComponent(t, hub)
			c.Handle(t.Context(), tc.p)
			out := rec.take()
			switch {
			case tc.want == "" && len(out) != 0:
				t.Errorf("wrote %v, want nothing", out)
			case tc.want != "" && (len(out) != 1 || !strings.Contains(out[0], tc.want)):
				t.Errorf("wrote %v, want one stanza with %s", out, tc.want)
			}
			calls := hub.takeCalls()
			switch {
			case tc.wantCall == "" && len(calls) != 0:
				t.Errorf("hub calls %v, want none", calls)
			case tc.wantCall != "" && (len(calls) != 1 || calls[0] != tc.wantCall):
				t.Errorf("hub calls %v, want %s", calls, tc.wantCall)
			}
		})
	}
}

// acceptComponent plays the server's side of an XEP-0114 handshake on the
// next connection to ln: any secret is accepted.
func acceptComponent(t *testing.T, ln net.Listener) (net.Conn, *xml.Decoder) {
	t.Helper()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	dec := xml.NewDecoder(nc)
	if _, err := nextStart(dec, "stream"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(nc, `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' id='s1' from='gw.example.test'>`); err != nil {
		t.Fatal(err)
	}
	if _, err := nextStart(dec, "handshake"); err != nil {
		t.Fatal(err)
	}
	if err := dec.Skip(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(nc, `<handshake/>`); err != nil {
		t.Fatal(err)
	}
	return nc, dec
}

// nextStart reads up to the next start tag named local.
func nextStart(dec *xml.Decoder, local string) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			return se, nil
		}
	}
}

// TestRunServesTheLink: over a real XEP-0114 link, the hub hears that the
// frontend is connected (to send journaled events again), the configured
// OnState still runs, stanzas from the server reach Handle and answers go
// back on the link; Run ends with its context.
func TestRunServesTheLink(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hub := newFakeHub()
	var mu sync.Mutex
	var states []bool
	c, err := New(Config{
		Conn: stream.Config{Addr: ln.Addr().String(), Domain: "gw.example.test", Secret: "s3cret",
			Logger: slog.New(slog.DiscardHandler),
			OnState: func(up bool) {
				mu.Lock()
				states = append(states, up)
				mu.Unlock()
			}},
		Platform: fakePlatform,
		Logger:   slog.New(slog.DiscardHandler),
	}, hub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()

	nc, dec := acceptComponent(t, ln)
	testutil.WaitFor(t, "FrontendConnected", func() bool { return countCalls(hub.callsSoFar(), "FrontendConnected") == 1 })
	mu.Lock()
	if len(states) != 1 || !states[0] {
		t.Errorf("OnState calls %v, want [true]", states)
	}
	mu.Unlock()

	if _, err := io.WriteString(nc, `<iq type='get' id='ping-1' from='alice@example.test/phone' to='gw.example.test'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	for {
		se, err := nextStart(dec, "iq")
		if err != nil {
			t.Fatalf("no answer to the ping: %v", err)
		}
		var iq struct {
			Type string `xml:"type,attr"`
			ID   string `xml:"id,attr"`
			From string `xml:"from,attr"`
			To   string `xml:"to,attr"`
		}
		if err := dec.DecodeElement(&iq, &se); err != nil {
			t.Fatal(err)
		}
		if iq.ID != "ping-1" {
			continue // the link's own IQs
		}
		if iq.Type != "result" || iq.From != "gw.example.test" || iq.To != "alice@example.test/phone" {
			t.Errorf("answer to the ping: %+v", iq)
		}
		break
	}

	cancel()
	// The server ends the stream when the component does.
	for {
		tok, err := dec.Token()
		if end, ok := tok.(xml.EndElement); err != nil || ok && end.Name.Local == "stream" {
			nc.Close()
			break
		}
	}
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 || states[1] {
		t.Errorf("OnState calls %v, want [true false]", states)
	}
}

func TestVersionOfTheGateway(t *testing.T) {
	c, rec := coreComponent(t, newFakeHub())
	c.Handle(t.Context(), &stanza.IQ{XMLName: xml.Name{Local: "iq"},
		Attrs:   stanza.Attrs{Type: stanza.IQTypeGet, Id: "v1", From: "alice@example.test/phone", To: "gw.example.test"},
		Payload: &stanza.Version{XMLName: xml.Name{Space: xep.NSVersion, Local: "query"}}})
	out := rec.take()
	want := `<iq type="result" id="v1" from="gw.example.test" to="alice@example.test/phone"><query xmlns="jabber:iq:version"><name>Drawbridge</name><version>1.2.3</version><os>` + runtime.GOOS + `</os></query></iq>`
	if len(out) != 1 || out[0] != want {
		t.Errorf("version answer %v\nwant %s", out, want)
	}
}

func TestDeliverRefusesOtherPlatforms(t *testing.T) {
	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	c, rec := coreComponent(t, hub)
	ev := &event.Message{Meta: event.Meta{Chat: "+15550000001", Sender: "+15550000001", ID: "W1"}, Body: "hi"}
	err := testDeliver(t.Context(), c, "alice@example.test", "elsewhere", ev)
	if !errors.Is(err, gateway.ErrNotSupported) {
		t.Errorf("Deliver for another platform: %v, want ErrNotSupported", err)
	}
	if out := rec.take(); len(out) != 0 {
		t.Errorf("wrote %v for another platform's event", out)
	}
}

// fakeUploader stores files at a fixed place, or fails.
type fakeUploader struct {
	mu  sync.Mutex
	got []string
	err error
}

func (u *fakeUploader) Upload(_ context.Context, owner ids.Owner, _ ids.UserID, a event.Attachment) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.got = append(u.got, string(owner)+" "+a.Name)
	if u.err != nil {
		return "", u.err
	}
	return "https://share.example.test/" + a.Name, nil
}

func openString(s string) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

func TestAttachmentURL(t *testing.T) {
	errQuota := errors.New("quota exceeded")
	withContent := event.Attachment{Name: "cat.jpg", MIMEType: "image/jpeg", Open: openString("meow")}
	for _, tc := range []struct {
		name     string
		uploader *fakeUploader
		a        event.Attachment
		want     string
		wantErr  string
		uploaded bool
	}{
		{"the platform's URL", nil, event.Attachment{URL: "https://cdn.example.test/1"}, "https://cdn.example.test/1", "", false},
		{"no host, no URL", nil, event.Attachment{Name: "cat.jpg", Open: openString("meow")}, "", "no file host is configured", false},
		{"uploaded", &fakeUploader{}, withContent, "https://share.example.test/cat.jpg", "", true},
		{"uploaded even with a URL", &fakeUploader{}, event.Attachment{Name: "a.png", URL: "https://cdn.example.test/2", Open: openString("x")}, "https://share.example.test/a.png", "", true},
		{"no content", &fakeUploader{}, event.Attachment{Kind: event.KindVoice}, "", "the platform gave no content for voice", false},
		{"upload fails", &fakeUploader{err: errQuota}, withContent, "", "upload cat.jpg: quota exceeded", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := coreComponent(t, newFakeHub())
			if tc.uploader != nil {
				c.cfg.Uploader = tc.uploader
			}
			url, err := c.attachmentURL(t.Context(), "alice@example.test", "+15550000001", tc.a)
			if url != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("attachmentURL = %q, %v; want %q, error %q", url, err, tc.want, tc.wantErr)
			}
			if tc.uploader != nil && (len(tc.uploader.got) > 0) != tc.uploaded {
				t.Errorf("uploads %v, want uploaded=%v", tc.uploader.got, tc.uploaded)
			}
			if tc.uploader != nil && tc.uploader.err != nil && !errors.Is(err, tc.uploader.err) {
				t.Errorf("the uploader's error is not wrapped: %v", err)
			}
		})
	}
}

// TestDeliverUploadsFiles: with a file host, a platform file goes out as
// its uploaded URL (body and XEP-0066); a failed upload becomes a notice
// in the chat instead of silence.
func TestDeliverUploadsFiles(t *testing.T) {
	const owner = ids.Owner("alice@example.test")
	msg := &event.Message{Meta: event.Meta{Chat: "+15550000001", Sender: "+15550000001", ID: "W1"}, Body: "look",
		Attachments: []event.Attachment{{Name: "cat.jpg", MIMEType: "image/jpeg", Open: openString("meow")}}}
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"uploaded", nil, []string{
			`id="W1" from="+15550000001@gw.example.test/drawbridge" to="alice@example.test"><body>look</body>`,
			`<body>https://share.example.test/cat.jpg</body><x xmlns="jabber:x:oob"><url>https://share.example.test/cat.jpg</url><desc>cat.jpg</desc></x>`,
		}},
		{"upload fails", errors.New("quota exceeded"), []string{
			`id="W1" from="+15550000001@gw.example.test/drawbridge" to="alice@example.test"><body>look</body>`,
			`<body>[a file (cat.jpg, image/jpeg) could not be passed on: Upload cat.jpg: quota exceeded]</body>`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFakeHub()
			linkFake(hub, owner)
			c, rec := coreComponent(t, hub)
			up := &fakeUploader{err: tc.err}
			c.cfg.Uploader = up
			if err := testDeliver(t.Context(), c, owner, fakePlatform, msg); err != nil {
				t.Fatal(err)
			}
			out := rec.take()
			if len(out) != len(tc.want) {
				t.Fatalf("wrote %d stanzas, want %d: %v", len(out), len(tc.want), out)
			}
			for i, w := range tc.want {
				if !strings.Contains(out[i], w) {
					t.Errorf("stanza %d: %s\nwant it to contain %s", i, out[i], w)
				}
			}
			if len(up.got) != 1 || up.got[0] != "alice@example.test cat.jpg" {
				t.Errorf("uploads %v", up.got)
			}
		})
	}
}

func TestUserText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{gateway.ErrForbidden, "Forbidden"},
		{fmt.Errorf("group G1: %w", gateway.ErrUnknownChat), "group G1"},
		{errors.New("disk on fire"), "Disk on fire"},
		{errors.New(""), ""},
	} {
		if got := userText(tc.err); got != tc.want {
			t.Errorf("userText(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// failingSender cannot queue anything (the link is shutting down).
type failingSender struct{ err error }

func (s failingSender) Send(context.Context, stanza.Packet) error { return s.err }

// TestDeliverReportsSendFailure: an event whose stanzas cannot be queued
// is an error for the hub (which keeps it to try again), not a success.
func TestDeliverReportsSendFailure(t *testing.T) {
	const owner = ids.Owner("alice@example.test")
	meta := event.Meta{Chat: "+15550000001", Sender: "+15550000001", ID: "W1"}
	for _, ev := range []event.Event{
		&event.Message{Meta: meta, Body: "hi"},
		&event.Edit{Meta: meta, Target: "W0", Body: "hi!"},
		&event.Retract{Meta: meta, Target: "W0"},
		&event.Reaction{Meta: meta, Target: "W0", Emojis: []string{"👍"}},
		&event.Receipt{Meta: meta, Kind: event.Delivered, Targets: []ids.MessageID{"P1"}},
		&event.ChatState{Meta: meta, State: event.Composing},
	} {
		t.Run(fmt.Sprintf("%T", ev), func(t *testing.T) {
			hub := newFakeHub()
			linkFake(hub, owner)
			c, _ := coreComponent(t, hub)
			errClosed := errors.New("link closed")
			c.SetSender(failingSender{errClosed})
			if err := testDeliver(t.Context(), c, owner, fakePlatform, ev); !errors.Is(err, errClosed) {
				t.Errorf("Deliver = %v, want the sender's error", err)
			}
		})
	}
}

func TestSendFailedIgnoresOtherPlatforms(t *testing.T) {
	c, rec := coreComponent(t, newFakeHub())
	c.SendFailed(t.Context(), "alice@example.test", "elsewhere", &event.Message{Body: "hi"}, []string{"m1"},
		`{"id":"m1","from":"alice@example.test/phone","to":"+15550000001@gw.example.test"}`, gateway.ErrUnavailable)
	if out := rec.take(); len(out) != 0 {
		t.Errorf("answered another platform's failure: %v", out)
	}
}

// TestAskSubscriptionFollowsTheDeliveredContact: the contact a ContactInfo
// delivery carries (as the hub holds it) decides whether the user is asked
// to add it to their roster; the component does not look it up itself.
func TestAskSubscriptionFollowsTheDeliveredContact(t *testing.T) {
	tests := []struct {
		name    string
		contact *store.Contact
		asked   bool
	}{
		{"in the roster", &store.Contact{User: "+15550000001", Subscribed: true}, false},
		{"not in the roster", &store.Contact{User: "+15550000001"}, true},
		{"unknown to the hub", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFakeHub()
			linkFake(hub, "alice@example.test")
			c, rec := coreComponent(t, hub)
			ev := &event.ContactInfo{Meta: event.Meta{Chat: "+15550000001", Sender: "+15550000001"}, Name: "Bob"}
			d := gateway.Delivery{Owner: "alice@example.test", Platform: fakePlatform, Event: ev, Contact: tc.contact}
			if err := c.Deliver(t.Context(), d); err != nil {
				t.Fatal(err)
			}
			out := rec.take()
			asked := len(out) == 1 && strings.Contains(out[0], `type="subscribe"`)
			if asked != tc.asked {
				t.Errorf("wrote %v; asked %v, want %v", out, asked, tc.asked)
			}
		})
	}
}
