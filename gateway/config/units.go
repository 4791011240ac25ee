package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a number of bytes in the configuration: the gateway's own
// settings (files.quota, limits.max_body_size, ...) and the adapters'
// sections (platforms.<id>.max_file_size) all read sizes with it. It
// accepts one grammar:
//
//   - an integer is that many bytes: 1048576 (YAML), "1048576" (a string,
//     an environment variable);
//   - a string is a decimal number, optional spaces and a unit, the unit in
//     any case: "512KiB", "2 MiB", "1.5MB", "100mb", "512k", "10 B".
//     The units are B (1); K or KB (1000), M or MB (1000²), G or GB
//     (1000³), T or TB (1000⁴), as disks and networks count; and KiB
//     (1024), MiB (1024²), GiB (1024³), TiB (1024⁴), as memory counts.
//     The number may have a fraction if the result is a whole number of
//     bytes ("1.5KiB" is 1536; "1.5B" is an error).
//
// Negative sizes, exponents ("1e6") and sizes above math.MaxInt64 are
// errors. Whether 0 is allowed is the setting's choice.
type ByteSize int64

// sizePattern is ByteSize's string form: a decimal number and a unit.
var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// sizeUnits are ByteSize's units, lower case.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// errSizeSyntax explains ByteSize's grammar in its errors.
var errSizeSyntax = errors.New(`want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB"`)

// ParseByteSize reads a size in ByteSize's grammar (see [ByteSize]).
func ParseByteSize(s string) (ByteSize, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%w, got %q", errSizeSyntax, s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%w, got %q (unknown unit %q)", errSizeSyntax, s, m[2])
	}
	n, ok := new(big.Rat).SetString(m[1]) // exact: "1.1MB" is 1100000 bytes
	if !ok {
		return 0, fmt.Errorf("%w, got %q", errSizeSyntax, s)
	}
	n.Mul(n, new(big.Rat).SetInt64(unit))
	if !n.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if !n.Num().IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n.Num().Int64()), nil
}

// byteSizeOf converts a value of a free-form section (an integer or a
// float64 from YAML or JSON, a string from YAML or the environment) to a
// ByteSize.
func byteSizeOf(v any) (ByteSize, error) {
	switch x := v.(type) {
	case ByteSize:
		return checkSize(int64(x))
	case int:
		return checkSize(int64(x))
	case int64:
		return checkSize(x)
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", x)
		}
		return ByteSize(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) >= math.MaxInt64 {
			return 0, fmt.Errorf("%w, got %v", errSizeSyntax, x)
		}
		return checkSize(int64(x))
	case string:
		return ParseByteSize(x)
	}
	return 0, fmt.Errorf("%w, got %v (%T)", errSizeSyntax, v, v)
}

// checkSize refuses a negative number of bytes.
func checkSize(n int64) (ByteSize, error) {
	if n < 0 {
		return 0, fmt.Errorf("must not be negative, got %d", n)
	}
	return ByteSize(n), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (environment
// variables) with ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	n, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = n
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler: a YAML integer (1048576,
// 1_048_576, 0x100000) is that many bytes, a string is parsed with
// ParseByteSize.
func (b *ByteSize) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return errSizeSyntax
	}
	if node.Tag == "!!int" {
		var n int64
		if err := node.Decode(&n); err != nil {
			return fmt.Errorf("%w, got %s", errSizeSyntax, node.Value)
		}
		v, err := checkSize(n)
		*b = v
		return err
	}
	return b.UnmarshalText([]byte(node.Value))
}

// MarshalText implements encoding.TextMarshaler with String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String returns the size in the largest unit that divides it exactly:
// "1MiB", "100MB", "1234B". ParseByteSize reads it back.
func (b ByteSize) String() string {
	n, name, size := int64(b), "B", int64(1)
	if n != 0 {
		for _, u := range []struct {
			name string
			size int64
		}{
			{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9},
			{"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3},
		} {
			if n%u.size == 0 && u.size > size {
				name, size = u.name, u.size
			}
		}
	}
	return strconv.FormatInt(n/size, 10) + name
}

// Duration is a length of time in the configuration, in Go's duration
// grammar (time.ParseDuration): a sequence of decimal numbers with a unit
// each, "ns", "us", "ms", "s", "m" or "h", e.g. "90s", "1.5h", "2h45m";
// "0" (also a YAML integer 0) is zero. A number without a unit is an
// error. Whether 0 or a negative duration is allowed is the setting's
// choice.
type Duration time.Duration

// errDurationSyntax explains Duration's grammar in its errors.
var errDurationSyntax = errors.New(`want a duration such as "90s", "15m" or "2h45m"`)

// ParseDuration reads a duration in Duration's grammar.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%w, got %q", errDurationSyntax, s)
	}
	return Duration(d), nil
}

// durationOf converts a value of a free-form section to a Duration: a
// string, an integer (only 0 has no unit, so only 0 passes), or a
// time.Duration set by a Go caller.
func durationOf(v any) (Duration, error) {
	switch x := v.(type) {
	case Duration:
		return x, nil
	case time.Duration:
		return Duration(x), nil
	case string:
		return ParseDuration(x)
	case int:
		return ParseDuration(strconv.Itoa(x))
	case int64:
		return ParseDuration(strconv.FormatInt(x, 10))
	}
	return 0, fmt.Errorf("%w, got %v (%T)", errDurationSyntax, v, v)
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler with ParseDuration.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return errDurationSyntax
	}
	return d.UnmarshalText([]byte(node.Value))
}

// MarshalText implements encoding.TextMarshaler with String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String returns the duration as time.Duration writes it ("2m0s").
func (d Duration) String() string { return time.Duration(d).String() }
