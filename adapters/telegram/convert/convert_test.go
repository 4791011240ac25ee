package convert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/drawbridge-im/drawbridge/adapters/telegram/convert"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	self  = 1001 // the linked account
	alice = 2002
)

var when = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fetch serves every file as its location, as text.
func fetch(_ context.Context, loc tg.InputFileLocationClass) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(fmt.Sprintf("%T %+v", loc, loc))), nil
}

// msg is a one-to-one message as the account's client receives it.
func msg(id int, out bool, text string, entities ...tg.MessageEntityClass) *tg.Message {
	m := &tg.Message{ID: id, Out: out, PeerID: &tg.PeerUser{UserID: alice}, Date: int(when.Unix()), Message: text, Entities: entities}
	if !out {
		m.FromID = &tg.PeerUser{UserID: alice}
	}
	m.SetFlags()
	return m
}

// topicEdit is the service message of topic 5 of forum 80 closed or
// reopened.
func topicEdit(closed bool) *tg.MessageService {
	a := &tg.MessageActionTopicEdit{}
	a.SetClosed(closed)
	return &tg.MessageService{ID: 9, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChannel{ChannelID: 80}, Date: int(when.Unix()),
		ReplyTo: &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: 5}, Action: a}
}

// golden compares got (an event, or a group), as indented JSON with its Go type, with
// testdata/<name>.json.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var view any = got
	if m, ok := got.(*event.Message); ok && len(m.Attachments) > 0 {
		// Attachments are shown with what their Open fetches.
		type shown struct {
			Name, MIMEType string
			Size           int64
			Kind           event.AttachmentKind
			Fetched        string
		}
		var atts []shown
		for _, a := range m.Attachments {
			rc, err := a.Open(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			atts = append(atts, shown{Name: a.Name, MIMEType: a.MIMEType, Size: a.Size, Kind: a.Kind, Fetched: string(b)})
		}
		c := *m
		c.Attachments = nil
		view = map[string]any{"Message": c, "Attachments": atts}
	}
	b, err := json.MarshalIndent(map[string]any{"type": fmt.Sprintf("%T", got), "event": view}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, b)
	}
}

