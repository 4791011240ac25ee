package stream

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// oddText has every character encoding/xml escapes or replaces: markup,
// whitespace controls, other C0 controls, invalid UTF-8, surrogates,
// noncharacters, a real U+FFFD, and characters that need no escaping.
const oddText = "a\"b'c&d<e>f\tg\nh\ri\x00j\x01k\x1fl\x7fm\u0080n\u00e9o\ufffdp\xffq\xed\xa0\x80r\uFFFEs\uFFFFt\U0001F600u\U0010FFFFv\xf4\x90\x80\x80w\xc3x]]>y"

// msg is a message with the usual attributes and body.
func msg(exts ...stanza.MsgExtension) *stanza.Message {
	return &stanza.Message{
		XMLName:    xml.Name{Local: "message"},
		Attrs:      stanza.Attrs{Type: stanza.MessageTypeChat, Id: "m1", From: "+15550001111@gw.example.test", To: "alice@example.test"},
		Body:       "hello",
		Extensions: exts,
	}
}

// fastCases are messages marshalFast must write exactly as xml.Marshal.
func fastCases() map[string]stanza.Packet {
	return map[string]stanza.Packet{
		"echo":         msg(&xep.OriginID{ID: "o1"}, &stanza.ReceiptRequest{}, &stanza.Markable{}),
		"bare":         &stanza.Message{},
		"value":        *msg(xep.OriginID{ID: "v"}, stanza.ReceiptRequest{}, stanza.Markable{}),
		"no body":      &stanza.Message{Attrs: stanza.Attrs{To: "a@b"}},
		"all text":     &stanza.Message{Subject: "s", Body: "b", Thread: "t"},
		"lang":         &stanza.Message{Attrs: stanza.Attrs{Lang: "en", Type: "groupchat"}},
		"odd attrs":    &stanza.Message{Attrs: stanza.Attrs{Type: oddText, Id: oddText, From: oddText, To: oddText, Lang: oddText}},
		"odd text":     &stanza.Message{Subject: oddText, Body: oddText, Thread: oddText},
		"odd ids":      msg(&xep.OriginID{ID: oddText}, &stanza.ReceiptReceived{ID: oddText}, &xep.StanzaID{ID: oddText, By: oddText}, &xep.Delay{From: oddText, Stamp: oddText}, &xep.Reply{To: oddText, ID: oddText}),
		"long body":    &stanza.Message{Body: strings.Repeat("long line & <more>\n", 4000)},
		"xmlname ns":   &stanza.Message{XMLName: xml.Name{Space: "jabber:component:accept", Local: "msg"}, Body: "x"},
		"error code 0": &stanza.Message{Error: stanza.Err{Type: "cancel", Reason: "item-not-found", Text: "gone"}, Body: "x"},
		"nil exts":     msg(nil, (*stanza.ReceiptRequest)(nil), (*xep.OriginID)(nil), &stanza.Markable{}),
		"empty exts":   &stanza.Message{Extensions: []stanza.MsgExtension{}},
		"ext xmlname":  msg(&stanza.ReceiptRequest{XMLName: xml.Name{Space: "x", Local: "y"}}, &xep.OriginID{XMLName: xml.Name{Local: "z"}, ID: "o"}),
		"receipts":     msg(&stanza.ReceiptRequest{}, &stanza.ReceiptReceived{ID: "r1"}, stanza.ReceiptReceived{}),
		"markers": msg(&stanza.Markable{}, &stanza.MarkReceived{ID: "a"}, &stanza.MarkDisplayed{ID: "b"}, &stanza.MarkAcknowledged{ID: "c"},
			stanza.MarkReceived{}, stanza.MarkDisplayed{}, stanza.MarkAcknowledged{}),
		"chat states": msg(&stanza.StateActive{}, &stanza.StateComposing{}, &stanza.StatePaused{}, &stanza.StateInactive{}, &stanza.StateGone{},
			stanza.StateActive{}, stanza.StateComposing{}, stanza.StatePaused{}, stanza.StateInactive{}, stanza.StateGone{}),
		"displayed": &stanza.Message{Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: "k", From: "a@b", To: "c@d"},
			Extensions: []stanza.MsgExtension{&stanza.MarkDisplayed{ID: "m0"}, &xep.NoStore{}}},
		"composing": &stanza.Message{Attrs: stanza.Attrs{Type: stanza.MessageTypeChat, Id: "k", From: "a@b", To: "c@d"},
			Extensions: []stanza.MsgExtension{&stanza.StateComposing{}, &xep.NoStore{}}},
		"ids": msg(&xep.OriginID{}, xep.OriginID{ID: "x"}, &xep.StanzaID{}, xep.StanzaID{ID: "s", By: "room@gw"},
			&xep.OccupantID{ID: "occ"}, xep.OccupantID{}),
		"hints":   msg(&xep.NoStore{}, xep.NoStore{}, &xep.StoreHint{}, xep.StoreHint{}),
		"correct": msg(&xep.Replace{ID: "r"}, xep.Replace{}, &xep.Retract{ID: "t"}, xep.Retract{}),
		"reply":   msg(&xep.Reply{ID: "x"}, &xep.Reply{To: "a@b", ID: "y"}, xep.Reply{}),
		"delay":   msg(&xep.Delay{Stamp: "2024-01-02T03:04:05Z"}, &xep.Delay{From: "room@gw", Stamp: "s"}, xep.Delay{}),
		"muc": &stanza.Message{Attrs: stanza.Attrs{Type: stanza.MessageTypeGroupchat, Id: "g1", From: "room@gw/nick", To: "alice@example.test/phone"},
			Body: "hi all", Extensions: []stanza.MsgExtension{&xep.OriginID{ID: "o"}, &xep.StanzaID{ID: "s", By: "room@gw"}, &xep.OccupantID{ID: "occ"}, &stanza.Markable{}}},
	}
}

