package stream

import (
	"encoding/xml"
	"strings"
	"unicode"
	"unicode/utf8"

	"gosrc.io/xmpp/stanza"
)

// The lean decoder parses the message stanzas that make up most of the
// inbound traffic (a body, a receipt request, a chat state, an origin-id)
// straight from the stanza's bytes, without encoding/xml's tokens, and
// allocates little: one string holding the whole stanza, which the
// message's fields point into, and the extensions.
//
// It takes only what it fully understands and declines everything else
// (prefixed names, comments, CDATA, carriage returns, <error>, children inside extensions or <body>, ...):
// the reader then decodes the same bytes with encoding/xml as before. What
// it accepts decodes to exactly what encoding/xml and gosrc's
// Message.UnmarshalXML make of it (FuzzLeanMessage checks this).

// leanMaxBytes is the largest stanza the reader hands to the lean decoder;
// longer ones go the encoding/xml way.
const leanMaxBytes = 8 << 10

// leanAttr is an attribute as the lean decoder read it.
type leanAttr struct {
	local string // "lang" for xml:lang
	value string
}

// leanMaxAttrs bounds the attributes of a child element (more: declined).
const leanMaxAttrs = 8

// leanParser walks one top-level element held in s.
type leanParser struct {
	s string
	i int
}

// leanMessage decodes s, the bytes of one top-level element of a stream
// whose default namespace is defaultNS. ok is false when s is not a
// message stanza that the lean decoder fully understands.
func leanMessage(s, defaultNS string) (m stanza.Message, ok bool) {
	p := leanParser{s: s}
	if !p.lit("<message") {
		return m, false
	}
	ns := defaultNS
	empty, ok := p.attrs(func(prefixed bool, local, value string) bool {
		switch local {
		case "xmlns":
			if prefixed {
				return false
			}
			ns = value
		case "id":
			m.Id = value
		case "type":
			m.Type = stanza.StanzaType(value)
		case "to":
			m.To = value
		case "from":
			m.From = value
		case "lang":
			m.Lang = value
		}
		return true
	})
	if !ok {
		return m, false
	}
	switch ns {
	case stanza.NSComponent, stanza.NSClient, "":
	default:
		return m, false
	}
	m.XMLName = xml.Name{Space: ns, Local: "message"}
	if empty {
		return m, p.i == len(p.s)
	}
	for {
		if _, ok := p.text(false); !ok { // text between children: checked, ignored
			return m, false
		}
		if p.lit("</") {
			return m, p.endTag("message") && p.i == len(p.s)
		}
		if !p.child(&m, ns) {
			return m, false
		}
	}
}

// child decodes one child element of the message at p.i (just before its
// '<') into m.
func (p *leanParser) child(m *stanza.Message, parentNS string) bool {
	if !p.lit("<") {
		return false
	}
	local, ok := p.name()
	if !ok {
		return false
	}
	ns := parentNS
	var attrs [leanMaxAttrs]leanAttr
	n := 0
	empty, ok := p.attrs(func(prefixed bool, name, value string) bool {
		if name == "xmlns" {
			if prefixed {
				return false
			}
			ns = value
			return true
		}
		if n == len(attrs) {
			return false
		}
		attrs[n] = leanAttr{name, value}
		n++
		return true
	})
	if !ok {
		return false
	}
	if t := stanza.TypeRegistry.GetExtensionType(stanza.PKTMessage, xml.Name{Space: ns, Local: local}); t != nil {
		if !empty && !p.emptyContent(local) {
			return false
		}
		ext, ok := newLeanExtension(t, xml.Name{Space: ns, Local: local}, attrs[:n])
		if !ok {
			return false
		}
		m.Extensions = append(m.Extensions, ext)
		return true
	}
	switch local {
	case "body", "subject", "thread":
		text := ""
		if !empty {
			if text, ok = p.text(false); !ok || !p.lit("</") || !p.endTag(local) {
				return false
			}
		}
		switch local {
		case "body":
			m.Body = text
		case "subject":
			m.Subject = text
		default:
			m.Thread = text
		}
		return true
	case "error", "message":
		return false
	}
	// An element nobody registered: Message.UnmarshalXML ignores it, and
	// so do we when it has no children of its own.
	return empty || p.emptyContent(local)
}

// emptyContent reads text up to the end tag of local, and fails on child
// elements.
func (p *leanParser) emptyContent(local string) bool {
	_, ok := p.text(false)
	return ok && p.lit("</") && p.endTag(local)
}

// lit consumes lit if the input continues with it.
func (p *leanParser) lit(lit string) bool {
	if strings.HasPrefix(p.s[p.i:], lit) {
		p.i += len(lit)
		return true
	}
	return false
}