// TestInboundGolden converts every update the adapter handles, built with
// gotd's tg types, and compares the neutral events with golden files.
func TestInboundGolden(t *testing.T) {
	withReply := msg(12, false, "yes, that one")
	withReply.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: 10}
	withPhoto := msg(13, false, "look")
	withPhoto.Media = &tg.MessageMediaPhoto{Photo: &tg.Photo{ID: 77, AccessHash: 78, FileReference: []byte("ref"), Sizes: []tg.PhotoSizeClass{
		&tg.PhotoSize{Type: "s", W: 90, H: 90, Size: 100}, &tg.PhotoSize{Type: "y", W: 1280, H: 960, Size: 4},
	}}}
	withDoc := msg(16, false, "the report")
	withDoc.Media = &tg.MessageMediaDocument{Document: &tg.Document{ID: 80, MimeType: "application/pdf", Size: 4,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "report.pdf"}}}}
	withVoice := msg(17, false, "")
	withVoice.Media = &tg.MessageMediaDocument{Document: &tg.Document{ID: 81, MimeType: "audio/ogg", Size: 4,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeAudio{Voice: true, Duration: 3}}}}
	withSticker := msg(18, false, "")
	withSticker.Media = &tg.MessageMediaDocument{Document: &tg.Document{ID: 82, MimeType: "image/webp", Size: 4,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeSticker{Alt: "😀"}, &tg.DocumentAttributeFilename{FileName: "sticker.webp"}}}}
	groupMsg := msg(20, false, "hello group")
	groupMsg.PeerID = &tg.PeerChat{ChatID: 42}
	withGeo := msg(19, false, "")
	withGeo.Media = &tg.MessageMediaGeo{Geo: &tg.GeoPoint{Lat: 52.5, Long: 13.4}}
	withVenue := msg(24, false, "")
	withVenue.Media = &tg.MessageMediaVenue{Geo: &tg.GeoPoint{Lat: 48.8584, Long: 2.2945}, Title: "Eiffel Tower", Address: "Champ de Mars, Paris"}
	withCard := msg(25, false, "")
	withCard.Media = &tg.MessageMediaContact{FirstName: "Carol", LastName: "Jones", PhoneNumber: "15550003333"}
	withPoll := msg(26, false, "")
	withPoll.Media = &tg.MessageMediaPoll{}
	chanMsg := msg(30, false, "hello supergroup")
	chanMsg.PeerID = &tg.PeerChannel{ChannelID: 77}
	chanMsg.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: 29}
	post := msg(31, false, "issue 1")
	post.PeerID, post.FromID = &tg.PeerChannel{ChannelID: 78}, nil
	topicMsg := msg(32, false, "v1.0 is out")
	topicMsg.PeerID = &tg.PeerChannel{ChannelID: 80}
	topicMsg.ReplyTo = &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: 5}
	topicReply := msg(33, false, "congrats")
	topicReply.PeerID = &tg.PeerChannel{ChannelID: 80}
	topicReply.ReplyTo = &tg.MessageReplyHeader{ForumTopic: true, ReplyToMsgID: 32, ReplyToTopID: 5}
	chanEdit := msg(30, false, "hello, supergroup")
	chanEdit.PeerID = &tg.PeerChannel{ChannelID: 77}
	edited := msg(14, false, "fixed text")
	edited.EditDate = int(when.Add(time.Minute).Unix())
	cases := []struct {
		name string
		ev   any // an event, or a group
	}{
		{"text", convert.Message("1001", self, msg(10, false, "hello from Telegram"), nil)},
		{"from-me", convert.Message("1001", self, msg(11, true, "sent on my phone"), nil)},
		{"styled", convert.Message("1001", self, msg(15, false, "bold italic and code",
			&tg.MessageEntityBold{Offset: 0, Length: 5}, &tg.MessageEntityItalic{Offset: 5, Length: 7},
			&tg.MessageEntityCode{Offset: 16, Length: 4}), nil)},
		{"reply", convert.Message("1001", self, withReply, nil)},
		{"photo-not-fetchable", convert.Message("1001", self, withPhoto, nil)},
		{"photo", convert.Message("1001", self, withPhoto, fetch)},
		{"document", convert.Message("1001", self, withDoc, fetch)},
		{"voice", convert.Message("1001", self, withVoice, fetch)},
		{"sticker", convert.Message("1001", self, withSticker, fetch)},
		{"location", convert.Message("1001", self, withGeo, fetch)},
		{"venue", convert.Message("1001", self, withVenue, fetch)},
		{"contact-card", convert.Message("1001", self, withCard, fetch)},
		{"poll-not-bridged", convert.Message("1001", self, withPoll, fetch)},
		{"edit", convert.Edit("1001", self, edited)},
		{"delete", convert.Retract("1001", convert.ChatID(alice), convert.UserID(alice), 12, when)},
		{"group", convert.Message("1001", self, groupMsg, nil)},
		{"group-add", convert.Service("1001", &tg.MessageService{ID: 21, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChat{ChatID: 42}, Date: int(when.Unix()), Action: &tg.MessageActionChatAddUser{Users: []int64{4004}}})[0]},
		{"group-kick", convert.Service("1001", &tg.MessageService{ID: 22, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChat{ChatID: 42}, Date: int(when.Unix()), Action: &tg.MessageActionChatDeleteUser{UserID: 4004}})[0]},
		{"group-leave", convert.Service("1001", &tg.MessageService{ID: 23, FromID: &tg.PeerUser{UserID: 4004}, PeerID: &tg.PeerChat{ChatID: 42}, Date: int(when.Unix()), Action: &tg.MessageActionChatDeleteUser{UserID: 4004}})[0]},
		{"supergroup", convert.Message("1001", self, chanMsg, nil)},
		{"supergroup-edit", convert.Edit("1001", self, chanEdit)},
		{"supergroup-join", convert.ChannelService("1001", &tg.MessageService{ID: 34, FromID: &tg.PeerUser{UserID: 4004}, PeerID: &tg.PeerChannel{ChannelID: 77}, Date: int(when.Unix()), Action: &tg.MessageActionChatJoinedByLink{}})[0]},
		{"channel-post", convert.Message("1001", self, post, nil)},
		{"topic", convert.Message("1001", self, topicMsg, nil)},
		{"topic-reply", convert.Message("1001", self, topicReply, nil)},
		{"group-info-supergroup", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 77, Title: "Gophers", Megagroup: true}, About: "Go talk", Count: 3,
			Participants: []tg.ChannelParticipantClass{&tg.ChannelParticipantCreator{UserID: alice}, &tg.ChannelParticipantAdmin{UserID: 3003}, &tg.ChannelParticipantSelf{UserID: self}},
			Users:        []tg.UserClass{&tg.User{ID: alice, FirstName: "Alice"}, &tg.User{ID: 3003, FirstName: "Bob"}},
		}, self)},
		{"group-info-channel", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 78, Title: "News", Broadcast: true}, Count: 5002,
			Participants: []tg.ChannelParticipantClass{&tg.ChannelParticipantCreator{UserID: alice}},
		}, self)},
		{"group-info-channel-admin", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 78, Title: "News", Broadcast: true, AdminRights: tg.ChatAdminRights{PostMessages: true}}, Count: 2,
			Participants: []tg.ChannelParticipantClass{&tg.ChannelParticipantCreator{UserID: alice}},
		}, self)},
		{"group-info-topic", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 80, Title: "Project", Megagroup: true, Forum: true}, Count: 100000, Topic: 5, TopicTitle: "Releases",
			Participants: []tg.ChannelParticipantClass{&tg.ChannelParticipantCreator{UserID: alice}},
		}, self)},
		{"group-info-with-photo", convert.Group(&tg.MessagesChatFull{
			FullChat: &tg.ChatFull{ID: 42, About: "Monthly picks"},
			Chats:    []tg.ChatClass{&tg.Chat{ID: 42, Title: "Book club", Photo: &tg.ChatPhoto{PhotoID: 9001}}},
		}, self)},
		{"group-info-channel-photo", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 78, Title: "News", Broadcast: true, Photo: &tg.ChatPhoto{PhotoID: 9002}}, Count: 1,
		}, self)},
		{"group-photo-changed", convert.GroupChange("1001", gateway.GroupInfo{Chat: "g42", Name: "Book club", Topic: "Monthly picks", AvatarHash: "tg9003",
			Members: []gateway.GroupMember{{User: "2002"}, {User: "1001"}}},
			&tg.MessageService{ID: 40, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChat{ChatID: 42}, Date: int(when.Unix()),
				Action: &tg.MessageActionChatEditPhoto{Photo: &tg.Photo{ID: 9003}}})},
		{"group-photo-removed", convert.GroupChange("1001", gateway.GroupInfo{Chat: "c77", Name: "Gophers"},
			&tg.MessageService{ID: 41, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChannel{ChannelID: 77}, Date: int(when.Unix()),
				Action: &tg.MessageActionChatDeletePhoto{}})},
		{"group-renamed", convert.GroupChange("1001", gateway.GroupInfo{Chat: "g42", Name: "Reading club"},
			&tg.MessageService{ID: 42, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChat{ChatID: 42}, Date: int(when.Unix()),
				Action: &tg.MessageActionChatEditTitle{Title: "Reading club"}})},
		{"topic-created", convert.GroupChange("1001", gateway.GroupInfo{Chat: "c80t5", Name: "Project / Roadmap", Self: "1001"},
			&tg.MessageService{ID: 5, FromID: &tg.PeerUser{UserID: alice}, PeerID: &tg.PeerChannel{ChannelID: 80}, Date: int(when.Unix()),
				Action: &tg.MessageActionTopicCreate{Title: "Roadmap"}})},
		{"topic-closed", convert.GroupChange("1001", gateway.GroupInfo{Chat: "c80t5", Name: "Project / Roadmap", ReadOnly: true},
			topicEdit(true))},
		{"topic-reopened", convert.GroupChange("1001", gateway.GroupInfo{Chat: "c80t5", Name: "Project / Roadmap"},
			topicEdit(false))},
		{"group-info-topic-closed", convert.Channel(convert.ChannelInfo{
			Channel: &tg.Channel{ID: 80, Title: "Project", Megagroup: true, Forum: true}, Count: 2, Topic: 5, TopicTitle: "Roadmap", TopicClosed: true,
			Participants: []tg.ChannelParticipantClass{&tg.ChannelParticipantCreator{UserID: alice}, &tg.ChannelParticipantSelf{UserID: self}},
		}, self)},
		{"read-up-to", convert.ReadOutbox("1001", &tg.UpdateReadHistoryOutbox{Peer: &tg.PeerUser{UserID: alice}, MaxID: 11, Pts: 7, PtsCount: 1}, when)},
		{"typing", convert.ChatState("1001", &tg.UpdateUserTyping{UserID: alice, Action: &tg.SendMessageTypingAction{}}, when)},
		{"typing-cancel", convert.ChatState("1001", &tg.UpdateUserTyping{UserID: alice, Action: &tg.SendMessageCancelAction{}}, when)},
		{"reaction", convert.Reaction("1001", &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: alice}, MsgID: 11, Reactions: tg.MessageReactions{
			RecentReactions: []tg.MessagePeerReaction{
				{PeerID: &tg.PeerUser{UserID: self}, My: true, Reaction: &tg.ReactionEmoji{Emoticon: "🔥"}},
				{PeerID: &tg.PeerUser{UserID: alice}, Reaction: &tg.ReactionEmoji{Emoticon: "👍"}},
			}}}, alice, when)},
		{"reaction-removed", convert.Reaction("1001", &tg.UpdateMessageReactions{Peer: &tg.PeerUser{UserID: alice}, MsgID: 11}, alice, when)},
		{"presence-online", convert.Presence("1001", alice, &tg.UserStatusOnline{Expires: int(when.Add(time.Minute).Unix())}, when)},
		{"presence-last-seen", convert.Presence("1001", alice, &tg.UserStatusOffline{WasOnline: int(when.Add(-time.Hour).Unix())}, when)},
		{"presence-recently", convert.Presence("1001", alice, &tg.UserStatusRecently{}, when)},
		{"contact", convert.Contact("1001", &tg.User{ID: alice, FirstName: "Alice", LastName: "Liddell", Phone: "15550001111"}, when)},
		{"contact-with-photo", convert.Contact("1001", &tg.User{ID: alice, FirstName: "Alice", Photo: &tg.UserProfilePhoto{PhotoID: 4242}}, when)},
		{"contact-username-only", convert.Contact("1001", &tg.User{ID: alice, Username: "alice"}, when)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, tc.ev) })
	}
}

