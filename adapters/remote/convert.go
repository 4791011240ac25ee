package remote

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// errMalformed marks a message from the other side that breaks the
// protocol (a missing oneof, an unknown enum value).
var errMalformed = fmt.Errorf("malformed adapter protocol message: %w", gateway.ErrBadRequest)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil || t.CheckValid() != nil {
		return time.Time{}
	}
	return t.AsTime()
}

func strs[T ~string](in []T) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

func typed[T ~string](in []string) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

func metaToProto(m *event.Meta) *adapterv1.Meta {
	return &adapterv1.Meta{
		Account: string(m.Account), Chat: string(m.Chat), Group: m.Group,
		Sender: string(m.Sender), FromMe: m.FromMe, Time: ts(m.Time), Id: string(m.ID),
	}
}

func metaFromProto(m *adapterv1.Meta) event.Meta {
	return event.Meta{
		Account: ids.AccountID(m.GetAccount()), Chat: ids.ChatID(m.GetChat()), Group: m.GetGroup(),
		Sender: ids.UserID(m.GetSender()), FromMe: m.GetFromMe(), Time: fromTS(m.GetTime()), ID: ids.MessageID(m.GetId()),
	}
}

// attachRef names the file of an attachment on the wire; open resolves a
// reference back into an Open function. Either may be nil (no files).
type (
	attachRef  func(a event.Attachment) string
	attachOpen func(ref string) func(context.Context) (io.ReadCloser, error)
)

// eventToProto encodes a neutral event; ref names attachments' bytes.
func eventToProto(ev event.Event, ref attachRef) (*adapterv1.Event, error) {
	if ev == nil {
		return nil, fmt.Errorf("nil event: %w", gateway.ErrBadRequest)
	}
	out := &adapterv1.Event{Meta: metaToProto(ev.EventMeta())}
	switch e := ev.(type) {
	case *event.Message:
		m := &adapterv1.Message{
			Body: e.Body, ReplyTo: string(e.ReplyTo), ReplyToSender: string(e.ReplyToSender),
			ReplyQuote: e.ReplyQuote, Mentions: strs(e.Mentions),
		}
		for _, a := range e.Attachments {
			pa := &adapterv1.Attachment{Url: a.URL, Name: a.Name, MimeType: a.MIMEType, Size: a.Size, Kind: string(a.Kind)}
			if a.Open != nil && ref != nil {
				pa.Ref = ref(a)
			}
			m.Attachments = append(m.Attachments, pa)
		}
		out.Kind = &adapterv1.Event_Message{Message: m}
	case *event.Edit:
		out.Kind = &adapterv1.Event_Edit{Edit: &adapterv1.Edit{Target: string(e.Target), Body: e.Body}}
	case *event.Retract:
		out.Kind = &adapterv1.Event_Retract{Retract: &adapterv1.Retract{Target: string(e.Target)}}
	case *event.Reaction:
		out.Kind = &adapterv1.Event_Reaction{Reaction: &adapterv1.Reaction{Target: string(e.Target), Emojis: e.Emojis}}
	case *event.Receipt:
		out.Kind = &adapterv1.Event_Receipt{Receipt: &adapterv1.Receipt{Kind: adapterv1.Receipt_Kind(e.Kind), Targets: strs(e.Targets)}}
	case *event.ChatState:
		out.Kind = &adapterv1.Event_ChatState{ChatState: &adapterv1.ChatState{State: string(e.State)}}
	case *event.Presence:
		out.Kind = &adapterv1.Event_Presence{Presence: &adapterv1.Presence{
			Available: e.Available, Show: e.Show, Status: e.Status, LastSeen: ts(e.LastSeen)}}
	case *event.ContactInfo:
		out.Kind = &adapterv1.Event_ContactInfo{ContactInfo: &adapterv1.ContactInfo{
			Name: e.Name, Phone: e.Phone, AvatarHash: e.AvatarHash}}
	case *event.ChatInfo:
		out.Kind = &adapterv1.Event_ChatInfo{ChatInfo: &adapterv1.ChatInfo{
			Name: e.Name, Topic: e.Topic, IsGroup: e.IsGroup, Members: strs(e.Members), AvatarHash: e.AvatarHash, ReadOnly: e.ReadOnly}}
	case *event.MembershipChange:
		out.Kind = &adapterv1.Event_MembershipChange{MembershipChange: &adapterv1.MembershipChange{
			User: string(e.User), Action: string(e.Action)}}
	case *event.AccountState:
		out.Kind = &adapterv1.Event_AccountState{AccountState: &adapterv1.AccountState{
			State: string(e.State), Detail: e.Detail}}
	default:
		return nil, fmt.Errorf("event of type %T: %w", ev, gateway.ErrNotSupported)
	}
	return out, nil
}

