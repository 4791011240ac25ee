package remote

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	adapterv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/adapter/v1"
)

// fakeHostStream records the host's answers on the Host stream.
type fakeHostStream struct {
	adapterv1.AdapterService_HostClient
	sent chan *adapterv1.HostMessage
}

func (f *fakeHostStream) Send(m *adapterv1.HostMessage) error {
	select {
	case f.sent <- m:
	default:
	}
	return nil
}

// hostileSeeds are messages a hostile or buggy adapter may send.
func hostileSeeds() []proto.Message {
	acct := "+15550001111"
	meta := &adapterv1.Meta{Account: acct, Chat: "+15550002222"}
	return []proto.Message{
		&adapterv1.AdapterMessage{},
		&adapterv1.AdapterMessage{Seq: 1, Kind: &adapterv1.AdapterMessage_Event{}},
		&adapterv1.AdapterMessage{Seq: 2, Kind: &adapterv1.AdapterMessage_Event{Event: &adapterv1.Event{Meta: meta}}},
		&adapterv1.AdapterMessage{Seq: 3, Kind: &adapterv1.AdapterMessage_Event{Event: &adapterv1.Event{Meta: meta,
			Kind: &adapterv1.Event_Message{Message: &adapterv1.Message{Body: "hi", Attachments: []*adapterv1.Attachment{{Size: -1, Ref: "r"}}}}}}},
		&adapterv1.AdapterMessage{Seq: 4, Kind: &adapterv1.AdapterMessage_Event{Event: &adapterv1.Event{Meta: meta,
			Kind: &adapterv1.Event_Receipt{Receipt: &adapterv1.Receipt{Kind: 42}}}}},
		&adapterv1.AdapterMessage{Seq: 5, Kind: &adapterv1.AdapterMessage_Kv{Kv: &adapterv1.KVRequest{Op: 9, Account: acct, Key: "k"}}},
		&adapterv1.AdapterMessage{Seq: 6, Kind: &adapterv1.AdapterMessage_SetState{SetState: &adapterv1.StateChange{}}},
		&adapterv1.AdapterMessage{Seq: 7, Kind: &adapterv1.AdapterMessage_Log{Log: &adapterv1.LogRecord{Level: 77, Attrs: map[string]string{"a": "b"}}}},
		&adapterv1.AdapterMessage{Seq: 8, Kind: &adapterv1.AdapterMessage_ReadAttachment{ReadAttachment: &adapterv1.ReadAttachment{Ref: "nope", Offset: -5}}},
		&adapterv1.AdapterMessage{Seq: 9, Kind: &adapterv1.AdapterMessage_Event{Event: &adapterv1.Event{Meta: &adapterv1.Meta{Account: "+19999999999"},
			Kind: &adapterv1.Event_Edit{Edit: &adapterv1.Edit{}}}}},
		&adapterv1.SessionDescription{DirectCapabilities: &adapterv1.Capabilities{MaxBodyLength: -1}},
		&adapterv1.LoginReply{Step: &adapterv1.LoginStep{Kind: adapterv1.LoginStep_KIND_DONE}},
		&adapterv1.GroupResponse{Groups: []*adapterv1.GroupInfo{{Members: []*adapterv1.GroupMember{{Role: 99}}}}},
	}
}

// FuzzHostDecode feeds the host side what a hostile adapter may send: any
// bytes as a Host stream message, a session description, a login reply or
// a group answer. Nothing panics; what is refused is refused with an
// error that names the problem, and a protocol violation (errMalformed)
// is what drops the adapter.
func FuzzHostDecode(f *testing.F) {
	for _, m := range hostileSeeds() {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := gatewaytest.NewHost(t)
		a := &Adapter{info: gateway.Info{ID: "fuzz"}, log: slog.New(slog.DiscardHandler), host: h,
			sessions: map[ids.AccountID]*session{"+15550001111": {}}, files: newRefTable(4), ready: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		var m adapterv1.AdapterMessage
		if proto.Unmarshal(b, &m) == nil {
			hs := newHostServer(a, &fakeHostStream{sent: make(chan *adapterv1.HostMessage, 4)})
			if err := hs.handle(ctx, &m); err != nil && err.Error() == "" {
				t.Fatal("an error without a message")
			}
			for _, l := range hs.lanes {
				close(l)
			}
			hs.wg.Wait()
			for _, ev := range h.Events() {
				if ev.EventMeta().Account != "+15550001111" {
					t.Fatalf("an event of an account without a session got through: %s", gatewaytest.Describe(ev))
				}
			}
		}
		var d adapterv1.SessionDescription
		if proto.Unmarshal(b, &d) == nil {
			if c, err := capsFromProto(d.GetDirectCapabilities()); err == nil &&
				(c.MaxBodyLength < 0 || c.MaxFileSize < 0 || c.EditWindow < 0 || c.RetractWindow < 0 || c.MaxReactionsPerUser < 0) {
				t.Fatalf("negative limits accepted: %+v", c)
			} else if err != nil && !errors.Is(err, errMalformed) {
				t.Fatalf("capabilities refused with %v, not errMalformed", err)
			}
		}
		var r adapterv1.LoginReply
		if proto.Unmarshal(b, &r) == nil && r.GetStep() != nil {
			if s, err := stepFromProto(r.GetStep()); err == nil && (s.Kind < gateway.StepInput || s.Kind > gateway.StepDone) {
				t.Fatalf("login step of kind %d accepted", s.Kind)
			}
		}
		var g adapterv1.GroupResponse
		if proto.Unmarshal(b, &g) == nil {
			for _, gi := range g.GetGroups() {
				if info, err := groupFromProto(gi); err == nil {
					for _, mem := range info.Members {
						if mem.Role < gateway.RoleMember || mem.Role > gateway.RoleOwner {
							t.Fatalf("member role %d accepted", mem.Role)
						}
					}
				}
			}
		}
		var pe adapterv1.Event
		if proto.Unmarshal(b, &pe) == nil {
			if ev, err := eventFromProto(&pe, nil); err == nil {
				if r, ok := ev.(*event.Receipt); ok && r.Kind != event.Delivered && r.Kind != event.Displayed {
					t.Fatalf("receipt of kind %d accepted", r.Kind)
				}
			}
		}
	})
}