// endTag reads "local" and optional spaces then '>' of an end tag whose
// "</" was read.
func (p *leanParser) endTag(local string) bool {
	if !p.lit(local) {
		return false
	}
	p.space()
	return p.lit(">")
}

func isLeanSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// space skips white space and reports whether there was any.
func (p *leanParser) space() bool {
	start := p.i
	for p.i < len(p.s) && isLeanSpace(p.s[p.i]) {
		p.i++
	}
	return p.i > start
}

// name reads an unprefixed ASCII XML name.
func (p *leanParser) name() (string, bool) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' ||
			p.i > start && (c >= '0' && c <= '9' || c == '-' || c == '.') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], p.i > start
}

// attrs reads the attributes of a start tag and its end, "/>" (empty is
// true) or ">", calling f for each; f fails the tag by returning false.
// The only prefix taken is xml: (xml:lang is reported as "lang" with
// prefixed set); each attribute must follow white space.
func (p *leanParser) attrs(f func(prefixed bool, local, value string) bool) (empty, ok bool) {
	for {
		sp := p.space()
		switch {
		case p.lit("/>"):
			return true, true
		case p.lit(">"):
			return false, true
		case !sp:
			return false, false
		}
		local, ok := p.name()
		if !ok {
			return false, false
		}
		prefixed := false
		if p.lit(":") {
			if local != "xml" {
				return false, false
			}
			if local, ok = p.name(); !ok {
				return false, false
			}
			prefixed = true
		}
		p.space()
		if !p.lit("=") {
			return false, false
		}
		p.space()
		value, ok := p.text(true)
		if !ok || !f(prefixed, local, value) {
			return false, false
		}
	}
}

// text reads character data up to the next '<' (content) or a quoted
// attribute value (quoted: including its quotes), with the five predefined
// entities decoded. It fails on what encoding/xml refuses (invalid UTF-8,
// characters outside XML's range, "]]>" in content, '<' in a value,
// unknown entities) and on what the lean decoder leaves to it: '\r',
// which XML normalizes.
func (p *leanParser) text(quoted bool) (string, bool) {
	var stop byte = '<'
	if quoted {
		if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
			return "", false
		}
		stop = p.s[p.i]
		p.i++
	}
	start := p.i
	var b []byte // the decoded text, once an entity was seen
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == stop:
			out := p.s[start:p.i]
			if b != nil {
				out = string(b)
			}
			if quoted {
				p.i++
			}
			return out, true
		case c == '<' || c == '\r' || c < 0x20 && c != '\t' && c != '\n':
			return "", false
		case c == '>' && !quoted && p.i-start >= 2 && p.s[p.i-1] == ']' && p.s[p.i-2] == ']':
			return "", false
		case c == '&':
			if b == nil {
				b = append(make([]byte, 0, len(p.s)-start), p.s[start:p.i]...)
			}
			var n int
			if b, n = appendLeanEntity(b, p.s[p.i:]); n == 0 {
				return "", false
			}
			p.i += n
			continue
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 || !leanCharInRange(r) {
				return "", false
			}
			if b != nil {
				b = append(b, p.s[p.i:p.i+size]...)
			}
			p.i += size
			continue
		}
		if b != nil {
			b = append(b, c)
		}
		p.i++
	}
	if quoted {
		return "", false // no closing quote
	}
	if b != nil {
		return string(b), true
	}
	return p.s[start:p.i], true
}

// appendLeanEntity decodes the entity or character reference at the
// start of s onto b, as encoding/xml does: the five predefined entities,
// "&#" decimal digits ";" and "&#x" hex digits ";" (a surrogate becomes
// U+FFFD). n is 0 for anything else, or for a character outside XML's
// range.
func appendLeanEntity(b []byte, s string) (_ []byte, n int) {
	for _, e := range [...]struct {
		name string
		r    byte
	}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}} {
		if strings.HasPrefix(s, e.name) {
			return append(b, e.r), len(e.name)
		}
	}
	if !strings.HasPrefix(s, "&#") {
		return b, 0
	}
	i, base := 2, rune(10)
	if i < len(s) && s[i] == 'x' {
		i, base = 3, 16
	}
	start := i
	var r rune
	for ; i < len(s); i++ {
		c := s[i]
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			d = -1
		}
		if d < 0 {
			break
		}
		r = r*base + d
		if r > unicode.MaxRune {
			return b, 0
		}
	}
	if i == start || i >= len(s) || s[i] != ';' {
		return b, 0
	}
	if !utf8.ValidRune(r) {
		r = utf8.RuneError // what string(rune(n)) makes of a surrogate
	}
	if !leanCharInRange(r) && r != '\t' && r != '\n' && r != '\r' {
		return b, 0
	}
	return utf8.AppendRune(b, r), i + 1
}

// leanCharInRange is XML's Char production for non-ASCII runes.
func leanCharInRange(r rune) bool {
	return r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
