package whatsapptest

import (
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
)

// ParseWebMessage implements whatsapp.Client with whatsmeow's own parser.
func (c *Client) ParseWebMessage(chatJID types.JID, webMsg *waWeb.WebMessageInfo) (*events.Message, error) {
	return c.builder.ParseWebMessage(chatJID, webMsg)
}

// WebMsg is a message as a history sync blob carries it.
type WebMsg struct {
	ID          types.MessageID
	FromMe      bool
	Participant types.JID // the author in a group
	Time        time.Time
	Message     *waE2E.Message
}

// HistorySync is a history sync blob of type typ with conversations by
// chat JID, each message newest first as the phone sends them.
func HistorySync(typ waHistorySync.HistorySync_HistorySyncType, convs map[types.JID][]WebMsg) *events.HistorySync {
	data := &waHistorySync.HistorySync{SyncType: typ.Enum()}
	for chat, msgs := range convs {
		conv := &waHistorySync.Conversation{ID: proto.String(chat.String())}
		for _, m := range msgs {
			wm := &waWeb.WebMessageInfo{
				Key:              &waCommon.MessageKey{RemoteJID: proto.String(chat.String()), FromMe: proto.Bool(m.FromMe), ID: proto.String(m.ID)},
				Message:          m.Message,
				MessageTimestamp: proto.Uint64(uint64(m.Time.Unix())),
			}
			if !m.Participant.IsEmpty() {
				wm.Participant = proto.String(m.Participant.String())
			}
			conv.Messages = append(conv.Messages, &waHistorySync.HistorySyncMsg{Message: wm})
		}
		data.Conversations = append(data.Conversations, conv)
	}
	return &events.HistorySync{Data: data}
}
