package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// EnabledKey is the key of every platform section that the hub reads
// ([Config.PlatformEnabled]); [DecodeSection] skips it.
const EnabledKey = "enabled"

// DecodeSection lays a free-form configuration section (an adapter's
// platforms.<id> section, as the hub hands it over) over the struct that
// out points to, whose fields keep their values for keys the section does
// not have: set the defaults first. Each exported field with a yaml tag is
// one key. The field types it knows are string, bool, the integer types,
// [ByteSize], [Duration] and time.Duration (in Duration's grammar). A nil
// value leaves the field as it is; the key [EnabledKey] is skipped.
//
// When every value has the right type and out implements
// [SectionValidator], its rules run next.
//
// Every problem is a *[KeyError] whose key is name and the section's key,
// e.g. "whatsapp.foo: unknown key", or "sandbox.auto_confrim: unknown key
// (did you mean auto_confirm?)" for a near miss; all are returned, joined, in key order
// (the validator's in the order it found them). Messages quote a wrong
// value unless the key looks like a secret (see [Config.Redacted]).
func DecodeSection(name string, section map[string]any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: DecodeSection wants a pointer to a struct, got %T", out)
	}
	st := rv.Elem()
	fields := yamlFields(st.Type())
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(section)) {
		v := section[key]
		f, known := fields[key]
		switch {
		case !known && key == EnabledKey, v == nil:
			continue
		case !known:
			known := append(slices.Sorted(maps.Keys(fields)), EnabledKey)
			errs = append(errs, &KeyError{Key: joinKey(name, key), Err: unknownKey(key, known)})
			continue
		}
		if err := setField(st.FieldByIndex(f.Index), v, secretKey(key)); err != nil {
			errs = append(errs, &KeyError{Key: joinKey(name, key), Err: err})
		}
	}
	if v, ok := out.(SectionValidator); ok && len(errs) == 0 {
		v.ValidateSection(func(key, format string, args ...any) {
			errs = append(errs, &KeyError{Key: joinKey(name, key), Err: fmt.Errorf(format, args...)})
		})
	}
	return errors.Join(errs...)
}

// SectionValidator is a section struct with rules beyond its fields'
// types (a duration that must be positive, a size with a ceiling).
// ValidateSection reports each broken rule with problem, naming the
// section's key; the message is what is wrong, e.g.
// problem("code_ttl", "must be positive, got %s", s.CodeTTL).
type SectionValidator interface {
	ValidateSection(problem func(key, format string, args ...any))
}

// Types DecodeSection treats apart from their kind.
var (
	byteSizeType     = reflect.TypeFor[ByteSize]()
	durationType     = reflect.TypeFor[Duration]()
	timeDurationType = reflect.TypeFor[time.Duration]()
)

// setField stores the section value v in field. A secret v is never
// quoted in the error.
func setField(field reflect.Value, v any, secret bool) error {
	shown := func() string {
		if secret {
			return fmt.Sprintf("a value of type %T", v)
		}
		return fmt.Sprintf("%#v", v)
	}
	switch t := field.Type(); {
	case t == byteSizeType:
		n, err := byteSizeOf(v)
		if err != nil {
			return hideSecret(err, errSizeSyntax, secret, shown)
		}
		field.SetInt(int64(n))
	case t == durationType, t == timeDurationType:
		d, err := durationOf(v)
		if err != nil {
			return hideSecret(err, errDurationSyntax, secret, shown)
		}
		field.SetInt(int64(d))
	case t.Kind() == reflect.String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", shown())
		}
		field.SetString(s)
	case t.Kind() == reflect.Bool:
		b, err := boolOf(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %s", shown())
		}
		field.SetBool(b)
	case field.CanInt():
		n, err := intOf(v)
		if err != nil || field.OverflowInt(n) {
			return fmt.Errorf("want a whole number that fits %s, got %s", t, shown())
		}
		field.SetInt(n)
	default:
		return fmt.Errorf("config: DecodeSection cannot set a field of type %s", t)
	}
	return nil
}

// hideSecret returns err, or for a secret value syntax and the value's
// type only.
func hideSecret(err, syntax error, secret bool, shown func() string) error {
	if secret {
		return fmt.Errorf("%w, got %s", syntax, shown())
	}
	return err
}

// boolOf reads a bool, or a string as strconv.ParseBool does ("true",
// "false", "1", "0", ... from the environment).
func boolOf(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strconv.ParseBool(x)
	}
	return false, errors.New("not a bool")
}

// intOf reads a whole number: an integer, a whole float64 (JSON), or a
// decimal string (the environment).
func intOf(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < math.MaxInt64 {
			return int64(x), nil
		}
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, errors.New("not a whole number")
}
