package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
)

func mgmt0() mgmt.Auth { return mgmt.Auth{} }

type restAccount struct {
	Owner           string `json:"owner"`
	Platform        string `json:"platform"`
	PlatformAccount string `json:"platform_account"`
	Linked          bool   `json:"linked"`
	State           string `json:"state"`
	Session         bool   `json:"session"`
	LastActivity    string `json:"last_activity"`
}

type restError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// TestREST runs the same operations as TestGRPC through the grpc-gateway
// handler on a real listener.
func TestREST(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())

	var st struct {
		Version string `json:"version"`
		XMPP    struct {
			Connected bool   `json:"connected"`
			Connects  string `json:"connects"`
			Queued    int    `json:"queued"`
		} `json:"xmpp"`
		Store struct {
			Reachable bool `json:"reachable"`
		} `json:"store"`
		Counts struct {
			Registered int            `json:"registered"`
			Linked     int            `json:"linked"`
			ByState    map[string]int `json:"by_state"`
		} `json:"counts"`
	}
	if code := a.rest(t, "GET", "/v1/status", "", &st); code != 200 || st.Version != "test" || st.XMPP.Connects != "3" || st.XMPP.Queued != 1 || !st.Store.Reachable {
		t.Errorf("GET /v1/status: %d %+v", code, st)
	}
	var ads struct {
		Adapters []struct {
			ID         string `json:"id"`
			LoginFlows []struct {
				ID string `json:"id"`
			} `json:"login_flows"`
		} `json:"adapters"`
	}
	if code := a.rest(t, "GET", "/v1/adapters", "", &ads); code != 200 || len(ads.Adapters) != 2 || ads.Adapters[0].ID != "sandbox" || ads.Adapters[0].LoginFlows[0].ID != sandbox.FlowPairingCode {
		t.Errorf("GET /v1/adapters: %d %+v", code, ads)
	}

	var e restError
	if code := a.rest(t, "GET", "/v1/accounts/"+alice+"?platform=sandbox", "", &e); code != http.StatusNotFound || e.Code != 5 {
		t.Errorf("GET unknown account: %d %+v", code, e)
	}
	if code := a.rest(t, "GET", "/v1/accounts/"+alice, "", &e); code != http.StatusBadRequest || !strings.Contains(e.Message, "name the platform") {
		t.Errorf("GET account without platform: %d %+v", code, e)
	}

	// The streamed link flow, with the phone number up front.
	s := a.restStream(t, "/v1/accounts/"+alice+":link", `{"platform":"sandbox","inputs":{"phone":"`+alicePhone+`"}}`)
	code := s.next()
	done := s.next()
	if code.Result == nil || code.Result.Kind != "LOGIN_STEP_KIND_CODE" || code.Result.Data == "" ||
		done.Result == nil || done.Result.Kind != "LOGIN_STEP_KIND_DONE" || done.Result.Account != alicePhone {
		t.Fatalf("link stream: %+v %+v", code, done)
	}
	if s.sc.Scan() {
		t.Errorf("stream goes on after DONE: %s", s.sc.Text())
	}

	var acct restAccount
	if code := a.rest(t, "GET", "/v1/accounts/"+alice+"?platform=sandbox", "", &acct); code != 200 || acct.PlatformAccount != alicePhone || !acct.Linked || !acct.Session || acct.State != "connected" || acct.LastActivity == "" {
		t.Errorf("GET account: %d %+v", code, acct)
	}
	var list struct {
		Accounts []restAccount `json:"accounts"`
	}
	if code := a.rest(t, "GET", "/v1/accounts?linked_only=true", "", &list); code != 200 || len(list.Accounts) != 1 || list.Accounts[0].Owner != alice {
		t.Errorf("GET /v1/accounts: %d %+v", code, list)
	}

	var sent struct {
		To        string `json:"to"`
		MessageID string `json:"message_id"`
	}
	if code := a.rest(t, "POST", "/v1/accounts/"+alice+":sendTestMessage", `{"platform":"sandbox","to":"+15550000001","body":"ping over REST"}`, &sent); code != 200 || sent.To != string(sandbox.EchoBot) || sent.MessageID == "" {
		t.Errorf("sendTestMessage: %d %+v", code, sent)
	}
	if got := h.sandbox.Platform().Received(sandbox.EchoBot); len(got) != 1 || got[0].Body != "ping over REST" {
		t.Errorf("echo bot received %+v", got)
	}
	if code := a.rest(t, "GET", "/v1/status", "", &st); code != 200 || st.Counts.Registered != 1 || st.Counts.Linked != 1 || st.Counts.ByState["connected"] != 1 {
		t.Errorf("status after link: %+v", st.Counts)
	}

	if code := a.rest(t, "POST", "/v1/accounts/"+alice+":unlink", `{"platform":"sandbox"}`, &acct); code != 200 || acct.Linked || acct.PlatformAccount != "" {
		t.Errorf("unlink: %d %+v", code, acct)
	}
	if code := a.rest(t, "POST", "/v1/accounts/"+alice+":unlink", `{"platform":"sandbox"}`, &e); code != http.StatusBadRequest || e.Code != 9 {
		t.Errorf("unlink twice: %d %+v", code, e)
	}
	if code := a.rest(t, "POST", "/v1/config:reload", `{}`, &e); code != http.StatusNotImplemented || e.Code != 12 {
		t.Errorf("reload: %d %+v", code, e)
	}
	if code := a.rest(t, "POST", "/v1/accounts/"+alice+":link", `{"platform":"sandbox", "bogus": 1}`, &e); code != http.StatusBadRequest {
		t.Errorf("link with an unknown field: %d %+v", code, e)
	}
}

