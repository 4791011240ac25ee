package delivery

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

func TestJournalCodecRoundTrip(t *testing.T) {
	meta := event.Meta{
		Account: "+15550001111", Chat: "+15550002222", Sender: "+15550002222",
		FromMe: true, Time: time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC), ID: "msg-1",
	}
	tests := []struct {
		name string
		ev   event.Event
	}{
		{"message", &event.Message{Meta: meta, Body: "héllo *world*\n<&>", ReplyTo: "msg-0",
			ReplyToSender: "+15550001111", ReplyQuote: "earlier", Mentions: []ids.UserID{"+15550001111"}}},
		{"message with a file", &event.Message{Meta: meta, Attachments: []event.Attachment{
			{URL: "https://files.example.test/a.jpg", Name: "a.jpg", MIMEType: "image/jpeg", Size: 1234, Kind: event.KindImage}}}},
		{"empty message", &event.Message{}},
		{"history message", &event.Message{Meta: meta, Body: "from before the link", History: true}},
		{"edit", &event.Edit{Meta: meta, Target: "msg-0", Body: "fixed"}},
		{"edit with a file", &event.Edit{Meta: meta, Target: "msg-0~1", Attachments: []event.Attachment{
			{URL: "https://files.example.test/b.jpg", Name: "b.jpg", MIMEType: "image/jpeg", Size: 99, Kind: event.KindImage}}}},
		{"group message", &event.Message{Meta: event.Meta{Account: "+15550001111", Chat: "g1", Sender: "+15550002222", Group: true, ID: "msg-2"}, Body: "hi all"}},
		{"retract", &event.Retract{Meta: meta, Target: "msg-0"}},
		{"reaction", &event.Reaction{Meta: meta, Target: "msg-0", Emojis: []string{"👍", "❤️"}}},
		{"reactions removed", &event.Reaction{Meta: meta, Target: "msg-0"}},
		{"delivery receipt", &event.Receipt{Meta: meta, Kind: event.Delivered, Targets: []ids.MessageID{"msg-0", "msg-1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !Journaled(tc.ev) {
				t.Fatalf("Journaled(%T) = false", tc.ev)
			}
			data, err := encodeJournal("sandbox", tc.ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			platform, got, err := decodeJournal(data)
			if err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			if platform != "sandbox" || !reflect.DeepEqual(got, tc.ev) {
				t.Errorf("round trip = %s %#v, want sandbox %#v", platform, got, tc.ev)
			}
		})
	}
}

// TestJournalCodecDropsOpen checks that a file's content function is left
// out (it cannot outlive the process) while the rest of the file survives.
func TestJournalCodecDropsOpen(t *testing.T) {
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }
	ev := &event.Message{Attachments: []event.Attachment{{Name: "a.txt", Kind: event.KindFile, Open: open}}}
	data, err := encodeJournal("sandbox", ev)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	_, got, err := decodeJournal(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	atts := got.(*event.Message).Attachments
	if len(atts) != 1 || atts[0].Name != "a.txt" || atts[0].Open != nil {
		t.Errorf("attachments after the round trip = %+v", atts)
	}
}

func TestJournalCodecRefuses(t *testing.T) {
	if Journaled(&event.ChatState{}) || Journaled(&event.Presence{}) || Journaled(&event.Receipt{Kind: event.Displayed}) {
		t.Error("typing, presence or displayed markers would be journaled")
	}
	if _, err := encodeJournal("sandbox", &event.ChatState{}); !errors.Is(err, errNotJournaled) {
		t.Errorf("encode a chat state: %v, want errNotJournaled", err)
	}
	bad := []struct {
		name string
		data string
	}{
		{"not json", "{"},
		{"other version", `{"v":2,"p":"sandbox","t":"message","e":{}}`},
		{"unknown type", `{"v":1,"p":"sandbox","t":"presence","e":{}}`},
		{"bad event", `{"v":1,"p":"sandbox","t":"edit","e":[1]}`},
	}
	for _, tc := range bad {
		if _, _, err := decodeJournal([]byte(tc.data)); err == nil {
			t.Errorf("%s: decoded %s", tc.name, tc.data)
		}
	}
}
