package mgmt

import (
	"log/slog"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/drawbridge-im/drawbridge/gateway"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// qrPNGSize is the side of the PNG rendering of a QR login step, in pixels.
const qrPNGSize = 256

// timestamp converts a time, leaving the zero time unset.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func accountPB(a gateway.AccountInfo) *adminv1.Account {
	return &adminv1.Account{
		Owner:           string(a.Owner),
		Platform:        string(a.Platform),
		PlatformAccount: string(a.ID),
		Linked:          a.ID != "",
		State:           string(a.State),
		StateDetail:     a.StateDetail,
		Session:         a.Session,
		Registered:      timestamp(a.Registered),
		Updated:         timestamp(a.Updated),
		LastActivity:    timestamp(a.LastActivity),
	}
}

var stepKinds = map[gateway.LoginStepKind]adminv1.LoginStepKind{
	gateway.StepInput: adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT,
	gateway.StepQR:    adminv1.LoginStepKind_LOGIN_STEP_KIND_QR,
	gateway.StepCode:  adminv1.LoginStepKind_LOGIN_STEP_KIND_CODE,
	gateway.StepDone:  adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE,
}

// stepPB converts a login step; QR steps also get their PNG rendering.
func stepPB(log *slog.Logger, flowID string, s gateway.LoginStep, problem string) *adminv1.LoginStep {
	out := &adminv1.LoginStep{
		FlowId:       flowID,
		Kind:         stepKinds[s.Kind],
		Instructions: s.Instructions,
		Data:         s.Data,
		Expires:      timestamp(s.Expires),
		Account:      string(s.Account),
		Problem:      problem,
	}
	for _, f := range s.Fields {
		out.Fields = append(out.Fields, &adminv1.LoginField{Id: f.ID, Label: f.Label, Description: f.Description, Pattern: f.Pattern})
	}
	if s.Kind == gateway.StepQR && s.Data != "" {
		png, err := qrcode.Encode(s.Data, qrcode.Medium, qrPNGSize)
		if err != nil {
			log.Warn("api: cannot render the QR code as PNG", "err", err)
		} else {
			out.QrPng = png
		}
	}
	return out
}

func capabilitiesPB(c gateway.Capabilities) *adminv1.Capabilities {
	return &adminv1.Capabilities{
		MaxBodyLength:        int32(c.MaxBodyLength),
		Receipts:             c.Receipts,
		ReadMarkers:          c.ReadMarkers,
		ChatStates:           c.ChatStates,
		Edits:                c.Edits,
		EditWindowSeconds:    int64(c.EditWindow / time.Second),
		Retractions:          c.Retractions,
		RetractWindowSeconds: int64(c.RetractWindow / time.Second),
		Reactions:            c.Reactions,
		MaxReactionsPerUser:  int32(c.MaxReactionsPerUser),
		AllowedReactions:     c.AllowedReactions,
		Replies:              c.Replies,
		MaxFileSize:          c.MaxFileSize,
		MediaTypes:           c.MediaTypes,
	}
}

func adapterPB(a gateway.AdapterInfo) *adminv1.Adapter {
	out := &adminv1.Adapter{
		Id:                string(a.ID),
		Name:              a.Name,
		GatewayType:       a.GatewayType,
		UserPrompt:        a.UserPrompt,
		CapabilitiesKnown: a.CapabilitiesKnown,
		Features:          a.Features,
		Sessions:          int32(a.Sessions),
	}
	if a.CapabilitiesKnown {
		out.Capabilities = capabilitiesPB(a.Capabilities)
	}
	for _, f := range a.Flows {
		out.LoginFlows = append(out.LoginFlows, &adminv1.LoginFlow{Id: f.ID, Name: f.Name, Description: f.Description})
	}
	return out
}

func statusPB(s gateway.Status) *adminv1.Status {
	out := &adminv1.Status{
		Version:   s.Version,
		Component: s.Component,
		Started:   timestamp(s.Started),
		Xmpp: &adminv1.XMPPLink{
			Connected:   s.Link.Connected,
			Connects:    s.Link.Connects,
			Disconnects: s.Link.Disconnects,
			StanzasIn:   s.Link.StanzasIn,
			StanzasOut:  s.Link.StanzasOut,
			Queued:      int32(s.Link.Queued),
			InFlight:    int32(s.Link.InFlight),
			Dispatching: int32(s.Link.Dispatching),
		},
		Store: &adminv1.StoreStatus{Backend: s.StoreBackend, Reachable: s.StoreErr == nil},
		Counts: &adminv1.Counts{
			Registered: int32(s.Registered),
			Linked:     int32(s.Linked),
			Sessions:   int32(s.Sessions),
			Logins:     int32(s.Logins),
			ByState:    map[string]int32{},
		},
	}
	if s.StoreErr != nil {
		out.Store.Error = s.StoreErr.Error()
	}
	if s.Link.Problem != nil {
		out.Xmpp.Problem = s.Link.Problem.Error()
	}
	for st, n := range s.ByState {
		out.Counts.ByState[string(st)] = int32(n)
	}
	return out
}
