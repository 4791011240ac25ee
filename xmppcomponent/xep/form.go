package xep

import "encoding/xml"

// Form is an XEP-0004 data form.
type Form struct {
	XMLName      xml.Name `xml:"jabber:x:data x"`
	Type         string   `xml:"type,attr"`
	Title        string   `xml:"title,omitempty"`
	Instructions []string `xml:"instructions,omitempty"`
	Fields       []Field  `xml:"field"`
}

// Field is one field of a data form.
type Field struct {
	Var      string    `xml:"var,attr,omitempty"`
	Type     string    `xml:"type,attr,omitempty"`
	Label    string    `xml:"label,attr,omitempty"`
	Desc     string    `xml:"desc,omitempty"`
	Required *struct{} `xml:"required,omitempty"`
	Values   []string  `xml:"value"`
	Options  []Option  `xml:"option,omitempty"`
}

// Option is a choice of a list field.
type Option struct {
	Label string `xml:"label,attr,omitempty"`
	Value string `xml:"value"`
}

// Value returns the first value of the field named v, and whether the field
// is present.
func (f *Form) Value(v string) (string, bool) {
	if f == nil {
		return "", false
	}
	for _, fl := range f.Fields {
		if fl.Var == v {
			if len(fl.Values) == 0 {
				return "", true
			}
			return fl.Values[0], true
		}
	}
	return "", false
}

// Values returns every single-valued field as var → value (FORM_TYPE excluded).
func (f *Form) Values() map[string]string {
	out := map[string]string{}
	if f == nil {
		return out
	}
	for _, fl := range f.Fields {
		if fl.Var == "" || fl.Var == "FORM_TYPE" {
			continue
		}
		v := ""
		if len(fl.Values) > 0 {
			v = fl.Values[0]
		}
		out[fl.Var] = v
	}
	return out
}

// Required marks a field as required.
var Required = &struct{}{}
