package config

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// shippedSecret is the component secret in the shipped Kubernetes Secret.
func shippedSecret(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../deploy/kubernetes/secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*component-secret:\s*"?([^"\s]+)"?\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("deploy/kubernetes/secret.yaml has no component-secret")
	}
	return string(m[1])
}

// TestValidateWeakSecret refuses placeholder and short component secrets
// unless component.allow_weak_secret says it is a test setup; the error
// names the key and never quotes the secret.
func TestValidateWeakSecret(t *testing.T) {
	tests := []struct {
		name, secret, want string // want: part of the error; "" means valid
	}{
		{"placeholder", "change-me", "is a placeholder"},
		{"placeholder in another case, spaced", " Change-Me ", "is a placeholder"},
		{"the shipped Kubernetes Secret", shippedSecret(t), "is a placeholder"},
		{"15 characters", "abcdefghijklmno", "is 15 characters, shorter than 16"},
		{"16 characters", "abcdefghijklmnop", ""},
		{"long random", "9f86d081884c7d659a2feaa0c55ad015", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withSecret()
			c.Component.Secret = tt.secret
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ke *KeyError
			if err == nil || !errors.As(err, &ke) || ke.Key != "component.secret" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want a component.secret error with %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "component.allow_weak_secret") {
				t.Errorf("the error does not name the override: %v", err)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(tt.secret)) {
				t.Errorf("the error quotes the secret: %v", err)
			}
			c.Component.AllowWeakSecret = true
			if err := c.Validate(); err != nil {
				t.Errorf("with allow_weak_secret: %v", err)
			}
		})
	}
}

// TestParseWeakSecretOverride: the override is a setting like any other,
// from the file or DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET.
func TestParseWeakSecretOverride(t *testing.T) {
	if _, err := Parse(nil, []string{"DRAWBRIDGE_COMPONENT_SECRET=change-me"}); err == nil || !strings.Contains(err.Error(), "component.secret") {
		t.Errorf("change-me from the environment: %v, want a component.secret error", err)
	}
	if _, err := Parse(nil, []string{"DRAWBRIDGE_COMPONENT_SECRET=s", "DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true"}); err != nil {
		t.Errorf("with DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET: %v", err)
	}
	if _, err := Parse([]byte("component:\n  secret: short\n  allow_weak_secret: true\n"), nil); err != nil {
		t.Errorf("with component.allow_weak_secret in the file: %v", err)
	}
}