// eventFromProto decodes an event from the other side. It refuses what
// the protocol does not allow (no kind, no account, an unknown receipt
// kind) with an error wrapping errMalformed; open gives attachments with
// a reference their Open.
func eventFromProto(pe *adapterv1.Event, open attachOpen) (event.Event, error) {
	if pe == nil || pe.GetMeta() == nil {
		return nil, fmt.Errorf("event without meta: %w", errMalformed)
	}
	meta := metaFromProto(pe.GetMeta())
	if meta.Account == "" {
		return nil, fmt.Errorf("event without account: %w", errMalformed)
	}
	switch k := pe.GetKind().(type) {
	case *adapterv1.Event_Message:
		m := k.Message
		if m == nil {
			return nil, fmt.Errorf("empty message: %w", errMalformed)
		}
		out := &event.Message{Meta: meta, Body: m.GetBody(), ReplyTo: ids.MessageID(m.GetReplyTo()),
			ReplyToSender: ids.UserID(m.GetReplyToSender()), ReplyQuote: m.GetReplyQuote(), Mentions: typed[ids.UserID](m.GetMentions())}
		for i, a := range m.GetAttachments() {
			if a == nil {
				return nil, fmt.Errorf("attachment %d is empty: %w", i, errMalformed)
			}
			if a.GetSize() < 0 {
				return nil, fmt.Errorf("attachment %d has a negative size %d: %w", i, a.GetSize(), errMalformed)
			}
			att := event.Attachment{URL: a.GetUrl(), Name: a.GetName(), MIMEType: a.GetMimeType(), Size: a.GetSize(), Kind: event.AttachmentKind(a.GetKind())}
			if r := a.GetRef(); r != "" && open != nil {
				att.Open = open(r)
			}
			out.Attachments = append(out.Attachments, att)
		}
		return out, nil
	case *adapterv1.Event_Edit:
		return &event.Edit{Meta: meta, Target: ids.MessageID(k.Edit.GetTarget()), Body: k.Edit.GetBody()}, nil
	case *adapterv1.Event_Retract:
		return &event.Retract{Meta: meta, Target: ids.MessageID(k.Retract.GetTarget())}, nil
	case *adapterv1.Event_Reaction:
		return &event.Reaction{Meta: meta, Target: ids.MessageID(k.Reaction.GetTarget()), Emojis: k.Reaction.GetEmojis()}, nil
	case *adapterv1.Event_Receipt:
		kind := event.ReceiptKind(k.Receipt.GetKind())
		if kind != event.Delivered && kind != event.Displayed {
			return nil, fmt.Errorf("receipt of kind %d: %w", k.Receipt.GetKind(), errMalformed)
		}
		return &event.Receipt{Meta: meta, Kind: kind, Targets: typed[ids.MessageID](k.Receipt.GetTargets())}, nil
	case *adapterv1.Event_ChatState:
		return &event.ChatState{Meta: meta, State: event.ChatStateKind(k.ChatState.GetState())}, nil
	case *adapterv1.Event_Presence:
		p := k.Presence
		return &event.Presence{Meta: meta, Available: p.GetAvailable(), Show: p.GetShow(), Status: p.GetStatus(), LastSeen: fromTS(p.GetLastSeen())}, nil
	case *adapterv1.Event_ContactInfo:
		c := k.ContactInfo
		return &event.ContactInfo{Meta: meta, Name: c.GetName(), Phone: c.GetPhone(), AvatarHash: c.GetAvatarHash()}, nil
	case *adapterv1.Event_ChatInfo:
		c := k.ChatInfo
		return &event.ChatInfo{Meta: meta, Name: c.GetName(), Topic: c.GetTopic(), IsGroup: c.GetIsGroup(), Members: typed[ids.UserID](c.GetMembers()),
			AvatarHash: c.AvatarHash, ReadOnly: c.ReadOnly}, nil
	case *adapterv1.Event_MembershipChange:
		return &event.MembershipChange{Meta: meta, User: ids.UserID(k.MembershipChange.GetUser()), Action: event.MembershipAction(k.MembershipChange.GetAction())}, nil
	case *adapterv1.Event_AccountState:
		return &event.AccountState{Meta: meta, State: event.State(k.AccountState.GetState()), Detail: k.AccountState.GetDetail()}, nil
	}
	return nil, fmt.Errorf("event without a kind: %w", errMalformed)
}

