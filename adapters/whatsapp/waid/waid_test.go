package waid_test

import (
	"context"
	"errors"
	"testing"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/waid"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

type lids map[types.JID]types.JID

func (m lids) GetPNForLID(_ context.Context, lid types.JID) (types.JID, error) {
	if pn, ok := m[lid]; ok {
		return pn, nil
	}
	return types.EmptyJID, errors.New("not found")
}

var (
	own    = types.NewJID("15550000100", types.DefaultUserServer)
	ownLID = types.NewJID("900000000100", types.HiddenUserServer)
	alice  = types.NewJID("15550001111", types.DefaultUserServer)
	aliceL = types.NewJID("900000001111", types.HiddenUserServer)
	bobL   = types.NewJID("900000002222", types.HiddenUserServer)
	m      = &waid.Mapper{Own: own, OwnLID: ownLID, LIDs: lids{aliceL: alice}}
)

func TestUserID(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		jid, alt types.JID
		want     ids.UserID
	}{
		{alice, types.EmptyJID, "+15550001111"},
		{types.JID{User: "15550001111", Device: 3, Server: types.DefaultUserServer}, types.EmptyJID, "+15550001111"},
		{aliceL, types.EmptyJID, "+15550001111"},
		{bobL, types.EmptyJID, "lid-900000002222"},
		{bobL, types.NewJID("15550002222", types.DefaultUserServer), "+15550002222"},
		{ownLID, types.EmptyJID, "+15550000100"},
		{types.JID{User: "15550000100", Device: 12, Server: types.DefaultUserServer}, types.EmptyJID, "+15550000100"},
		{types.NewJID("867051314767696", types.BotServer), types.EmptyJID, "bot-867051314767696"},
		{types.NewJID("120363000000000001", types.GroupServer), types.EmptyJID, "group-120363000000000001"},
		{types.NewJID("15550001111", types.LegacyUserServer), types.EmptyJID, "+15550001111"},
	} {
		if got := m.UserID(ctx, tc.jid, tc.alt); got != tc.want {
			t.Errorf("UserID(%s, %s) = %q, want %q", tc.jid, tc.alt, got, tc.want)
		}
	}
}

func TestJIDRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, jid := range []types.JID{alice, bobL, types.NewJID("867051314767696", types.BotServer), types.NewJID("120363000000000001", types.GroupServer)} {
		user := m.UserID(ctx, jid, types.EmptyJID)
		back, err := waid.JID(string(user))
		if err != nil || back != jid {
			t.Errorf("JID(%q) = %s, %v; want %s", user, back, err, jid)
		}
	}
	for _, bad := range []string{"", "+", "+0123", "lid-", "lid-abc", "hello", "+1555abc"} {
		if _, err := waid.JID(bad); !errors.Is(err, gateway.ErrUnknownChat) {
			t.Errorf("JID(%q) = %v, want ErrUnknownChat", bad, err)
		}
	}
	if !waid.IsGroup("group-1203") || waid.IsGroup("+15550001111") {
		t.Error("IsGroup wrong")
	}
}

func TestMessageID(t *testing.T) {
	for _, ref := range []waid.MessageRef{
		{ID: "3EB0ABC"}, {ID: "3EB0ABC", FromMe: true}, {ID: "ABC", Participant: "+15550001111"}, {ID: "ABC", Participant: "lid-9"},
	} {
		got, err := waid.ParseMessageID(ref.MessageID())
		if err != nil || got != ref {
			t.Errorf("ParseMessageID(%q) = %+v, %v; want %+v", ref.MessageID(), got, err, ref)
		}
	}
	if waid.OwnMessage("X1") != "me:X1" {
		t.Errorf("OwnMessage = %q", waid.OwnMessage("X1"))
	}
	for _, bad := range []ids.MessageID{"", "me:", ":X", "a b", "x@y"} {
		if _, err := waid.ParseMessageID(bad); !errors.Is(err, gateway.ErrTargetNotFound) {
			t.Errorf("ParseMessageID(%q) = %v, want ErrTargetNotFound", bad, err)
		}
	}
}

func key(id string, fromMe bool, participant string) *waCommon.MessageKey {
	k := &waCommon.MessageKey{ID: proto.String(id), FromMe: proto.Bool(fromMe)}
	if participant != "" {
		k.Participant = proto.String(participant)
	}
	return k
}

// TestKeyRef checks the point of view of message keys: key.FromMe means
// "written by whoever sent the message holding the key".
func TestKeyRef(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name            string
		key             *waCommon.MessageKey
		containerFromMe bool
		group           bool
		want            waid.MessageRef
	}{
		{"contact reacts to own message", key("A1", true, ""), false, false, waid.MessageRef{ID: "A1"}},
		{"contact reacts to mine", key("M1", false, ""), false, false, waid.MessageRef{ID: "M1", FromMe: true}},
		{"I react to mine", key("M1", true, ""), true, false, waid.MessageRef{ID: "M1", FromMe: true}},
		{"I react to contact's", key("A1", false, ""), true, false, waid.MessageRef{ID: "A1"}},
		{"participant is me", key("M2", false, own.String()), false, false, waid.MessageRef{ID: "M2", FromMe: true}},
		{"participant is my LID", key("M3", false, ownLID.String()), false, false, waid.MessageRef{ID: "M3", FromMe: true}},
		{"group participant", key("G1", false, aliceL.String()), false, true, waid.MessageRef{ID: "G1", Participant: "+15550001111"}},
	} {
		if got := m.KeyRef(ctx, tc.key, tc.containerFromMe, tc.group); got != tc.want {
			t.Errorf("%s: KeyRef = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := m.QuoteRef(ctx, "Q1", own.String(), false); !got.FromMe {
		t.Errorf("QuoteRef of own = %+v", got)
	}
	if got := m.QuoteRef(ctx, "Q2", alice.String(), false); got.FromMe || got.Participant != "" {
		t.Errorf("QuoteRef of contact in DM = %+v", got)
	}
}

func TestPhone(t *testing.T) {
	if waid.Phone("+15550001111") != "+15550001111" || waid.Phone("lid-1") != "" {
		t.Error("Phone wrong")
	}
}
