package remote

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// TestGroupInfoRoundTrip: what a group is crosses the wire whole, the
// read-only mark, the picture's hash and the size of a partial member
// list included; a negative size is refused as malformed.
func TestGroupInfoRoundTrip(t *testing.T) {
	for _, gi := range []gateway.GroupInfo{
		{Chat: "g1", Name: "Club", Topic: "t", Self: "1", TopicByAdminsOnly: true,
			Members: []gateway.GroupMember{{User: "1", Name: "A", Role: gateway.RoleOwner}, {User: "2", Role: gateway.RoleMember}}},
		{Chat: "c7", Name: "News", Self: "1", ReadOnly: true, MemberCount: 250000, AvatarHash: "tg9001",
			Members: []gateway.GroupMember{{User: "1", Role: gateway.RoleMember}}},
	} {
		got, err := groupFromProto(groupToProto(gi))
		if err != nil {
			t.Fatalf("groupFromProto: %v", err)
		}
		if !reflect.DeepEqual(got, gi) {
			t.Errorf("round trip = %+v, want %+v", got, gi)
		}
	}
	if _, err := groupFromProto(&adapterv1.GroupInfo{Chat: "c", MemberCount: -1}); !errors.Is(err, errMalformed) {
		t.Errorf("negative member count: err = %v, want malformed", err)
	}
}

// TestChatInfoRoundTrip: a ChatInfo's optional picture hash and read-only
// state cross the wire as set, unset or empty, distinctly.
func TestChatInfoRoundTrip(t *testing.T) {
	empty, hash, yes, no := "", "tg9", true, false
	for _, ci := range []*event.ChatInfo{
		{Name: "Club", IsGroup: true},
		{Name: "Club", IsGroup: true, AvatarHash: &hash, ReadOnly: &yes},
		{Name: "Club", IsGroup: true, AvatarHash: &empty, ReadOnly: &no},
	} {
		ci.Meta = event.Meta{Account: "1", Chat: "g1", Group: true, Time: time.Unix(1700000000, 0).UTC()}
		pe, err := eventToProto(ci, nil)
		if err != nil {
			t.Fatalf("eventToProto: %v", err)
		}
		got, err := eventFromProto(pe, nil)
		if err != nil {
			t.Fatalf("eventFromProto: %v", err)
		}
		if !reflect.DeepEqual(got, ci) {
			t.Errorf("round trip = %+v, want %+v", got, ci)
		}
	}
}