func capsToProto(c gateway.Capabilities) *adapterv1.Capabilities {
	return &adapterv1.Capabilities{
		MaxBodyLength: int64(c.MaxBodyLength), Receipts: c.Receipts, ReadMarkers: c.ReadMarkers, ChatStates: c.ChatStates,
		Edits: c.Edits, EditWindowMs: c.EditWindow.Milliseconds(), Retractions: c.Retractions,
		RetractWindowMs: c.RetractWindow.Milliseconds(), Reactions: c.Reactions,
		MaxReactionsPerUser: int64(c.MaxReactionsPerUser), AllowedReactions: c.AllowedReactions,
		Replies: c.Replies, MaxFileSize: c.MaxFileSize, MediaTypes: c.MediaTypes,
	}
}

// capsFromProto decodes capabilities; negative limits are refused.
func capsFromProto(c *adapterv1.Capabilities) (gateway.Capabilities, error) {
	if c == nil {
		return gateway.Capabilities{}, nil
	}
	if c.GetMaxBodyLength() < 0 || c.GetEditWindowMs() < 0 || c.GetRetractWindowMs() < 0 ||
		c.GetMaxReactionsPerUser() < 0 || c.GetMaxFileSize() < 0 {
		return gateway.Capabilities{}, fmt.Errorf("capabilities with a negative limit: %w", errMalformed)
	}
	// A window in milliseconds past what a time.Duration holds (about 292
	// years) would wrap to a negative one.
	if maxMs := int64(math.MaxInt64 / time.Millisecond); c.GetEditWindowMs() > maxMs || c.GetRetractWindowMs() > maxMs {
		return gateway.Capabilities{}, fmt.Errorf("capabilities with a window too long to represent: %w", errMalformed)
	}
	return gateway.Capabilities{
		MaxBodyLength: int(c.GetMaxBodyLength()), Receipts: c.GetReceipts(), ReadMarkers: c.GetReadMarkers(),
		ChatStates: c.GetChatStates(), Edits: c.GetEdits(), EditWindow: time.Duration(c.GetEditWindowMs()) * time.Millisecond,
		Retractions: c.GetRetractions(), RetractWindow: time.Duration(c.GetRetractWindowMs()) * time.Millisecond,
		Reactions: c.GetReactions(), MaxReactionsPerUser: int(c.GetMaxReactionsPerUser()),
		AllowedReactions: c.GetAllowedReactions(), Replies: c.GetReplies(), MaxFileSize: c.GetMaxFileSize(),
		MediaTypes: c.GetMediaTypes(),
	}, nil
}

func fieldsToProto(fs []gateway.LoginField) []*adapterv1.LoginField {
	var out []*adapterv1.LoginField
	for _, f := range fs {
		out = append(out, &adapterv1.LoginField{Id: f.ID, Label: f.Label, Description: f.Description, Pattern: f.Pattern})
	}
	return out
}