// slowCases are packets marshalFast must leave to xml.Marshal.
func slowCases() map[string]stanza.Packet {
	start, end := 0, 3
	return map[string]stanza.Packet{
		"nil message":     (*stanza.Message)(nil),
		"error":           &stanza.Message{Error: stanza.Err{Code: 404, Type: "cancel"}},
		"presence":        &stanza.Presence{XMLName: xml.Name{Local: "presence"}},
		"presence value":  stanza.Presence{},
		"iq":              &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Type: "get", Id: "i"}},
		"oob":             msg(&stanza.OOB{URL: "https://x"}),
		"reference":       msg(&xep.Reference{Type: "mention", URI: "xmpp:a@b", Begin: &start, End: &end}),
		"fallback":        msg(&xep.Fallback{For: xep.NSReply, Body: []xep.FallbackRange{{Start: &start, End: &end}}}),
		"reactions":       msg(&xep.Reactions{ID: "x", Reactions: []string{"👍"}}),
		"unknown ext":     msg(&stanza.ReceiptRequest{}, &xep.Nick{Value: "n"}),
		"nested receipt":  msg(&stanza.ReceiptRequest{MsgExtension: &stanza.Markable{}}),
		"nested received": msg(stanza.ReceiptReceived{ID: "x", MsgExtension: "text"}),
		"nested state":    msg(&stanza.StateGone{MsgExtension: stanza.StateActive{}}),
		"pointer pointer": msg(func() any { p := &stanza.Markable{}; return &p }()),
	}
}

// TestMarshalFastIdentical checks that marshalFast accepts the common
// messages and writes them exactly as xml.Marshal does, and that
// marshalPacket does too.
func TestMarshalFastIdentical(t *testing.T) {
	for name, p := range fastCases() {
		t.Run(name, func(t *testing.T) {
			want, err := xml.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := marshalFast(p)
			if !ok {
				t.Fatalf("marshalFast refused %#v", p)
			}
			want = selfClosed(want)
			if !bytes.Equal(got, want) {
				t.Fatalf("marshalFast differs from xml.Marshal (extensions self-closed):\n got %q\nwant %q", got, want)
			}
			viaPacket, err := marshalPacket(p)
			if err != nil || !bytes.Equal(viaPacket, want) {
				t.Fatalf("marshalPacket = %q, %v; want %q", viaPacket, err, want)
			}
		})
	}
}

// TestMarshalFastRefuses checks that the shapes marshalFast does not know
// fall back to xml.Marshal in marshalPacket.
func TestMarshalFastRefuses(t *testing.T) {
	for name, p := range slowCases() {
		t.Run(name, func(t *testing.T) {
			if got, ok := marshalFast(p); ok {
				t.Fatalf("marshalFast accepted it: %q", got)
			}
			want, wantErr := xml.Marshal(p)
			got, err := marshalPacket(p)
			if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("marshalPacket = %q, %v; xml.Marshal = %q, %v", got, err, want, wantErr)
			}
		})
	}
}

