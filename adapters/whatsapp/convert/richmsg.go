package convert

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.mau.fi/whatsmeow/proto/waE2E"
)

// Business accounts send structured messages: templates (often with
// buttons), button and list messages, "interactive" messages, and the
// answers people give to them. XMPP has no such widgets, so they become
// text: what the message says, then its buttons or choices as lines. A
// choice cannot be made from XMPP; the labels tell the reader what the
// phone offers.

// OTPNotice replaces a one-time code that WhatsApp shows only on the
// phone (authentication templates are masked on linked devices).
const OTPNotice = "[A one-time code was sent; open WhatsApp on your phone to read it. WhatsApp does not show codes on linked devices.]"

// BusinessText renders a business, template, list, interactive or button
// message, or an answer to one, as text; "" if msg is none of them or
// carries no text.
func BusinessText(msg *waE2E.Message) string {
	switch {
	case msg.GetPlaceholderMessage() != nil:
		if msg.GetPlaceholderMessage().GetType() == waE2E.PlaceholderMessage_MASK_LINKED_DEVICES {
			return OTPNotice
		}
	case msg.GetTemplateMessage() != nil:
		return templateText(msg.GetTemplateMessage())
	case msg.GetHighlyStructuredMessage() != nil:
		if t := msg.GetHighlyStructuredMessage().GetHydratedHsm(); t != nil {
			return templateText(t)
		}
	case msg.GetButtonsMessage() != nil:
		return buttonsText(msg.GetButtonsMessage())
	case msg.GetListMessage() != nil:
		return listText(msg.GetListMessage())
	case msg.GetInteractiveMessage() != nil:
		return interactiveText(msg.GetInteractiveMessage())
	case msg.GetButtonsResponseMessage() != nil:
		return msg.GetButtonsResponseMessage().GetSelectedDisplayText()
	case msg.GetTemplateButtonReplyMessage() != nil:
		return msg.GetTemplateButtonReplyMessage().GetSelectedDisplayText()
	case msg.GetListResponseMessage() != nil:
		r := msg.GetListResponseMessage()
		return lines(r.GetTitle(), r.GetDescription())
	case msg.GetInteractiveResponseMessage() != nil:
		return msg.GetInteractiveResponseMessage().GetBody().GetText()
	}
	return ""
}

// lines joins the non-empty parts, one per line.
func lines(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}

// buttonLine renders button labels as one line: "[Yes] [No]".
func buttonLine(labels []string) string {
	var b strings.Builder
	for _, l := range labels {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("[" + l + "]")
	}
	return b.String()
}

// templateText renders a template: the hydrated one (the text as the
// business filled it in) when there is one.
func templateText(t *waE2E.TemplateMessage) string {
	h := t.GetHydratedTemplate()
	if h == nil {
		h = t.GetHydratedFourRowTemplate()
	}
	if h == nil {
		if it := t.GetInteractiveMessageTemplate(); it != nil {
			return interactiveText(it)
		}
		return ""
	}
	if h.GetMaskLinkedDevices() {
		return OTPNotice
	}
	var labels []string
	for _, b := range h.GetHydratedButtons() {
		switch {
		case b.GetQuickReplyButton() != nil:
			labels = append(labels, b.GetQuickReplyButton().GetDisplayText())
		case b.GetUrlButton() != nil:
			u := b.GetUrlButton()
			labels = append(labels, labelWith(u.GetDisplayText(), u.GetURL()))
		case b.GetCallButton() != nil:
			c := b.GetCallButton()
			labels = append(labels, labelWith(c.GetDisplayText(), c.GetPhoneNumber()))
		}
	}
	return lines(h.GetHydratedTitleText(), h.GetHydratedContentText(), h.GetHydratedFooterText(), buttonLine(labels))
}

// labelWith is "label: target", or either alone.
func labelWith(label, target string) string {
	switch {
	case label == "":
		return target
	case target == "":
		return label
	}
	return label + ": " + target
}

func buttonsText(m *waE2E.ButtonsMessage) string {
	var labels []string
	for _, b := range m.GetButtons() {
		label := b.GetButtonText().GetDisplayText()
		if label == "" {
			label = nativeFlowLabel(b.GetNativeFlowInfo().GetParamsJSON())
		}
		labels = append(labels, label)
	}
	return lines(m.GetText(), m.GetContentText(), m.GetFooterText(), buttonLine(labels))
}

func listText(m *waE2E.ListMessage) string {
	parts := []string{m.GetTitle(), m.GetDescription()}
	if bt := m.GetButtonText(); bt != "" && len(m.GetSections()) > 0 {
		parts = append(parts, bt+":")
	}
	for _, s := range m.GetSections() {
		parts = append(parts, s.GetTitle())
		for _, r := range s.GetRows() {
			row := "- " + r.GetTitle()
			if d := r.GetDescription(); d != "" {
				row += " (" + d + ")"
			}
			parts = append(parts, row)
		}
	}
	parts = append(parts, m.GetFooterText())
	return lines(parts...)
}

func interactiveText(m *waE2E.InteractiveMessage) string {
	var labels []string
	for _, b := range m.GetNativeFlowMessage().GetButtons() {
		labels = append(labels, nativeFlowLabel(b.GetButtonParamsJSON()))
	}
	var cards []string
	for i, card := range m.GetCarouselMessage().GetCards() {
		if t := interactiveText(card); t != "" {
			cards = append(cards, fmt.Sprintf("%d. %s", i+1, t))
		}
	}
	return lines(m.GetHeader().GetTitle(), m.GetHeader().GetSubtitle(), m.GetBody().GetText(),
		strings.Join(cards, "\n"), m.GetFooter().GetText(), buttonLine(labels))
}

// nativeFlowLabel reads the label of a "native flow" button from its
// JSON parameters ("display_text"), with its URL or phone number when it
// has one.
func nativeFlowLabel(params string) string {
	var p struct {
		DisplayText string `json:"display_text"`
		URL         string `json:"url"`
		PhoneNumber string `json:"phone_number"`
		CopyCode    string `json:"copy_code"`
	}
	if json.Unmarshal([]byte(params), &p) != nil {
		return ""
	}
	target := p.URL
	if target == "" {
		target = p.PhoneNumber
	}
	if target == "" {
		target = p.CopyCode
	}
	return labelWith(p.DisplayText, target)
}
