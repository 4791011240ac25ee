package stream

import (
	"encoding/xml"
	"reflect"
	"strings"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// leanExtType is what the lean decoder knows of a message extension type
// from gosrc's registry: which fields take which attribute. Only types
// made of an XMLName field, string attribute fields and embedded
// interfaces (stanza.MsgExtension) qualify; the elements of such types
// carry no content the type keeps.
type leanExtType struct {
	ok        bool
	xmlName   int            // index of the XMLName field
	tagName   xml.Name       // what its tag requires of the element's name, if anything
	attrField map[string]int // attribute name -> index of its string field
}

// leanExtTypes caches a *leanExtType per reflect.Type.
var leanExtTypes sync.Map

func leanExtTypeOf(t reflect.Type) *leanExtType {
	if v, ok := leanExtTypes.Load(t); ok {
		return v.(*leanExtType)
	}
	v, _ := leanExtTypes.LoadOrStore(t, inspectLeanExt(t))
	return v.(*leanExtType)
}

var xmlNameType = reflect.TypeFor[xml.Name]()

func inspectLeanExt(t reflect.Type) *leanExtType {
	no := &leanExtType{}
	if t.Kind() != reflect.Struct {
		return no
	}
	lt := &leanExtType{ok: true, xmlName: -1, attrField: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Interface:
			// stanza.MsgExtension: never set by decoding.
		case f.Name == "XMLName" && f.Type == xmlNameType:
			lt.xmlName = i
			name, _, _ := strings.Cut(tag, ",")
			if sp, local, ok := strings.Cut(name, " "); ok {
				lt.tagName = xml.Name{Space: sp, Local: local}
			} else {
				lt.tagName = xml.Name{Local: name}
			}
		case tag == "-" || !f.IsExported():
			// ignored by encoding/xml
		case f.Type.Kind() == reflect.String:
			name, flags, _ := strings.Cut(tag, ",")
			if flags != "attr" && flags != "attr,omitempty" || name == "" || strings.ContainsAny(name, " :") {
				return no
			}
			if _, dup := lt.attrField[name]; dup {
				return no
			}
			lt.attrField[name] = i
		default:
			return no
		}
	}
	if lt.xmlName < 0 {
		return no
	}
	return lt
}

// newLeanExtension builds the extension of type t (from the registry) for
// an empty element named name with attrs, as encoding/xml would.
func newLeanExtension(t reflect.Type, name xml.Name, attrs []leanAttr) (stanza.MsgExtension, bool) {
	lt := leanExtTypeOf(t)
	if !lt.ok ||
		lt.tagName.Local != "" && lt.tagName.Local != name.Local ||
		lt.tagName.Space != "" && lt.tagName.Space != name.Space {
		return nil, false // encoding/xml would fail on the name
	}
	v := reflect.New(t)
	s := v.Elem()
	*s.Field(lt.xmlName).Addr().Interface().(*xml.Name) = name
	for _, a := range attrs {
		if i, ok := lt.attrField[a.local]; ok {
			s.Field(i).SetString(a.value)
		}
	}
	return v.Interface(), true
}