// TestMarshalFastTypesUnchanged guards the assumptions marshalFast makes
// about the types it writes by hand: their fields (a new field would be
// silently left out) and that none marshals itself.
func TestMarshalFastTypesUnchanged(t *testing.T) {
	fields := map[reflect.Type][]string{
		reflect.TypeFor[stanza.Message]():          {"XMLName", "Attrs", "Subject", "Body", "Thread", "Error", "Extensions"},
		reflect.TypeFor[stanza.Attrs]():            {"Type", "Id", "From", "To", "Lang"},
		reflect.TypeFor[stanza.ReceiptRequest]():   {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.ReceiptReceived]():  {"MsgExtension", "XMLName", "ID"},
		reflect.TypeFor[stanza.Markable]():         {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.MarkReceived]():     {"MsgExtension", "XMLName", "ID"},
		reflect.TypeFor[stanza.MarkDisplayed]():    {"MsgExtension", "XMLName", "ID"},
		reflect.TypeFor[stanza.MarkAcknowledged](): {"MsgExtension", "XMLName", "ID"},
		reflect.TypeFor[stanza.StateActive]():      {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.StateComposing]():   {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.StatePaused]():      {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.StateInactive]():    {"MsgExtension", "XMLName"},
		reflect.TypeFor[stanza.StateGone]():        {"MsgExtension", "XMLName"},
		reflect.TypeFor[xep.OriginID]():            {"XMLName", "ID"},
		reflect.TypeFor[xep.StanzaID]():            {"XMLName", "ID", "By"},
		reflect.TypeFor[xep.OccupantID]():          {"XMLName", "ID"},
		reflect.TypeFor[xep.NoStore]():             {"XMLName"},
		reflect.TypeFor[xep.StoreHint]():           {"XMLName"},
		reflect.TypeFor[xep.Replace]():             {"XMLName", "ID"},
		reflect.TypeFor[xep.Retract]():             {"XMLName", "ID"},
		reflect.TypeFor[xep.Reply]():               {"XMLName", "To", "ID"},
		reflect.TypeFor[xep.Delay]():               {"XMLName", "From", "Stamp"},
	}
	marshaler := reflect.TypeFor[xml.Marshaler]()
	textMarshaler := reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	for typ, want := range fields {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v has fields %v; marshalFast knows %v: update it", typ, got, want)
		}
		for _, tt := range []reflect.Type{typ, reflect.PointerTo(typ)} {
			if tt.Implements(marshaler) || tt.Implements(textMarshaler) {
				t.Errorf("%v marshals itself; marshalFast must not write it by hand", tt)
			}
		}
	}
	// The type attribute is written as the plain string it holds.
	st := reflect.TypeFor[stanza.StanzaType]()
	if st.Kind() != reflect.String {
		t.Errorf("%v is no longer a string; marshalFast must not write it by hand", st)
	}
	attrMarshaler := reflect.TypeFor[xml.MarshalerAttr]()
	for _, tt := range []reflect.Type{st, reflect.PointerTo(st)} {
		if tt.Implements(attrMarshaler) || tt.Implements(textMarshaler) {
			t.Errorf("%v marshals itself; marshalFast must not write it by hand", tt)
		}
	}
}

// emptyElement matches an element with nothing inside, as encoding/xml
// writes it: <name attrs></name> (attribute values hold no '<' or '>',
// which it escapes).
var emptyElement = regexp.MustCompile(`<([A-Za-z][A-Za-z0-9-]*)((?: [^<>]*)?)></([A-Za-z][A-Za-z0-9-]*)>`)

// selfClosed rewrites xml.Marshal's bytes of a message the way marshalFast
// writes its extensions: every empty element other than the message and
// its subject, body and thread self-closed.
func selfClosed(b []byte) []byte {
	return emptyElement.ReplaceAllFunc(b, func(el []byte) []byte {
		m := emptyElement.FindSubmatch(el)
		switch name := string(m[1]); {
		case name != string(m[3]), name == "message", name == "subject", name == "body", name == "thread":
			return el
		}
		return append(append(append([]byte("<"), m[1]...), m[2]...), "/>"...)
	})
}

// TestSelfClosed checks the test's own rewriting.
func TestSelfClosed(t *testing.T) {
	in := `<message id="a"></message><message to="x"><body></body><request xmlns="urn:xmpp:receipts"></request><received xmlns="urn:xmpp:receipts" id="&lt;&gt;"></received><a></b></message>`
	want := `<message id="a"></message><message to="x"><body></body><request xmlns="urn:xmpp:receipts"/><received xmlns="urn:xmpp:receipts" id="&lt;&gt;"/><a></b></message>`
	if got := string(selfClosed([]byte(in))); got != want {
		t.Errorf("selfClosed:\n got %s\nwant %s", got, want)
	}
}