func fieldsFromProto(fs []*adapterv1.LoginField) []gateway.LoginField {
	var out []gateway.LoginField
	for _, f := range fs {
		out = append(out, gateway.LoginField{ID: f.GetId(), Label: f.GetLabel(), Description: f.GetDescription(), Pattern: f.GetPattern()})
	}
	return out
}

func flowsToProto(fs []gateway.LoginFlow) []*adapterv1.LoginFlow {
	var out []*adapterv1.LoginFlow
	for _, f := range fs {
		out = append(out, &adapterv1.LoginFlow{Id: f.ID, Name: f.Name, Description: f.Description, Fields: fieldsToProto(f.Fields)})
	}
	return out
}

func flowsFromProto(fs []*adapterv1.LoginFlow) []gateway.LoginFlow {
	var out []gateway.LoginFlow
	for _, f := range fs {
		out = append(out, gateway.LoginFlow{ID: f.GetId(), Name: f.GetName(), Description: f.GetDescription(), Fields: fieldsFromProto(f.GetFields())})
	}
	return out
}

func stepToProto(s gateway.LoginStep) *adapterv1.LoginStep {
	return &adapterv1.LoginStep{Kind: adapterv1.LoginStep_Kind(s.Kind), Instructions: s.Instructions,
		Fields: fieldsToProto(s.Fields), Data: s.Data, Expires: ts(s.Expires), Account: string(s.Account)}
}

// stepFromProto decodes a login step; an unknown kind, or StepDone
// without an account, is malformed.
func stepFromProto(s *adapterv1.LoginStep) (gateway.LoginStep, error) {
	kind := gateway.LoginStepKind(s.GetKind())
	if kind < gateway.StepInput || kind > gateway.StepDone {
		return gateway.LoginStep{}, fmt.Errorf("login step of kind %d: %w", s.GetKind(), errMalformed)
	}
	if kind == gateway.StepDone && s.GetAccount() == "" {
		return gateway.LoginStep{}, fmt.Errorf("login step done without an account: %w", errMalformed)
	}
	return gateway.LoginStep{Kind: kind, Instructions: s.GetInstructions(), Fields: fieldsFromProto(s.GetFields()),
		Data: s.GetData(), Expires: fromTS(s.GetExpires()), Account: ids.AccountID(s.GetAccount())}, nil
}

func groupToProto(g gateway.GroupInfo) *adapterv1.GroupInfo {
	out := &adapterv1.GroupInfo{Chat: string(g.Chat), Name: g.Name, Topic: g.Topic, Self: string(g.Self), TopicByAdminsOnly: g.TopicByAdminsOnly,
		ReadOnly: g.ReadOnly, MemberCount: int32(min(g.MemberCount, math.MaxInt32)), AvatarHash: g.AvatarHash}
	for _, m := range g.Members {
		out.Members = append(out.Members, &adapterv1.GroupMember{User: string(m.User), Name: m.Name, Role: adapterv1.GroupRole(m.Role)})
	}
	return out
}

func groupFromProto(g *adapterv1.GroupInfo) (gateway.GroupInfo, error) {
	out := gateway.GroupInfo{Chat: ids.ChatID(g.GetChat()), Name: g.GetName(), Topic: g.GetTopic(), Self: ids.UserID(g.GetSelf()), TopicByAdminsOnly: g.GetTopicByAdminsOnly(),
		ReadOnly: g.GetReadOnly(), MemberCount: int(g.GetMemberCount()), AvatarHash: g.GetAvatarHash()}
	if out.MemberCount < 0 {
		return gateway.GroupInfo{}, fmt.Errorf("group with member count %d: %w", out.MemberCount, errMalformed)
	}
	for _, m := range g.GetMembers() {
		role := gateway.GroupRole(m.GetRole())
		if role < gateway.RoleMember || role > gateway.RoleOwner {
			return gateway.GroupInfo{}, fmt.Errorf("group member with role %d: %w", m.GetRole(), errMalformed)
		}
		out.Members = append(out.Members, gateway.GroupMember{User: ids.UserID(m.GetUser()), Name: m.GetName(), Role: role})
	}
	return out, nil
}
