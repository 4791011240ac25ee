package convert_test

import (
	"context"
	"path/filepath"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
)

// richCases are business messages, and other kinds the gateway renders as
// a notice, as WhatsApp delivers them (real waE2E protobufs).
func richCases() map[string]*waE2E.Message {
	s := proto.String
	return map[string]*waE2E.Message{
		"template_hydrated": {TemplateMessage: &waE2E.TemplateMessage{
			HydratedTemplate: &waE2E.TemplateMessage_HydratedFourRowTemplate{
				Title:               &waE2E.TemplateMessage_HydratedFourRowTemplate_HydratedTitleText{HydratedTitleText: "Your order"},
				HydratedContentText: s("Order 1234 ships tomorrow."),
				HydratedFooterText:  s("Shop Inc."),
				HydratedButtons: []*waE2E.HydratedTemplateButton{
					{HydratedButton: &waE2E.HydratedTemplateButton_QuickReplyButton{QuickReplyButton: &waE2E.HydratedTemplateButton_HydratedQuickReplyButton{DisplayText: s("Thanks"), ID: s("t")}}},
					{HydratedButton: &waE2E.HydratedTemplateButton_UrlButton{UrlButton: &waE2E.HydratedTemplateButton_HydratedURLButton{DisplayText: s("Track"), URL: s("https://shop.example/t/1234")}}},
					{HydratedButton: &waE2E.HydratedTemplateButton_CallButton{CallButton: &waE2E.HydratedTemplateButton_HydratedCallButton{DisplayText: s("Call us"), PhoneNumber: s("+15550009999")}}},
				},
			},
		}},
		"template_otp_masked": {TemplateMessage: &waE2E.TemplateMessage{
			HydratedTemplate: &waE2E.TemplateMessage_HydratedFourRowTemplate{
				HydratedContentText: s("123456 is your code."), MaskLinkedDevices: proto.Bool(true),
			},
		}},
		"otp_placeholder": {PlaceholderMessage: &waE2E.PlaceholderMessage{Type: waE2E.PlaceholderMessage_MASK_LINKED_DEVICES.Enum()},
			MessageContextInfo: &waE2E.MessageContextInfo{}},
		"buttons": {ButtonsMessage: &waE2E.ButtonsMessage{
			Header:      &waE2E.ButtonsMessage_Text{Text: "Appointment"},
			ContentText: s("Tuesday 10:00 with Dr. Who?"), FooterText: s("Reply with a button on your phone"),
			Buttons: []*waE2E.ButtonsMessage_Button{
				{ButtonID: s("y"), ButtonText: &waE2E.ButtonsMessage_Button_ButtonText{DisplayText: s("Confirm")}},
				{ButtonID: s("n"), ButtonText: &waE2E.ButtonsMessage_Button_ButtonText{DisplayText: s("Cancel")}},
			},
		}},
		"list": {ListMessage: &waE2E.ListMessage{
			Title: s("Menu"), Description: s("Pick a dish"), ButtonText: s("Choices"), FooterText: s("Kitchen open till 22:00"),
			Sections: []*waE2E.ListMessage_Section{
				{Title: s("Mains"), Rows: []*waE2E.ListMessage_Row{{Title: s("Soup"), Description: s("tomato"), RowID: s("1")}, {Title: s("Pasta"), RowID: s("2")}}},
			},
		}},
		"interactive": {InteractiveMessage: &waE2E.InteractiveMessage{
			Header: &waE2E.InteractiveMessage_Header{Title: s("Flight BA 123")},
			Body:   &waE2E.InteractiveMessage_Body{Text: s("Check-in is open.")},
			Footer: &waE2E.InteractiveMessage_Footer{Text: s("Airline")},
			InteractiveMessage: &waE2E.InteractiveMessage_NativeFlowMessage_{NativeFlowMessage: &waE2E.InteractiveMessage_NativeFlowMessage{
				Buttons: []*waE2E.InteractiveMessage_NativeFlowMessage_NativeFlowButton{
					{Name: s("cta_url"), ButtonParamsJSON: s(`{"display_text":"Check in","url":"https://air.example/ci"}`)},
					{Name: s("quick_reply"), ButtonParamsJSON: s(`{"display_text":"Later","id":"l"}`)},
				},
			}},
		}},
		"buttons_response":  {ButtonsResponseMessage: &waE2E.ButtonsResponseMessage{SelectedButtonID: s("y"), Response: &waE2E.ButtonsResponseMessage_SelectedDisplayText{SelectedDisplayText: "Confirm"}}},
		"template_reply":    {TemplateButtonReplyMessage: &waE2E.TemplateButtonReplyMessage{SelectedID: s("t"), SelectedDisplayText: s("Thanks")}},
		"list_response":     {ListResponseMessage: &waE2E.ListResponseMessage{Title: s("Soup"), Description: s("tomato"), SingleSelectReply: &waE2E.ListResponseMessage_SingleSelectReply{SelectedRowID: s("1")}}},
		"interactive_reply": {InteractiveResponseMessage: &waE2E.InteractiveResponseMessage{Body: &waE2E.InteractiveResponseMessage_Body{Text: s("Later")}}},
		"hsm_hydrated": {HighlyStructuredMessage: &waE2E.HighlyStructuredMessage{HydratedHsm: &waE2E.TemplateMessage{
			HydratedTemplate: &waE2E.TemplateMessage_HydratedFourRowTemplate{HydratedContentText: s("Your table is ready.")}}}},
		"ptv":                  {PtvMessage: &waE2E.VideoMessage{DirectPath: s("/v/video"), Mimetype: s("video/mp4"), FileLength: proto.Uint64(8)}},
		"other_payment":        {SendPaymentMessage: &waE2E.SendPaymentMessage{}},
		"other_payment_ask":    {RequestPaymentMessage: &waE2E.RequestPaymentMessage{}},
		"other_payment_invite": {PaymentInviteMessage: &waE2E.PaymentInviteMessage{}},
		"other_invoice":        {InvoiceMessage: &waE2E.InvoiceMessage{}},
		"other_order":          {OrderMessage: &waE2E.OrderMessage{}},
		"other_product":        {ProductMessage: &waE2E.ProductMessage{}},
		"other_group_invite":   {GroupInviteMessage: &waE2E.GroupInviteMessage{GroupName: s("Trip")}},
		"other_event":          {EventMessage: &waE2E.EventMessage{Name: s("Party")}},
		"other_scheduled_call": {ScheduledCallCreationMessage: &waE2E.ScheduledCallCreationMessage{}},
		"other_sticker_pack":   {StickerPackMessage: &waE2E.StickerPackMessage{}},
		"album_parent":         {AlbumMessage: &waE2E.AlbumMessage{ExpectedImageCount: proto.Uint32(3), ExpectedVideoCount: proto.Uint32(1)}},
	}
}

// TestBusinessMessagesGolden: each golden file holds the protobuf as
// WhatsApp sends it, then what the XMPP user gets.
func TestBusinessMessagesGolden(t *testing.T) {
	dir := filepath.Join("testdata", "rich")
	used := map[string]bool{}
	for name, msg := range richCases() {
		used[name+".golden"] = true
		t.Run(name, func(t *testing.T) {
			in, err := wt.ProtoJSON(msg)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := convert.Message(context.Background(), env(), fromAlice("R-"+name).Event(msg))
			got := append(append(in, "---\n"...), render(t, ev, err)...)
			wt.Golden(t, filepath.Join(dir, name+".golden"), got, *update)
		})
	}
	if !*update {
		wt.UnusedGoldens(t, dir, used)
	}
}

// TestBusinessTextInQuote: a reply quoting a business message quotes its
// text.
func TestBusinessTextInQuote(t *testing.T) {
	if got := convert.Summary(richCases()["buttons"]); got != "Appointment\nTuesday 10:00 with Dr. Who?\nReply with a button on your phone\n[Confirm] [Cancel]" {
		t.Errorf("Summary = %q", got)
	}
}