// TestRESTInteractiveLink answers the input step over REST while the
// stream is open.
func TestRESTInteractiveLink(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	s := a.restStream(t, "/v1/accounts/"+bob+":link", `{"platform":"sandbox"}`)
	ask := s.next()
	if ask.Result == nil || ask.Result.Kind != "LOGIN_STEP_KIND_INPUT" || ask.Result.FlowID == "" || ask.Result.Fields[0].ID != "phone" {
		t.Fatalf("first step: %+v", ask)
	}
	flow := ask.Result.FlowID
	var e restError
	if code := a.rest(t, "POST", "/v1/logins/"+flow+":submit", `{"inputs":{"phone":"12"}}`, &e); code != http.StatusBadRequest || e.Code != 3 {
		t.Errorf("bad phone: %d %+v", code, e)
	}
	again := s.next()
	if again.Result == nil || again.Result.Kind != "LOGIN_STEP_KIND_INPUT" || again.Result.Problem == "" {
		t.Fatalf("after a bad phone: %+v", again)
	}
	var res struct {
		Next struct {
			Kind string `json:"kind"`
			Data string `json:"data"`
		} `json:"next"`
	}
	if code := a.rest(t, "POST", "/v1/logins/"+flow+":submit", `{"inputs":{"phone":"`+bobPhone+`"}}`, &res); code != 200 || res.Next.Kind != "LOGIN_STEP_KIND_CODE" {
		t.Fatalf("good phone: %d %+v", code, res)
	}
	if code := s.next(); code.Result == nil || code.Result.Data != res.Next.Data {
		t.Errorf("code step: %+v", code)
	}
	if done := s.next(); done.Result == nil || done.Result.Account != bobPhone {
		t.Errorf("done step: %+v", done)
	}
	if code := a.rest(t, "POST", "/v1/logins/"+flow+":submit", `{"inputs":{}}`, &e); code != http.StatusNotFound {
		t.Errorf("submit after the end: %d %+v", code, e)
	}
	if acct, err := h.admin.Account(ctxT(t), bob, "sandbox"); err != nil || acct.ID != bobPhone || !acct.Session {
		t.Errorf("after REST link: %+v %v", acct, err)
	}
}

// TestRESTStreamError: a flow that fails ends the stream with an error
// object.
func TestRESTStreamError(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	// Streaming errors come as {"error": {...}}, with the HTTP status of
	// the code when no step was sent yet.
	var line restStep
	if code := a.rest(t, "POST", "/v1/accounts/"+bob+":link", `{"platform":"sandbox","flow":"carrier-pigeon"}`, &line); code != http.StatusBadRequest ||
		line.Error == nil || line.Error.Code != 3 || !strings.Contains(line.Error.Message, "carrier-pigeon") {
		t.Errorf("unknown flow: %d %+v", code, line.Error)
	}
}

// TestOpenAPIServed: the generated document is served and describes the
// REST paths.
func TestOpenAPIServed(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt.Auth{Token: "tok"}) // public even with a token
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if code := a.rest(t, "GET", "/v1/openapi.json", "", &doc); code != 200 || doc.Swagger != "2.0" {
		t.Fatalf("GET /v1/openapi.json: %d %+v", code, doc.Swagger)
	}
	for _, p := range []string{"/v1/accounts", "/v1/accounts/{owner}", "/v1/accounts/{owner}:link", "/v1/logins/{flow_id}:submit",
		"/v1/accounts/{owner}:unlink", "/v1/adapters", "/v1/status", "/v1/accounts/{owner}:sendTestMessage", "/v1/config:reload"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("the OpenAPI document lacks %s", p)
		}
	}
}
