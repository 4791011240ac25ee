package xmpptest

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

const xmlNamespaceURL = "http://www.w3.org/XML/1998/namespace"

// readElement consumes the element that start opened and returns it
// re-serialized in a canonical form, so that tests can match on text:
//
//   - attribute values in double quotes, in the order received;
//   - prefixes resolved: every element is written unprefixed, with an xmlns
//     attribute where its namespace differs from its parent's (the top-level
//     element always carries one, e.g. xmlns="jabber:client");
//   - xml:lang kept as xml:lang; other namespaced attributes get generated
//     prefixes;
//   - empty elements self-closed (<x/>); comments and processing
//     instructions dropped; text escaped minimally (&amp; &lt; &gt;).
func readElement(dec *xml.Decoder, start xml.StartElement) (string, error) {
	var b strings.Builder
	writeStart(&b, start, "")
	spaces := []string{"", start.Name.Space} // namespaces of the open elements
	open := true                             // a start tag still lacks its '>'
	for len(spaces) > 1 {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if open {
				b.WriteByte('>')
			}
			writeStart(&b, t, spaces[len(spaces)-1])
			spaces = append(spaces, t.Name.Space)
			open = true
		case xml.EndElement:
			if open {
				b.WriteString("/>")
				open = false
			} else {
				b.WriteString("</" + t.Name.Local + ">")
			}
			spaces = spaces[:len(spaces)-1]
		case xml.CharData:
			if open {
				b.WriteByte('>')
				open = false
			}
			escapeText(&b, string(t))
		}
	}
	return b.String(), nil
}

func writeStart(b *strings.Builder, se xml.StartElement, parentSpace string) {
	b.WriteString("<" + se.Name.Local)
	if se.Name.Space != parentSpace {
		b.WriteString(` xmlns="`)
		escapeAttr(b, se.Name.Space)
		b.WriteByte('"')
	}
	n := 0
	for _, a := range se.Attr {
		switch {
		case a.Name.Space == "xmlns", a.Name.Space == "" && a.Name.Local == "xmlns":
			continue // declarations: names are already resolved
		case a.Name.Space == "":
			b.WriteString(" " + a.Name.Local + `="`)
		case a.Name.Space == xmlNamespaceURL || a.Name.Space == "xml":
			b.WriteString(" xml:" + a.Name.Local + `="`)
		default:
			prefix := "ns" + strconv.Itoa(n)
			n++
			fmt.Fprintf(b, ` xmlns:%s="`, prefix)
			escapeAttr(b, a.Name.Space)
			b.WriteString(`" ` + prefix + ":" + a.Name.Local + `="`)
		}
		escapeAttr(b, a.Value)
		b.WriteByte('"')
	}
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
		"\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")
)

func escapeText(b *strings.Builder, s string) { _, _ = textEscaper.WriteString(b, s) }
func escapeAttr(b *strings.Builder, s string) { _, _ = attrEscaper.WriteString(b, s) }
