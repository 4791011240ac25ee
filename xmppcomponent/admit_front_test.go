package xmppcomponent

import (
	"encoding/xml"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
)

func (h *fakeHub) takeAdmissions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.admissions
	h.admissions = nil
	return out
}

// TestAdmitAtFront: the front admits a new message with
// FrontAdmitMessage (no session needed) and refuses it with the error a
// single process gives; other stanzas and messages admit does not check
// are neither. The worker feeds a message the front admitted with
// AdmitMessageRated (no second token) and sends it Admitted; one not
// admitted at the front gets AdmitMessage, as in one process.
func TestAdmitAtFront(t *testing.T) {
	hub := newFakeHub()
	linkFake(hub, "alice@example.test")
	link := &testLink{scriptRecorder: &scriptRecorder{}}
	c, err := NewOnLink(Config{Conn: stream.Config{Domain: "gw.example.test"}, Platform: fakePlatform, Logger: slog.New(slog.DiscardHandler)}, hub, link)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id, body string) stanza.Message {
		return stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: id, From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}, Body: body}
	}
	presence := &stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: stanza.Attrs{Id: "p1", From: "alice@example.test/phone", To: "+15550000001@gw.example.test"}}

	for _, tc := range []struct {
		name         string
		p            stanza.Packet
		err          error
		wantAdmitted bool
		wantRefusal  string // in the refusal; "" for none
		wantCalls    []string
	}{
		{"message", msg("m1", "hi"), nil, true, "", []string{"FrontAdmitMessage"}},
		{"message pointer", func() stanza.Packet { m := msg("m2", "hi"); return &m }(), nil, true, "", []string{"FrontAdmitMessage"}},
		{"over the rate", msg("m3", "hi"), gateway.ErrTooFast, false, `<message type="error" id="m3" from="+15550000001@gw.example.test" to="alice@example.test/phone"><error type="wait"><policy-violation`, []string{"FrontAdmitMessage"}},
		{"gateway over its rate", msg("m4", "hi"), gateway.ErrRateLimited, false, `<resource-constraint`, []string{"FrontAdmitMessage"}},
		{"a marker only: not checked", msg("m5", ""), gateway.ErrTooFast, false, "", nil},
		{"presence: not checked", presence, gateway.ErrTooFast, false, "", nil},
	} {
		hub.mu.Lock()
		hub.admitErr = tc.err
		hub.mu.Unlock()
		refusal, admitted := c.AdmitAtFront(tc.p)
		if admitted != tc.wantAdmitted {
			t.Errorf("%s: admitted %v, want %v", tc.name, admitted, tc.wantAdmitted)
		}
		switch {
		case tc.wantRefusal == "" && refusal != nil:
			t.Errorf("%s: refused with %v", tc.name, refusal)
		case tc.wantRefusal != "":
			b, err := EncodeStanza(refusal)
			if err != nil || !strings.Contains(string(b), tc.wantRefusal) {
				t.Errorf("%s: refusal %s (%v), want it to hold %s", tc.name, b, err, tc.wantRefusal)
			}
		}
		if got := hub.takeAdmissions(); !slices.Equal(got, tc.wantCalls) {
			t.Errorf("%s: hub admissions %v, want %v", tc.name, got, tc.wantCalls)
		}
	}

	// The worker's side.
	hub.mu.Lock()
	hub.admitErr = nil
	hub.mu.Unlock()
	ctx := t.Context()
	if !c.FeedWait(ctx, msg("w1", "hi"), FeedOptions{Admitted: true}) {
		t.Fatal("FeedWait of an admitted message did not finish")
	}
	if !c.FeedWait(ctx, msg("w2", "hi"), FeedOptions{}) {
		t.Fatal("FeedWait of a message not admitted at the front did not finish")
	}
	if got, want := hub.takeAdmissions(), []string{"AdmitMessageRated", "AdmitMessage"}; !slices.Equal(got, want) {
		t.Errorf("worker admissions %v, want %v", got, want)
	}
	hub.mu.Lock()
	opts := slices.Clone(hub.sendOpts)
	hub.mu.Unlock()
	if len(opts) != 2 || !opts[0].Admitted || !opts[1].Admitted {
		t.Errorf("send options %+v: want both sent Admitted (one token each, taken once)", opts)
	}
	// Admitted at the front, but the worker finds no session: refused.
	hub.mu.Lock()
	hub.ratedErr = gateway.ErrNotLinked
	hub.mu.Unlock()
	link.take()
	if !c.FeedWait(ctx, msg("w3", "hi"), FeedOptions{Admitted: true}) {
		t.Fatal("FeedWait of a refused message did not finish")
	}
	if out := link.take(); len(out) != 1 || !strings.Contains(out[0], `id="w3"`) || !strings.Contains(out[0], "registration-required") {
		t.Errorf("refusal of an admitted message with no session: %v", out)
	}
}

// TestRefusal: each kind of stanza is answered with its own kind of
// error, swapped addresses and its id; an error or a result is not
// answered.
func TestRefusal(t *testing.T) {
	attrs := func(typ stanza.StanzaType) stanza.Attrs {
		return stanza.Attrs{Type: typ, Id: "s1", From: "mallory@example.test/phone", To: "+15550000001@gw.example.test"}
	}
	for _, tc := range []struct {
		name string
		p    stanza.Packet
		want string // "" for no refusal
	}{
		{"message", stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs(stanza.MessageTypeChat)}, "<message "},
		{"message pointer", &stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs(stanza.MessageTypeChat)}, "<message "},
		{"presence", stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: attrs("")}, "<presence "},
		{"presence pointer", &stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: attrs(stanza.PresenceTypeProbe)}, "<presence "},
		{"iq get", &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: attrs(stanza.IQTypeGet)}, "<iq "},
		{"iq set", &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: attrs(stanza.IQTypeSet)}, "<iq "},
		{"message error", stanza.Message{XMLName: xml.Name{Local: "message"}, Attrs: attrs(stanza.MessageTypeError)}, ""},
		{"presence error", &stanza.Presence{XMLName: xml.Name{Local: "presence"}, Attrs: attrs(stanza.PresenceTypeError)}, ""},
		{"iq result", &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: attrs(stanza.IQTypeResult)}, ""},
		{"iq error", &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: attrs(stanza.IQTypeError)}, ""},
	} {
		r := Refusal(tc.p, gateway.ErrRateLimited)
		if tc.want == "" {
			if r != nil {
				t.Errorf("%s: answered with %v", tc.name, r)
			}
			continue
		}
		b, err := EncodeStanza(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s := string(b)
		if !strings.HasPrefix(s, tc.want) || !strings.Contains(s, `type="error" id="s1" from="+15550000001@gw.example.test" to="mallory@example.test/phone"`) ||
			!strings.Contains(s, `<error type="wait"><resource-constraint`) {
			t.Errorf("%s: %s", tc.name, s)
		}
	}
}
