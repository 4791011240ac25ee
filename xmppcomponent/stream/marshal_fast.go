package stream

import (
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"
)

// This file is a serializer for the common outbound stanza: a message with
// a body and the small extensions the gateway adds to it (receipts, chat
// markers, chat states, unique ids, hints...). It writes the bytes
// encoding/xml writes for the same value, except that the extensions,
// which have no content, are self-closed (<x/> where encoding/xml writes
// <x></x>: the same XML, shorter on the wire), with one allocation and no
// reflection; marshalPacket falls back to xml.Marshal for every shape it
// does not know (marshal_fast_test.go and FuzzMarshalFast check both
// agree, with selfClosed applied to xml.Marshal's bytes). What
// encoding/xml does, and so what is mirrored here:
//
//   - the message and its subject, body and thread are not self-closed;
//   - a namespaced element is written <name xmlns="ns" attr="v">, xmlns
//     first, then the attributes in struct field order;
//   - stanza.Message is <message>, without xmlns whatever its XMLName
//     holds, with the attributes type, id, from, to, lang (a plain "lang",
//     not xml:lang), each left out when empty, then subject, body and
//     thread when not empty, then the error (written only when its Code is
//     not zero), then the extensions in order, nil ones skipped;
//   - attribute values and text are escaped alike (see appendEscaped).

// marshalFast returns the XML of p as xml.Marshal(p) would (extensions
// self-closed), and true, when
// p is a message it knows how to write; otherwise nil and false.
func marshalFast(p stanza.Packet) ([]byte, bool) {
	switch m := p.(type) {
	case *stanza.Message:
		if m == nil {
			return nil, false
		}
		return marshalMessage(m)
	case stanza.Message:
		return marshalMessage(&m)
	}
	return nil, false
}

// marshalMessage writes m, or reports false if it has an error to write or
// an extension not handled here.
func marshalMessage(m *stanza.Message) ([]byte, bool) {
	if m.Error.Code != 0 {
		return nil, false
	}
	n := len(`<message></message>`) +
		attrSize("type", string(m.Type)) + attrSize("id", m.Id) + attrSize("from", m.From) +
		attrSize("to", m.To) + attrSize("lang", m.Lang) +
		elemSize("subject", m.Subject) + elemSize("body", m.Body) + elemSize("thread", m.Thread)
	for _, e := range m.Extensions {
		x, ok := describeExt(e)
		if !ok {
			return nil, false
		}
		n += x.size()
	}
	// Escaping lengthens text with markup characters; a little slack
	// avoids most regrowths.
	b := make([]byte, 0, n+n/16+8)

	b = append(b, "<message"...)
	b = appendAttr(b, "type", string(m.Type), true)
	b = appendAttr(b, "id", m.Id, true)
	b = appendAttr(b, "from", m.From, true)
	b = appendAttr(b, "to", m.To, true)
	b = appendAttr(b, "lang", m.Lang, true)
	b = append(b, '>')
	b = appendTextElem(b, "subject", m.Subject)
	b = appendTextElem(b, "body", m.Body)
	b = appendTextElem(b, "thread", m.Thread)
	for _, e := range m.Extensions {
		x, _ := describeExt(e)
		b = x.appendTo(b)
	}
	b = append(b, "</message>"...)
	return b, true
}

// attrSize is the unescaped size of the attribute name=value, or zero for
// an empty value (the omitempty attributes of stanza.Attrs).
func attrSize(name, value string) int {
	if value == "" {
		return 0
	}
	return len(name) + len(value) + 4
}

// elemSize is the unescaped size of <name>text</name>, or zero for empty
// text (omitempty).
func elemSize(name, text string) int {
	if text == "" {
		return 0
	}
	return 2*len(name) + len(text) + 5
}

// appendAttr appends ` name="value"`, value escaped; with omitEmpty it
// appends nothing for an empty value.
func appendAttr(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value)
	return append(b, '"')
}

// appendTextElem appends <name>text</name>, text escaped, or nothing for
// empty text.
func appendTextElem(b []byte, name, text string) []byte {
	if text == "" {
		return b
	}
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendEscaped appends s escaped as encoding/xml escapes both attribute
// values and character data: " ' & < > as &#34; &#39; &amp; &lt; &gt;,
// tab, newline and carriage return as &#x9; &#xA; &#xD;, and each byte of
// invalid UTF-8 and each rune outside the XML character range as U+FFFD.
// A well-formed U+FFFD in s is kept as it is.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if !escapeCheck[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && w == 1) || !inXMLRange(r) {
				b = append(b, s[last:i]...)
				b = append(b, "\uFFFD"...)
				last = i + w
			}
			i += w
			continue
		}
		var esc string
		switch c {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default: // the other C0 controls
			esc = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i++
		last = i
	}
	return append(b, s[last:]...)
}

// escapeCheck marks the bytes appendEscaped must look at: the markup
// characters, the C0 controls, and the bytes of multi-byte UTF-8 sequences
// (which may be invalid or encode a character outside XML's range).
var escapeCheck = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range []byte(`"'&<>`) {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = true
	}
	return t
}()

// inXMLRange reports whether a rune of at least utf8.RuneSelf is a
// character XML 1.0 allows (the C0 controls are handled by the caller).
func inXMLRange(r rune) bool {
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= utf8.MaxRune)
}
