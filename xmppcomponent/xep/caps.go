package xep

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
)

// NSCaps is XEP-0115 entity capabilities.
const NSCaps = "http://jabber.org/protocol/caps"

// Caps is the XEP-0115 <c/> element of a presence: the verification
// string (Ver) of the sender's disco#info, which a client may query as
// Node#Ver.
type Caps struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/caps c"`
	Hash    string   `xml:"hash,attr"`
	Node    string   `xml:"node,attr"`
	Ver     string   `xml:"ver,attr"`
}

// CapsVer is the XEP-0115 verification string of a disco#info answer
// (§5.1, hash "sha-1"). An answer that §5.4 calls ill-formed (the same
// identity or feature twice, two forms of one FORM_TYPE) is an error:
// no client could verify it.
func (d *DiscoInfo) CapsVer() (string, error) {
	ids := make([]capsIdentity, len(d.Identities))
	for i, id := range d.Identities {
		ids[i] = capsIdentity{category: id.Category, typ: id.Type, name: id.Name}
	}
	features := make([]string, len(d.Features))
	for i, f := range d.Features {
		features[i] = f.Var
	}
	s, err := capsString(ids, features, d.Forms)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// capsIdentity is an identity as §5.1 orders it; lang is xml:lang.
type capsIdentity struct{ category, typ, lang, name string }

// capsString is the string S of XEP-0115 §5.1, whose hash is the
// verification string.
func capsString(identities []capsIdentity, features []string, forms []Form) (string, error) {
	var s strings.Builder
	ids := append([]capsIdentity(nil), identities...)
	sort.Slice(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if a.category != b.category {
			return a.category < b.category
		}
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		if a.lang != b.lang {
			return a.lang < b.lang
		}
		return a.name < b.name
	})
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			return "", fmt.Errorf("identity %s/%s/%s/%s appears twice", id.category, id.typ, id.lang, id.name)
		}
		s.WriteString(id.category + "/" + id.typ + "/" + id.lang + "/" + id.name + "<")
	}
	fs := append([]string(nil), features...)
	sort.Strings(fs)
	for i, f := range fs {
		if i > 0 && f == fs[i-1] {
			return "", fmt.Errorf("feature %s appears twice", f)
		}
		s.WriteString(f + "<")
	}
	// Forms with a hidden FORM_TYPE, ordered by it; others are ignored.
	type typed struct {
		formType string
		form     Form
	}
	var typedForms []typed
	for _, f := range forms {
		for _, fl := range f.Fields {
			if fl.Var == "FORM_TYPE" && fl.Type == "hidden" && len(fl.Values) > 0 {
				typedForms = append(typedForms, typed{fl.Values[0], f})
				break
			}
		}
	}
	sort.Slice(typedForms, func(i, j int) bool { return typedForms[i].formType < typedForms[j].formType })
	for i, t := range typedForms {
		if i > 0 && t.formType == typedForms[i-1].formType {
			return "", fmt.Errorf("two forms of type %s", t.formType)
		}
		s.WriteString(t.formType + "<")
		fields := append([]Field(nil), t.form.Fields...)
		sort.SliceStable(fields, func(i, j int) bool { return fields[i].Var < fields[j].Var })
		for _, fl := range fields {
			if fl.Var == "FORM_TYPE" {
				continue
			}
			s.WriteString(fl.Var + "<")
			values := append([]string(nil), fl.Values...)
			sort.Strings(values)
			for _, v := range values {
				s.WriteString(v + "<")
			}
		}
	}
	return s.String(), nil
}