// TestStyled checks the entity → XEP-0393 translation, including UTF-16
// offsets, nesting and whitespace at span edges.
func TestStyled(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		entities []tg.MessageEntityClass
		want     string
	}{
		{"none", "plain", nil, "plain"},
		{"bold", "a bold b", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 2, Length: 4}}, "a *bold* b"},
		{"trailing space moves out", "bold rest", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 0, Length: 5}}, "*bold* rest"},
		{"strike and code", "old x", []tg.MessageEntityClass{&tg.MessageEntityStrike{Offset: 0, Length: 3}, &tg.MessageEntityCode{Offset: 4, Length: 1}}, "~old~ `x`"},
		{"nested", "all bold", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 0, Length: 8}, &tg.MessageEntityItalic{Offset: 4, Length: 4}}, "*all _bold_*"},
		{"utf16 offsets after an emoji", "😀 hi", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 3, Length: 2}}, "😀 *hi*"},
		{"pre block", "see\nfunc()\n", []tg.MessageEntityClass{&tg.MessageEntityPre{Offset: 4, Length: 6, Language: "go"}}, "see\n```go\nfunc()\n```\n"},
		{"pre inline gets its own lines", "run x now", []tg.MessageEntityClass{&tg.MessageEntityPre{Offset: 4, Length: 1}}, "run \n```\nx\n```\n now"},
		{"text link", "click here", []tg.MessageEntityClass{&tg.MessageEntityTextURL{Offset: 6, Length: 4, URL: "https://example.org"}}, "click here <https://example.org>"},
		{"link equal to its text", "https://example.org", []tg.MessageEntityClass{&tg.MessageEntityTextURL{Offset: 0, Length: 19, URL: "https://example.org"}}, "https://example.org"},
		{"blockquote", "he said\nline one\nline two", []tg.MessageEntityClass{&tg.MessageEntityBlockquote{Offset: 8, Length: 17}}, "he said\n> line one\n> line two"},
		{"underline and spoiler keep text", "u s", []tg.MessageEntityClass{&tg.MessageEntityUnderline{Offset: 0, Length: 1}, &tg.MessageEntitySpoiler{Offset: 2, Length: 1}}, "u s"},
		{"out of range ignored", "abc", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 2, Length: 9}}, "abc"},
		{"whitespace-only span dropped", "a  b", []tg.MessageEntityClass{&tg.MessageEntityBold{Offset: 1, Length: 2}}, "a  b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := convert.Styled(tc.text, tc.entities); got != tc.want {
				t.Errorf("Styled(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

// TestServiceRoom: the room a service message changes.
func TestServiceRoom(t *testing.T) {
	for _, tc := range []struct {
		m    *tg.MessageService
		want ids.ChatID
	}{
		{&tg.MessageService{ID: 3, PeerID: &tg.PeerChat{ChatID: 42}, Action: &tg.MessageActionChatEditPhoto{}}, "g42"},
		{&tg.MessageService{ID: 3, PeerID: &tg.PeerChannel{ChannelID: 77}, Action: &tg.MessageActionChatDeletePhoto{}}, "c77"},
		{&tg.MessageService{ID: 5, PeerID: &tg.PeerChannel{ChannelID: 80}, Action: &tg.MessageActionTopicCreate{Title: "Roadmap"}}, "c80t5"},
		{topicEdit(true), "c80t5"},
		{&tg.MessageService{ID: 3, PeerID: &tg.PeerUser{UserID: alice}, Action: &tg.MessageActionChatEditTitle{}}, ""},
	} {
		if got := convert.ServiceRoom(tc.m); got != tc.want {
			t.Errorf("ServiceRoom(%T in %T) = %q, want %q", tc.m.Action, tc.m.PeerID, got, tc.want)
		}
	}
}

func TestIDs(t *testing.T) {
	if id, err := convert.ParseUser(convert.ChatID(alice)); err != nil || id != alice {
		t.Errorf("ParseUser(ChatID) = %d, %v", id, err)
	}
	for _, bad := range []string{"", "abc", "-5", "0", "+15550001111"} {
		if _, err := convert.ParseUser(bad); err == nil {
			t.Errorf("ParseUser(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		chat    string
		channel int64
		topic   int
		ok      bool
	}{
		{"c77", 77, 0, true}, {"c80t5", 80, 5, true}, {"c80t1", 0, 0, false}, {"c80t", 0, 0, false},
		{"c+5", 0, 0, false}, {"c0", 0, 0, false}, {"g42", 0, 0, false}, {"2002", 0, 0, false}, {"c80t-3", 0, 0, false},
	} {
		ch, tp, ok := convert.ParseChannel(ids.ChatID(tc.chat))
		if ch != tc.channel || tp != tc.topic || ok != tc.ok {
			t.Errorf("ParseChannel(%q) = %d, %d, %v", tc.chat, ch, tp, ok)
		}
	}
	if got := convert.TopicID(80, 5); got != "c80t5" || convert.TopicID(80, 1) != "c80" || convert.TopicID(80, 0) != "c80" {
		t.Errorf("TopicID = %s", got)
	}
	if id, err := convert.ParseMessage(convert.MessageID(42)); err != nil || id != 42 {
		t.Errorf("ParseMessage = %d, %v", id, err)
	}
	if got := convert.TypingAction(event.Composing); got.TypeID() != tg.SendMessageTypingActionTypeID {
		t.Errorf("TypingAction(composing) = %T", got)
	}
	if got := convert.TypingAction(event.Paused); got.TypeID() != tg.SendMessageCancelActionTypeID {
		t.Errorf("TypingAction(paused) = %T", got)
	}
}
