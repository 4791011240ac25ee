package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestExample checks that the example file parses and validates once a
// secret is provided, and that it states exactly the defaults.
func TestExample(t *testing.T) {
	got, err := Parse([]byte(Example()), secretEnv)
	if err != nil {
		t.Fatalf("Parse(Example()): %v", err)
	}
	if want := withSecret(); !reflect.DeepEqual(got, want) {
		t.Errorf("Example() does not state the defaults\n got: %#v\nwant: %#v", got, want)
	}
}

// TestExampleDocumentsEverySetting checks that every setting appears in
// the example file, so that it stays complete as settings are added.
func TestExampleDocumentsEverySetting(t *testing.T) {
	for _, name := range EnvNames() {
		key := envSettings[name].key
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(Example(), "\n"+strings.Repeat("  ", strings.Count(key, "."))+leaf+":") {
			t.Errorf("Example() does not show %s", key)
		}
	}
}

func TestExampleNeedsSecret(t *testing.T) {
	_, err := Parse([]byte(Example()), nil)
	if err == nil || !strings.Contains(err.Error(), "component.secret: required") {
		t.Errorf("Parse(Example()) without a secret = %v, want component.secret required", err)
	}
}
