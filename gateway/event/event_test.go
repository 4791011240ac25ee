package event

import "testing"

func TestEveryTypeIsAnEvent(t *testing.T) {
	evs := []Event{
		&Message{}, &Receipt{}, &ChatState{}, &Presence{}, &ContactInfo{},
		&ChatInfo{}, &MembershipChange{}, &AccountState{}, &Edit{}, &Retract{}, &Reaction{},
	}
	for _, ev := range evs {
		ev.EventMeta().Chat = "c"
		if ev.EventMeta().Chat != "c" {
			t.Fatalf("%T: EventMeta does not return the embedded Meta", ev)
		}
	}
}

func TestReceiptKindString(t *testing.T) {
	for k, want := range map[ReceiptKind]string{Delivered: "delivered", Displayed: "displayed", 0: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("%d: got %q want %q", k, got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	for mt, want := range map[string]AttachmentKind{
		"image/png": KindImage, "video/mp4": KindVideo, "audio/ogg": KindAudio,
		"application/pdf": KindFile, "text/plain": KindFile, "": KindFile,
	} {
		if got := KindOf(mt); got != want {
			t.Errorf("KindOf(%q) = %s, want %s", mt, got, want)
		}
	}
}
