package whatsapp

import (
	"context"
	"sync"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp/convert"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// A message whatsmeow cannot decrypt is shown at once as a notice under
// the message's own id; whatsmeow asks the sender and the phone for it
// again, and when it arrives the notice is corrected (XEP-0308) into the
// message. The hub would refuse a second message under the same id as
// delivered before, so the text comes as an event.Edit of the notice and
// files, if any, follow as a message of their own.

// undecryptedCap bounds the notices waiting for their message.
const undecryptedCap = 1024

// undecrypted remembers the notices shown, in order.
type undecrypted struct {
	mu    sync.Mutex
	ids   map[ids.MessageID]bool
	order []ids.MessageID
}

func (u *undecrypted) add(id ids.MessageID) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = map[ids.MessageID]bool{}
	}
	if u.ids[id] {
		return
	}
	u.ids[id] = true
	u.order = append(u.order, id)
	if len(u.order) > undecryptedCap {
		delete(u.ids, u.order[0])
		u.order = u.order[1:]
	}
}

// take reports whether a notice was shown for id, and forgets it.
func (u *undecrypted) take(id ids.MessageID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.ids[id] {
		return false
	}
	delete(u.ids, id)
	for i, o := range u.order {
		if o == id {
			u.order = append(u.order[:i], u.order[i+1:]...)
			break
		}
	}
	return true
}

// onUndecryptable shows the notice of a message that could not be
// decrypted and remembers it for the correction.
func (s *Session) onUndecryptable(ctx context.Context, e *events.UndecryptableMessage) bool {
	notice, err := convert.UndecryptableNotice(ctx, s.env(), e)
	if err != nil {
		s.logSkip(e.Info.ID, err)
		return true
	}
	if !s.emit(ctx, notice) {
		return false
	}
	s.undecrypted.add(notice.ID)
	return true
}

// arrivedAfterNotice emits a message that was shown as undecryptable
// before: a correction of the notice into its text, then its files. It
// reports false when the message had no notice (emit it as usual).
func (s *Session) arrivedAfterNotice(ctx context.Context, m *event.Message) (handled, ok bool) {
	if m.ID == "" || !s.undecrypted.take(m.ID) {
		return false, true
	}
	body := m.Body
	if body == "" && len(m.Attachments) > 0 {
		body = "[" + string(m.Attachments[0].Kind) + ": " + m.Attachments[0].Name + "]"
	}
	edit := &event.Edit{Meta: m.Meta, Target: m.ID, Body: body}
	if !s.emit(ctx, edit) {
		// WhatsApp delivers it again: correct the notice then.
		s.undecrypted.add(m.ID)
		return true, false
	}
	if len(m.Attachments) == 0 {
		return true, true
	}
	files := &event.Message{Meta: m.Meta, Attachments: m.Attachments, ReplyTo: m.ReplyTo, ReplyToSender: m.ReplyToSender}
	// Not under the notice's id, which the hub has delivered already.
	files.ID = ""
	return true, s.emit(ctx, files)
}
