package remote

import (
	"errors"
	"reflect"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// TestGroupInfoRoundTrip: what a group is crosses the wire whole, the
// read-only mark and the size of a partial member list included; a
// negative size is refused as malformed.
func TestGroupInfoRoundTrip(t *testing.T) {
	for _, gi := range []gateway.GroupInfo{
		{Chat: "g1", Name: "Club", Topic: "t", Self: "1", TopicByAdminsOnly: true,
			Members: []gateway.GroupMember{{User: "1", Name: "A", Role: gateway.RoleOwner}, {User: "2", Role: gateway.RoleMember}}},
		{Chat: "c7", Name: "News", Self: "1", ReadOnly: true, MemberCount: 250000,
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
