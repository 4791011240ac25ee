package delivery

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// marshalEnvelope is how the envelope was written before appendEnvelope:
// json.Marshal of the struct, the reference the hand-written one must
// match byte for byte (journals written by either are read by both).
func marshalEnvelope(t testing.TB, platform ids.PlatformID, tag string, raw []byte) []byte {
	t.Helper()
	data, err := json.Marshal(journalEnvelope{Version: journalVersion, Platform: platform, Type: tag, Event: raw})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAppendEnvelopeMatchesMarshal(t *testing.T) {
	bodies := []any{
		&event.Message{Meta: event.Meta{Account: "+1555", Chat: "c<&>", ID: "m\"1\\", Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC)},
			Body: "héllo <b>&amp;</b>\n\t\u2028 \x01 😀"},
		&event.Receipt{Kind: event.Delivered, Targets: []ids.MessageID{"a", "b"}},
		map[string]any{},
	}
	platforms := []ids.PlatformID{"sandbox", "whatsapp", "tele-gram_2", "", "odd\"id", "é", "a<b>&c", "tab\there"}
	for _, body := range bodies {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range platforms {
			for _, tag := range []string{tagMessage, tagEdit, tagRetract, tagReaction, tagReceipt} {
				got, err := appendEnvelope(nil, p, tag, raw)
				if err != nil {
					t.Fatalf("appendEnvelope(%q, %q): %v", p, tag, err)
				}
				if want := marshalEnvelope(t, p, tag, raw); !bytes.Equal(got, want) {
					t.Errorf("appendEnvelope(%q, %q) =\n%s\nwant (json.Marshal)\n%s", p, tag, got, want)
				}
			}
		}
	}
}

// FuzzAppendEnvelope: for any platform id and event text, the
// hand-written envelope is json.Marshal's.
func FuzzAppendEnvelope(f *testing.F) {
	f.Add("sandbox", "hello")
	f.Add("wh<at>s&app", "\x00\"\\\u2028")
	f.Fuzz(func(t *testing.T, platform, body string) {
		raw, err := json.Marshal(map[string]string{"Body": body})
		if err != nil {
			t.Skip()
		}
		got, err := appendEnvelope(nil, ids.PlatformID(platform), tagMessage, raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := marshalEnvelope(t, ids.PlatformID(platform), tagMessage, raw); !bytes.Equal(got, want) {
			t.Errorf("appendEnvelope(%q) =\n%s\nwant\n%s", platform, got, want)
		}
	})
}

// BenchmarkEncodeJournal: one relayed text message, as the journal
// encodes it.
func BenchmarkEncodeJournal(b *testing.B) {
	ev := &event.Message{Meta: event.Meta{Account: "+15550001111", Chat: "+15550002222", Sender: "+15550002222",
		Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC), ID: "3EB0C431C26A1916E4E0"}, Body: "Hello there, how are you doing today?"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeJournal("sandbox", ev); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEncodeJournalMatchesMarshal: encodeJournal's bytes are those of the
// encoding before it wrote the envelope by hand (json.Marshal of the
// event, then of the envelope around it).
func TestEncodeJournalMatchesMarshal(t *testing.T) {
	meta := event.Meta{Account: "+1555", Chat: "c<&>", Sender: "s", ID: "m\"1\\", Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC)}
	atts := []event.Attachment{{URL: "https://f.example.test/a?x=1&y=<2>", Name: "a.jpg", MIMEType: "image/jpeg", Size: 7, Kind: event.KindImage}}
	msg := &event.Message{Meta: meta, Body: "héllo <b>&amp;</b>\n\u2028 \x01 😀", Attachments: atts, Mentions: []ids.UserID{"u"}}
	edit := &event.Edit{Meta: meta, Target: "t", Body: "x", Attachments: atts}
	tests := []struct {
		ev   event.Event
		tag  string
		body any
	}{
		{msg, tagMessage, journalMessage{Message: msg, Attachments: journalAttachments(msg.Attachments)}},
		{edit, tagEdit, journalEdit{Edit: edit, Attachments: journalAttachments(edit.Attachments)}},
		{&event.Retract{Meta: meta, Target: "t"}, tagRetract, nil},
		{&event.Reaction{Meta: meta, Target: "t", Emojis: []string{"👍"}}, tagReaction, nil},
		{&event.Receipt{Meta: meta, Kind: event.Delivered, Targets: []ids.MessageID{"a"}}, tagReceipt, nil},
	}
	for _, tc := range tests {
		body := tc.body
		if body == nil {
			body = tc.ev
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []ids.PlatformID{"whatsapp", "x<y"} {
			got, err := encodeJournal(p, tc.ev)
			if err != nil {
				t.Fatalf("encodeJournal(%T): %v", tc.ev, err)
			}
			if want := marshalEnvelope(t, p, tc.tag, raw); !bytes.Equal(got, want) {
				t.Errorf("encodeJournal(%q, %T) =\n%s\nwant\n%s", p, tc.ev, got, want)
			}
		}
	}
}
