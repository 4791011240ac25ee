package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// sectionFixture is a section with a field of every type DecodeSection
// knows.
type sectionFixture struct {
	Name     string        `yaml:"name"`
	DSN      string        `yaml:"postgres_dsn"`
	On       bool          `yaml:"on"`
	Count    int           `yaml:"count"`
	Small    int8          `yaml:"small"`
	Size     ByteSize      `yaml:"size"`
	Wait     Duration      `yaml:"wait"`
	Std      time.Duration `yaml:"std"`
	internal string        //lint:ignore U1000 DecodeSection must not set it
}

func TestDecodeSection(t *testing.T) {
	defaults := sectionFixture{Name: "default", On: true, Size: 5, Wait: Duration(time.Minute)}
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    sectionFixture
	}{
		{"nil keeps the defaults", nil, defaults},
		{"enabled and nil values are skipped", map[string]any{"enabled": true, "name": nil}, defaults},
		{"YAML values", map[string]any{
			"name": "x", "on": false, "count": 3, "small": 7, "size": "2 MiB", "wait": "90s", "std": "1h",
		}, sectionFixture{Name: "x", Count: 3, Small: 7, Size: 2 << 20, Wait: Duration(90 * time.Second), Std: time.Hour}},
		{"environment strings", map[string]any{"on": "false", "count": "12", "size": "1048576", "wait": "0"},
			sectionFixture{Name: "default", Count: 12, Size: 1 << 20}},
		{"JSON numbers", map[string]any{"count": float64(4), "size": float64(1024)},
			sectionFixture{Name: "default", On: true, Count: 4, Size: 1024, Wait: Duration(time.Minute)}},
		{"Go values", map[string]any{"size": int64(9), "wait": 2 * time.Second, "std": time.Duration(0), "count": uint64(1)},
			sectionFixture{Name: "default", On: true, Count: 1, Size: 9, Wait: Duration(2 * time.Second)}},
		{"a YAML integer 0 is a zero duration", map[string]any{"wait": 0}, sectionFixture{Name: "default", On: true, Size: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := defaults
			if err := DecodeSection("test", tc.section, &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeSectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    []string // every line of the error, in order
	}{
		{"unknown key", map[string]any{"foo": 1}, []string{"whatsapp.foo: unknown key"}},
		{"a near miss is suggested", map[string]any{"cuont": 1}, []string{"whatsapp.cuont: unknown key (did you mean count?)"}},
		{"enabled is a known key too", map[string]any{"enabeld": true}, []string{"whatsapp.enabeld: unknown key (did you mean enabled?)"}},
		{"unexported field is unknown", map[string]any{"internal": "x"}, []string{"whatsapp.internal: unknown key"}},
		{"string", map[string]any{"name": 3}, []string{"whatsapp.name: want a string, got 3"}},
		{"bool", map[string]any{"on": "perhaps"}, []string{`whatsapp.on: want true or false, got "perhaps"`}},
		{"int", map[string]any{"count": 1.5}, []string{"whatsapp.count: want a whole number that fits int, got 1.5"}},
		{"int overflow", map[string]any{"small": 300}, []string{"whatsapp.small: want a whole number that fits int8, got 300"}},
		{"size", map[string]any{"size": "lots"}, []string{`whatsapp.size: want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB", got "lots"`}},
		{"negative size", map[string]any{"size": -1}, []string{"whatsapp.size: must not be negative, got -1"}},
		{"size of the wrong type", map[string]any{"size": true}, []string{`whatsapp.size: want a size in bytes such as 1048576, "512KiB", "2 MiB" or "1.5MB", got true (bool)`}},
		{"duration", map[string]any{"wait": 5}, []string{`whatsapp.wait: want a duration such as "90s", "15m" or "2h45m", got "5"`}},
		{"time.Duration", map[string]any{"std": true}, []string{`whatsapp.std: want a duration such as "90s", "15m" or "2h45m", got true (bool)`}},
		{"a secret is not quoted", map[string]any{"postgres_dsn": 12345}, []string{"whatsapp.postgres_dsn: want a string, got a value of type int"}},
		{"every problem, in key order", map[string]any{"zz": 1, "on": 2, "aa": 3}, []string{
			"whatsapp.aa: unknown key", "whatsapp.on: want true or false, got 2", "whatsapp.zz: unknown key",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got sectionFixture
			err := DecodeSection("whatsapp", tc.section, &got)
			if err == nil {
				t.Fatal("no error")
			}
			if lines := strings.Split(err.Error(), "\n"); strings.Join(lines, "|") != strings.Join(tc.want, "|") {
				t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
			var ke *KeyError
			if !errors.As(err, &ke) || !strings.HasPrefix(ke.Key, "whatsapp.") {
				t.Errorf("%v is not a *KeyError naming the key", err)
			}
		})
	}
}

func TestDecodeSectionWantsAStructPointer(t *testing.T) {
	var s sectionFixture
	for _, out := range []any{s, &s.Name, nil, (*sectionFixture)(nil)} {
		if err := DecodeSection("x", nil, out); err == nil {
			t.Errorf("DecodeSection(%T) succeeded", out)
		}
	}
	var bad struct {
		List []string `yaml:"list"`
	}
	if err := DecodeSection("x", map[string]any{"list": []any{"a"}}, &bad); err == nil || !strings.Contains(err.Error(), "x.list") {
		t.Errorf("a field of an unsupported type: %v", err)
	}
}

// validatedSection has a rule beyond its types.
type validatedSection struct {
	Min ByteSize `yaml:"min"`
	Max ByteSize `yaml:"max"`
}

func (s *validatedSection) ValidateSection(problem func(key, format string, args ...any)) {
	if s.Max < s.Min {
		problem("max", "must be at least min (%s), got %s", s.Min, s.Max)
	}
}

func TestDecodeSectionValidates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section map[string]any
		want    string // the whole error; "" means none
	}{
		{"rules hold", map[string]any{"min": "1KiB", "max": "1MiB"}, ""},
		{"a rule broken", map[string]any{"min": "1MiB", "max": "1KiB"}, "p.max: must be at least min (1MiB), got 1KiB"},
		// A value of the wrong type makes the rules meaningless: they do not run.
		{"type errors first", map[string]any{"min": "1MiB", "max": "x", "other": 1},
			"p.max: " + errSizeSyntax.Error() + `, got "x"` + "\np.other: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s validatedSection
			err := DecodeSection("p", tc.section, &s)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error %q\nwant  %q", got, tc.want)
			}
		})
	}
}
