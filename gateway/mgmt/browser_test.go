package mgmt_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// raw sends one REST request with the given headers (Host among them)
// and returns the status and the decoded error object.
func (a *api) raw(t *testing.T, method, path, body string, hdr map[string]string) (int, restError) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, a.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e restError
	_ = json.Unmarshal(data, &e)
	return res.StatusCode, e
}

// TestCrossSiteRequestsRefused reproduces the attacks of a web page opened
// on the gateway's host against the loopback API (issue 21, item 5): a
// cross-site text/plain unlink, a form-encoded sendTestMessage, and DNS
// rebinding (a foreign Host). Each is refused with a clear status and
// changes nothing; the API's own clients keep working.
func TestCrossSiteRequestsRefused(t *testing.T) {
	h := newHub(t)
	a := startAPIWith(t, h, mgmt.Options{AllowedHosts: []string{"drawbridge.internal"}})
	s := a.restStream(t, "/v1/accounts/"+alice+":link", `{"platform":"sandbox","inputs":{"phone":"`+alicePhone+`"}}`)
	s.next()
	if done := s.next(); done.Result == nil || done.Result.Account != alicePhone {
		t.Fatalf("link: %+v", done)
	}
	_, port, _ := net.SplitHostPort(a.addr)

	unlink := "/v1/accounts/" + alice + ":unlink"
	send := "/v1/accounts/" + alice + ":sendTestMessage"
	for _, c := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		code, grpcCode           int
		msg                      string
	}{
		{"CSRF unlink, text/plain with a foreign Origin", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "text/plain", "Origin": "http://attacker.example"}, 403, 7, "Origin"},
		{"unlink, text/plain", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, 415, 3, "application/json"},
		{"unlink, JSON from a foreign Origin", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "application/json", "Origin": "http://attacker.example"}, 403, 7, "Origin"},
		{"unlink, JSON from another local page", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}, 403, 7, "Origin"},
		{"unlink, Origin null", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403, 7, "Origin"},
		{"unlink, Sec-Fetch-Site cross-site", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, 7, "Sec-Fetch-Site"},
		{"unlink without a content type", "POST", unlink, ``, nil, 415, 3, "application/json"},
		{"sendTestMessage, form", "POST", send, `platform=sandbox&to=%2B15550000001&body=x`,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, 3, "application/json"},
		{"sendTestMessage, multipart", "POST", send, `--b--`,
			map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, 415, 3, "application/json"},
		{"DNS rebinding: list users under a foreign Host", "GET", "/v1/accounts", ``,
			map[string]string{"Host": "attacker.example:" + port}, 403, 7, "Host"},
		{"DNS rebinding: unlink under a foreign Host", "POST", unlink, `{"platform":"sandbox"}`,
			map[string]string{"Host": "attacker.example:" + port, "Content-Type": "application/json"}, 403, 7, "Host"},
	} {
		code, e := a.raw(t, c.method, c.path, c.body, c.hdr)
		if code != c.code || e.Code != c.grpcCode || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: %d %+v, want %d, code %d, a message naming %s", c.name, code, e, c.code, c.grpcCode, c.msg)
		}
	}
	if acct, err := h.admin.Account(ctxT(t), alice, "sandbox"); err != nil || acct.ID != alicePhone {
		t.Errorf("the account after the attacks: %+v %v", acct, err)
	}
	if got := h.sandbox.Platform().Received(sandbox.EchoBot); len(got) != 0 {
		t.Errorf("the echo bot received %+v", got)
	}

	// gRPC: a browser cannot send it, but a foreign Origin is refused there
	// too; any :authority is fine (the CLI may use any name).
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "origin", "http://attacker.example")
	_, err := a.gc.ListAccounts(ctx, &adminv1.ListAccountsRequest{})
	wantCode(t, "gRPC with a foreign Origin", err, codes.PermissionDenied)
	if _, err := a.gc.ListAccounts(ctxT(t), &adminv1.ListAccountsRequest{}); err != nil {
		t.Errorf("gRPC: %v", err)
	}

	// The names of the API, and the public paths under any Host.
	for _, hdr := range []map[string]string{
		{"Host": "127.0.0.1:" + port},
		{"Host": "localhost:" + port},
		{"Host": "[::1]:" + port},
		{"Host": "LOCALHOST."},
		{"Host": "drawbridge.internal:" + port},
		{"Host": "127.0.0.1:" + port, "Origin": "http://127.0.0.1:" + port},
		{"Host": "127.0.0.1:" + port, "Sec-Fetch-Site": "none"},
	} {
		if code, e := a.raw(t, "GET", "/v1/accounts", "", hdr); code != 200 {
			t.Errorf("GET /v1/accounts with %v: %d %+v", hdr, code, e)
		}
	}
	if code, _ := a.raw(t, "GET", "/healthz", "", map[string]string{"Host": "attacker.example"}); code != 200 {
		t.Errorf("/healthz under a foreign Host: %d", code)
	}
	var acct restAccount
	if code := a.rest(t, "POST", unlink, `{"platform":"sandbox"}`, &acct); code != 200 || acct.Linked {
		t.Errorf("unlink with JSON: %d %+v", code, acct)
	}
}

// TestHostsOnEveryInterface: listening on every interface, any IP literal
// and the loopback names are the API's, other names are not.
func TestHostsOnEveryInterface(t *testing.T) {
	h := newHub(t)
	a := startAPIWith(t, h, mgmt.Options{Listen: "0.0.0.0:0", Auth: mgmt.Auth{Token: "tok"}})
	a.base = "http://127.0.0.1:" + a.addr[strings.LastIndex(a.addr, ":")+1:]
	auth := "Bearer tok"
	for host, want := range map[string]int{
		"192.0.2.7:8480": 200, "[2001:db8::1]": 200, "localhost": 200, "127.0.0.1": 200,
		"attacker.example": 403, "gw.example.org:8480": 403,
	} {
		if code, e := a.raw(t, "GET", "/v1/status", "", map[string]string{"Host": host, "Authorization": auth}); code != want {
			t.Errorf("Host %s: %d %+v, want %d", host, code, e, want)
		}
	}
}
