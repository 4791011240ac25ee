package config

import (
	"reflect"
	"testing"
	"time"
)

// TestEnvNames pins the environment variable names: changing a yaml tag
// changes them, which breaks deployments.
func TestEnvNames(t *testing.T) {
	want := []string{
		"DRAWBRIDGE_API_ALLOWED_HOSTS",
		"DRAWBRIDGE_API_CLIENT_CA",
		"DRAWBRIDGE_API_LISTEN",
		"DRAWBRIDGE_API_TLS_CERT",
		"DRAWBRIDGE_API_TLS_KEY",
		"DRAWBRIDGE_API_TOKEN",
		"DRAWBRIDGE_API_TOKEN_FILE",
		"DRAWBRIDGE_CLUSTER_ENABLED",
		"DRAWBRIDGE_CLUSTER_INSTANCE_ID",
		"DRAWBRIDGE_CLUSTER_LEASE_TTL",
		"DRAWBRIDGE_CLUSTER_LINKS",
		"DRAWBRIDGE_CLUSTER_MAX_INBOX",
		"DRAWBRIDGE_CLUSTER_MAX_MOVES_PER_SECOND",
		"DRAWBRIDGE_CLUSTER_MODE",
		"DRAWBRIDGE_CLUSTER_RENEW_EVERY",
		"DRAWBRIDGE_COMPONENT_ADMINS",
		"DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET",
		"DRAWBRIDGE_COMPONENT_JID",
		"DRAWBRIDGE_COMPONENT_NAME",
		"DRAWBRIDGE_COMPONENT_SECRET",
		"DRAWBRIDGE_COMPONENT_SECRET_FILE",
		"DRAWBRIDGE_COMPONENT_SERVER",
		"DRAWBRIDGE_FILES_ALLOW_PRIVATE_FETCH",
		"DRAWBRIDGE_FILES_DIR",
		"DRAWBRIDGE_FILES_EXPIRY",
		"DRAWBRIDGE_FILES_LISTEN",
		"DRAWBRIDGE_FILES_MAX_FILE_SIZE",
		"DRAWBRIDGE_FILES_OWNER_QUOTA",
		"DRAWBRIDGE_FILES_PUBLIC_URL",
		"DRAWBRIDGE_FILES_QUOTA",
		"DRAWBRIDGE_FILES_SENDER_QUOTA",
		"DRAWBRIDGE_FILES_SERVER_UPLOAD",
		"DRAWBRIDGE_GROUPS_HISTORY",
		"DRAWBRIDGE_LIMITS_DISPATCH_CHAT_BYTES",
		"DRAWBRIDGE_LIMITS_DISPATCH_TOTAL_BYTES",
		"DRAWBRIDGE_LIMITS_FETCHES",
		"DRAWBRIDGE_LIMITS_FETCHES_PER_USER",
		"DRAWBRIDGE_LIMITS_FETCH_CONNECT_TIMEOUT",
		"DRAWBRIDGE_LIMITS_FETCH_IN_FLIGHT_BYTES",
		"DRAWBRIDGE_LIMITS_FETCH_TIMEOUT",
		"DRAWBRIDGE_LIMITS_LOGINS_GLOBAL",
		"DRAWBRIDGE_LIMITS_LOGINS_GLOBAL_BURST",
		"DRAWBRIDGE_LIMITS_LOGINS_PER_JID",
		"DRAWBRIDGE_LIMITS_LOGINS_PER_JID_BURST",
		"DRAWBRIDGE_LIMITS_MAX_ATTACHMENTS",
		"DRAWBRIDGE_LIMITS_MAX_BODY_SIZE",
		"DRAWBRIDGE_LIMITS_MAX_STANZA_SIZE",
		"DRAWBRIDGE_LIMITS_MESSAGES_GLOBAL",
		"DRAWBRIDGE_LIMITS_MESSAGES_GLOBAL_BURST",
		"DRAWBRIDGE_LIMITS_MESSAGES_PER_JID",
		"DRAWBRIDGE_LIMITS_MESSAGES_PER_JID_BURST",
		"DRAWBRIDGE_LIMITS_REGISTRATIONS_GLOBAL",
		"DRAWBRIDGE_LIMITS_REGISTRATIONS_GLOBAL_BURST",
		"DRAWBRIDGE_LIMITS_REGISTRATIONS_PER_JID",
		"DRAWBRIDGE_LIMITS_REGISTRATIONS_PER_JID_BURST",
		"DRAWBRIDGE_LIMITS_SEND_RETRY_DEADLINE",
		"DRAWBRIDGE_LOG_FORMAT",
		"DRAWBRIDGE_LOG_LEVEL", "DRAWBRIDGE_LOG_REDACT",
		"DRAWBRIDGE_METRICS_LISTEN",
		"DRAWBRIDGE_METRICS_PROFILING",
		"DRAWBRIDGE_REGISTRATION_ALLOWED_DOMAINS",
		"DRAWBRIDGE_REGISTRATION_ALLOWED_JIDS",
		"DRAWBRIDGE_REGISTRATION_DENIED_JIDS",
		"DRAWBRIDGE_STORE_BACKEND",
		"DRAWBRIDGE_STORE_ENCRYPTION_KEY",
		"DRAWBRIDGE_STORE_ENCRYPTION_KEY_FILE",
		"DRAWBRIDGE_STORE_REDIS_ADDRS",
		"DRAWBRIDGE_STORE_REDIS_KEY_PREFIX",
		"DRAWBRIDGE_STORE_REDIS_MASTER_NAME",
		"DRAWBRIDGE_STORE_REDIS_PASSWORD",
		"DRAWBRIDGE_STORE_REDIS_PASSWORD_FILE",
		"DRAWBRIDGE_STORE_REDIS_URL",
		"DRAWBRIDGE_STORE_REDIS_USERNAME",
		"DRAWBRIDGE_STORE_SQLITE_PATH",
	}
	if got := EnvNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("EnvNames() =\n%q\nwant\n%q", got, want)
	}
}

// TestEnvSetsEveryField sets every variable and checks that each lands in
// the field of the same key path, through a YAML round trip.
func TestEnvSetsEveryField(t *testing.T) {
	for _, name := range EnvNames() {
		s := envSettings[name]
		var c Config
		value, want := "v1,v2", any("v1,v2")
		switch typ := reflect.TypeFor[Config]().FieldByIndex(s.index).Type; {
		case s.list:
			want = []string{"v1", "v2"}
		case typ == reflect.TypeFor[ByteSize]():
			value, want = "1.5 KiB", ByteSize(1536)
		case typ == reflect.TypeFor[Duration]():
			value, want = "90s", Duration(90*time.Second)
		case typ.Kind() == reflect.Bool:
			value, want = "true", true
		case typ.Kind() == reflect.Int64:
			value, want = "42", int64(42)
		}
		if err := applyEnv(&c, []string{name + "=" + value}, Sources{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		field := reflect.ValueOf(c).FieldByIndex(s.index)
		if !reflect.DeepEqual(field.Interface(), want) {
			t.Errorf("%s set %s to %#v, want %#v", name, s.key, field.Interface(), want)
		}
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"":            {},
		"a":           {"a"},
		"a,b":         {"a", "b"},
		" a , b ,, ":  {"a", "b"},
		",":           {},
		"x@y.org,z.o": {"x@y.org", "z.o"},
	} {
		if got := splitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"SECRT", "SECRET", 1},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
