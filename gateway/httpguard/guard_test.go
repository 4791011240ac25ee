package httpguard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/httpguard"
)

// TestGuard: which requests a listener accepts, by its listen address.
func TestGuard(t *testing.T) {
	for _, tc := range []struct {
		name, listen, method, host, origin, fetchSite, contentType string
		originOnly                                                 bool
		want                                                       int
	}{
		{"own host", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "", "", "", false, 0},
		{"localhost for loopback", "127.0.0.1:8482", "GET", "localhost:8482", "", "", "", false, 0},
		{"::1 for loopback", "127.0.0.1:8482", "GET", "[::1]:8482", "", "", "", false, 0},
		{"rebinding name", "127.0.0.1:8482", "GET", "evil.example:8482", "", "", "", false, 403},
		{"any IP on every interface", "0.0.0.0:8482", "GET", "192.0.2.7:8482", "", "", "", false, 0},
		{"a name on every interface", "0.0.0.0:8482", "GET", "evil.example", "", "", "", false, 403},
		{"extra name", "0.0.0.0:8482", "GET", "Proxy.Example.", "", "", "", false, 0},
		{"own origin", "127.0.0.1:8482", "POST", "127.0.0.1:8482", "http://127.0.0.1:8482", "same-origin", "application/json", false, 0},
		{"foreign origin", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "http://evil.example", "", "", false, 403},
		{"other port", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "http://127.0.0.1:9999", "", "", false, 403},
		{"null origin", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "null", "", "", false, 403},
		{"cross-site", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "", "cross-site", "", false, 403},
		{"same-site", "127.0.0.1:8482", "GET", "127.0.0.1:8482", "", "same-site", "", false, 403},
		{"form post", "127.0.0.1:8482", "POST", "127.0.0.1:8482", "", "", "text/plain", false, 415},
		{"json post", "127.0.0.1:8482", "POST", "127.0.0.1:8482", "", "", "application/json; charset=utf-8", false, 0},
		{"origin only: any host", "127.0.0.1:8482", "POST", "anything", "", "", "application/grpc", true, 0},
		{"origin only: foreign origin", "127.0.0.1:8482", "POST", "anything", "http://evil.example", "", "application/grpc", true, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := httpguard.New(tc.listen, []string{"proxy.example"}, "x.listen")
			r := httptest.NewRequest(tc.method, "/", nil)
			r.Host = tc.host
			for k, v := range map[string]string{"Origin": tc.origin, "Sec-Fetch-Site": tc.fetchSite, "Content-Type": tc.contentType} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			reason, got := g.Check(r, tc.originOnly)
			if got != tc.want || (got == 0) != (reason == "") {
				t.Errorf("Check = %d %q, want %d", got, reason, tc.want)
			}
			if got == 403 && tc.origin == "" && tc.fetchSite == "" && !strings.Contains(reason, "x.listen") {
				t.Errorf("the refusal %q does not name the setting", reason)
			}
		})
	}
}

// TestToken: an unset token requires nothing; a set one is matched
// exactly (spaces around it aside), from a bearer header too.
func TestToken(t *testing.T) {
	if httpguard.NewToken("").IsSet() || httpguard.NewToken("").Matches("") {
		t.Error("the empty token is set or matches")
	}
	tok := httpguard.NewToken("s3cret")
	for got, want := range map[string]bool{"s3cret": true, " s3cret ": true, "s3cre": false, "S3CRET": false, "": false} {
		if tok.Matches(got) != want {
			t.Errorf("Matches(%q) = %v", got, !want)
		}
	}
	for header, want := range map[string]string{
		"":              "a bearer token is required",
		"Basic s3cret":  "a bearer token is required",
		"Bearer nope":   "not valid",
		"Bearer s3cret": "",
		"bearer s3cret": "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := tok.CheckBearer(r); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckBearer(%q) = %q, want %q", header, got, want)
		}
	}
	if got := httpguard.NewToken("").CheckBearer(httptest.NewRequest(http.MethodGet, "/", nil)); got != "" {
		t.Errorf("an unset token refuses: %q", got)
	}
}
