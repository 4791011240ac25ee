package stream

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// fuzzMarshalMaxInput bounds the total size of FuzzMarshalFast's strings.
// Escaping works character by character, so short strings find what long
// ones would (TestMarshalFastIdentical has a long body), and they keep the
// fuzzer's minimization of new inputs, quadratic in their size, short.
const fuzzMarshalMaxInput = 256

// Bits of FuzzMarshalFast's extension mask beyond the extensions
// themselves (fuzzExtensions).
const (
	fuzzBitValues  = 1 << 24 // extensions as values, not pointers
	fuzzBitReverse = 1 << 25 // extensions in reverse order
	fuzzBitErrText = 1 << 26 // an error without code (written as nothing)
	fuzzBitErrCode = 1 << 27 // an error with a code (left to xml.Marshal)
	fuzzBitOOB     = 1 << 28 // an OOB extension (left to xml.Marshal)
)

// fuzzExtensions returns the extensions whose bits are set in mask (bit i
// for the i-th extension below), with ids a and b.
func fuzzExtensions(mask uint32, a, b string) []stanza.MsgExtension {
	ptrs := []stanza.MsgExtension{
		&stanza.ReceiptRequest{}, &stanza.ReceiptReceived{ID: a},
		&stanza.Markable{}, &stanza.MarkReceived{ID: a}, &stanza.MarkDisplayed{ID: b}, &stanza.MarkAcknowledged{ID: a},
		&stanza.StateActive{}, &stanza.StateComposing{}, &stanza.StatePaused{}, &stanza.StateInactive{}, &stanza.StateGone{},
		&xep.OriginID{ID: a}, &xep.StanzaID{ID: a, By: b}, &xep.OccupantID{ID: b},
		&xep.NoStore{}, &xep.StoreHint{}, &xep.Replace{ID: a}, &xep.Retract{ID: b},
		&xep.Reply{To: b, ID: a}, &xep.Delay{From: a, Stamp: b},
		nil, (*stanza.Markable)(nil), (*xep.OriginID)(nil), (*xep.Delay)(nil),
	}
	var exts []stanza.MsgExtension
	for i, e := range ptrs {
		if mask&(1<<i) == 0 {
			continue
		}
		if mask&fuzzBitValues != 0 {
			if v := deref(e); v != nil {
				e = v
			}
		}
		exts = append(exts, e)
	}
	if mask&fuzzBitOOB != 0 {
		exts = append(exts, &stanza.OOB{URL: a, Desc: b})
	}
	if mask&fuzzBitReverse != 0 {
		for i, j := 0, len(exts)-1; i < j; i, j = i+1, j-1 {
			exts[i], exts[j] = exts[j], exts[i]
		}
	}
	return exts
}

// deref returns the value a non-nil pointer e points to, or nil.
func deref(e stanza.MsgExtension) stanza.MsgExtension {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	return v.Elem().Interface()
}

// FuzzMarshalFast builds messages from arbitrary strings and a mask of
// extensions: whenever marshalFast accepts one, its bytes must be those of
// xml.Marshal, and it must accept every message made only of the shapes it
// handles.
func FuzzMarshalFast(f *testing.F) {
	f.Add("m1", "chat", "+15550001111@gw.example.test", "alice@example.test", "", "", "hello", "", "m1", "", uint32(1|1<<2|1<<11))
	f.Add("k", "chat", "a@b", "c@d", "", "", "", "", "m0", "", uint32(1<<4|1<<14))
	f.Add("", "groupchat", "room@gw/nick", "a@b/r", "en", "topic", "hi\r\n<&>\"'", "t1", "s1", "room@gw", uint32(1<<11|1<<12|1<<13|fuzzBitValues))
	f.Add("\xff", "\x00", "\ufffd", "\uFFFE", "\t", "]]>", "\xed\xa0\x80", "\U0001F600", "\x1f", "\xc3", uint32(0xFFFFFF|fuzzBitReverse|fuzzBitErrText))
	f.Add("x", "", "", "", "", "", "b", "", "", "", uint32(fuzzBitOOB|fuzzBitErrCode|1))
	f.Fuzz(func(t *testing.T, id, typ, from, to, lang, subject, body, thread, a, b string, mask uint32) {
		if len(id)+len(typ)+len(from)+len(to)+len(lang)+len(subject)+len(body)+len(thread)+len(a)+len(b) > fuzzMarshalMaxInput {
			t.Skip()
		}
		m := &stanza.Message{
			Attrs:      stanza.Attrs{Type: stanza.StanzaType(typ), Id: id, From: from, To: to, Lang: lang},
			Subject:    subject,
			Body:       body,
			Thread:     thread,
			Extensions: fuzzExtensions(mask, a, b),
		}
		if mask&fuzzBitErrText != 0 {
			m.Error = stanza.Err{Type: stanza.ErrorType(a), Reason: "bad-request", Text: b}
		}
		if mask&fuzzBitErrCode != 0 {
			m.Error.Code = 400
		}
		want, err := xml.Marshal(m)
		if err != nil {
			t.Fatalf("xml.Marshal: %v", err)
		}
		got, ok := marshalFast(m)
		if handled := mask&(fuzzBitOOB|fuzzBitErrCode) == 0; ok != handled {
			t.Fatalf("marshalFast ok = %v for mask %#x", ok, mask)
		}
		if ok {
			want = selfClosed(want)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("marshalFast differs from xml.Marshal (extensions self-closed):\n got %q\nwant %q", got, want)
		}
		if viaPacket, err := marshalPacket(*m); err != nil || !bytes.Equal(viaPacket, want) {
			t.Fatalf("marshalPacket = %q, %v; want %q", viaPacket, err, want)
		}
	})
}
