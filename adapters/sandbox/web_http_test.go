package sandbox_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// webEnv is an adapter serving its web page on a free loopback port.
func webEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, map[string]any{sandbox.ConfigWeb: map[string]any{"listen": "127.0.0.1:0"}}, sandbox.Options{})
	u := e.a.WebURL()
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("WebURL = %q, want a loopback URL", u)
	}
	return e, strings.TrimSuffix(u, "/")
}

// do sends a request with optional headers and returns status, headers
// and body.
func do(t *testing.T, method, url, body string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// TestWebPageHeaders: the page and its files come with a CSP that allows
// only the page's own origin, and nosniff.
func TestWebPageHeaders(t *testing.T) {
	_, base := webEnv(t)
	for _, path := range []string{"/", "/app.js", "/app.css", "/api/users", "/no-such-file"} {
		_, h, _ := do(t, "GET", base+path, "", nil)
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	code, h, body := do(t, "GET", base+"/", "", nil)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "Sandbox platform") {
		t.Errorf("GET / = %d %s %.80q", code, h.Get("Content-Type"), body)
	}
}

// TestWebNoDirectoryListing: folders and unknown paths are 404, never a
// listing.
func TestWebNoDirectoryListing(t *testing.T) {
	_, base := webEnv(t)
	for _, path := range []string{"/web/", "/web", "/api", "/./web/", "/nope/", "/index.html/"} {
		code, h, body := do(t, "GET", base+path, "", nil)
		if loc := h.Get("Location"); code/100 == 3 && strings.HasPrefix(loc, "/") {
			// A cleaned path: where it leads must not be a listing either.
			code, _, body = do(t, "GET", base+loc, "", nil)
		}
		if code != http.StatusNotFound || strings.Contains(body, "<pre>") || strings.Contains(body, `href="app.js"`) {
			t.Errorf("GET %s = %d %.120q, want 404 without a listing", path, code, body)
		}
	}
}

// TestWebNoInlineScript parses the page as served: every script is a file
// of its own (src), no element has an on* handler attribute, no style is
// inline, and no URL points elsewhere (no CDN).
func TestWebNoInlineScript(t *testing.T) {
	_, base := webEnv(t)
	_, _, body := do(t, "GET", base+"/", "", nil)
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	scripts := 0
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		attrs := map[string]string{}
		for _, a := range n.Attr {
			attrs[a.Key] = a.Val
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an inline handler", n.Data, a.Key, a.Val)
			}
			if a.Key == "style" {
				t.Errorf("<%s style=%q>: an inline style", n.Data, a.Val)
			}
			if (a.Key == "src" || a.Key == "href") && strings.Contains(a.Val, "//") {
				t.Errorf("<%s %s=%q>: a file from elsewhere", n.Data, a.Key, a.Val)
			}
		}
		switch n.Data {
		case "script":
			scripts++
			if attrs["src"] == "" || n.FirstChild != nil {
				t.Errorf("an inline <script>")
			}
		case "style":
			t.Errorf("an inline <style>")
		case "input", "select", "textarea":
			if id := attrs["id"]; id == "" || !strings.Contains(body, `for="`+id+`"`) {
				t.Errorf("<%s id=%q> has no label", n.Data, id)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want app.js only", scripts)
	}
}

// TestWebBrowserGuard: the management API's rules apply: a foreign Origin
// or Host, a cross-site fetch, and a change without a JSON content type
// are refused, with a JSON error that says why.
func TestWebBrowserGuard(t *testing.T) {
	_, base := webEnv(t)
	post := `{"phone":"+15550007777","name":"Eve"}`
	for _, tc := range []struct {
		name, method, path, body string
		headers                  map[string]string
		want                     int
		says                     string
	}{
		{"foreign origin", "POST", "/api/users", post, map[string]string{"Origin": "http://evil.example"}, 403, "Origin"},
		{"origin null", "GET", "/api/users", "", map[string]string{"Origin": "null"}, 403, "Origin"},
		{"foreign host", "GET", "/", "", map[string]string{"Host": "evil.example:8482"}, 403, "sandbox.web.listen"},
		{"cross-site fetch", "GET", "/api/users", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "Sec-Fetch-Site"},
		{"form post", "POST", "/api/users", "phone=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"own origin", "POST", "/api/users", post, map[string]string{"Origin": base}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := do(t, tc.method, base+tc.path, tc.body, tc.headers)
			if code != tc.want || !strings.Contains(body, tc.says) {
				t.Errorf("%d %s, want %d saying %q", code, body, tc.want, tc.says)
			}
			if code >= 400 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Errorf("refusal as %s, want JSON", h.Get("Content-Type"))
			}
		})
	}
}

// TestWebTokenRules: off loopback the page needs web.token (the
// configuration error names it); with a token, every request needs it, as
// ?token= (kept in a cookie), the cookie or a bearer header.
func TestWebTokenRules(t *testing.T) {
	for _, tc := range []struct {
		listen, token string
		wantErr       string
	}{
		{"0.0.0.0:8482", "", "sandbox.web.token: required"},
		{"192.0.2.1:8482", "", "sandbox.web.token: required"},
		{"127.0.0.1:8482", "", ""},
		{"[::1]:8482", "", ""},
		{"0.0.0.0:8482", "s3cret-token", ""},
		{"no-port", "", "sandbox.web.listen"},
	} {
		_, err := sandbox.NewWebServer(sandbox.NewPlatform(sandbox.Options{}), tc.listen, tc.token, nil)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("NewWebServer(%q, %q) = %v, want %q", tc.listen, tc.token, err, tc.wantErr)
		}
		a := sandbox.New(nil)
		err = a.Init(gatewaytest.NewHost(t), map[string]any{sandbox.ConfigWeb: map[string]any{"listen": tc.listen, "token": tc.token}})
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Init with web.listen %q, token %q = %v, want %q", tc.listen, tc.token, err, tc.wantErr)
		}
	}

	// Served on every interface with a token; the test reaches it on
	// loopback, which the guard accepts for a listener on every interface.
	s, err := sandbox.NewWebServer(sandbox.NewPlatform(sandbox.Options{}), "0.0.0.0:0", "s3cret-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"nothing", "/", nil, 401},
		{"nothing, API", "/api/users", nil, 401},
		{"wrong bearer", "/api/users", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"wrong query", "/?token=nope", nil, 401},
		{"wrong cookie", "/api/users", map[string]string{"Cookie": "drawbridge_sandbox_token=nope"}, 401},
		{"bearer", "/api/users", map[string]string{"Authorization": "Bearer s3cret-token"}, 200},
		{"cookie", "/", map[string]string{"Cookie": "drawbridge_sandbox_token=s3cret-token"}, 200},
		{"query", "/?token=s3cret-token", nil, http.StatusSeeOther},
	} {
		code, h, body := do(t, "GET", srv.URL+tc.path, "", tc.headers)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if code == http.StatusSeeOther {
			if loc := h.Get("Location"); loc != "/" {
				t.Errorf("%s: redirected to %q, want / without the token", tc.name, loc)
			}
			if c := h.Get("Set-Cookie"); !strings.Contains(c, "drawbridge_sandbox_token=s3cret-token") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
				t.Errorf("%s: cookie %q", tc.name, c)
			}
		}
		if code == 401 && strings.Contains(body, "s3cret") {
			t.Errorf("%s: the refusal shows the token: %s", tc.name, body)
		}
	}
}

// TestWebActsThroughPlatform: what the page does is an ordinary platform
// event: a person created on the page writes, sends a file, and reacts to
// a linked account's message, and the account gets each as events; the
// live stream announces each change.
func TestWebActsThroughPlatform(t *testing.T) {
	e, base := webEnv(t)
	acct := e.link(t, phoneA)
	sess := e.connect(t, acct)

	// The live stream: one event at once, then one per change.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events as %q", ct)
	}
	lines := bufio.NewScanner(res.Body)
	nextChange := func() {
		t.Helper()
		for lines.Scan() {
			if lines.Text() == "event: change" {
				return
			}
		}
		t.Fatalf("the event stream ended: %v", lines.Err())
	}
	nextChange()

	carol := ids.UserID("+15550003333")
	if code, _, body := do(t, "POST", base+"/api/users", `{"phone":"+1 555 000 3333","name":"Carol"}`, nil); code != 201 || !strings.Contains(body, `"id":"`+string(carol)+`"`) {
		t.Fatalf("create user: %d %s", code, body)
	}
	nextChange()
	if code, _, body := do(t, "POST", base+"/api/users", `{"phone":"5550003333","name":"Carol"}`, nil); code != 400 || !strings.Contains(body, "country code") {
		t.Errorf("a number without +: %d %s", code, body)
	}
	if code, _, body := do(t, "POST", base+"/api/send", `{"as":"`+string(sandbox.EchoBot)+`","to":"`+phoneA+`","body":"x"}`, nil); code != 400 || !strings.Contains(body, "people only") {
		t.Errorf("playing a bot: %d %s", code, body)
	}

	code, _, body := do(t, "POST", base+"/api/send", `{"as":"`+string(carol)+`","to":"`+phoneA+`","body":"hello from the page"}`, nil)
	if code != 201 {
		t.Fatalf("send: %d %s", code, body)
	}
	nextChange()
	msg := waitOne[*event.Message](t, e.h, 1, acct, carol)
	if msg.Body != "hello from the page" || msg.Sender != carol {
		t.Errorf("the account got %+v", msg)
	}

	png := []byte("\x89PNG\r\n\x1a\n0000")
	fileReq, _ := json.Marshal(map[string]any{"as": carol, "to": phoneA, "file": map[string]string{
		"name": "dot.png", "type": "image/png", "data": base64.StdEncoding.EncodeToString(png)}})
	if code, _, body := do(t, "POST", base+"/api/send", string(fileReq), nil); code != 201 {
		t.Fatalf("send a file: %d %s", code, body)
	}
	withFile := waitOne[*event.Message](t, e.h, 2, acct, carol)
	if len(withFile.Attachments) != 1 || withFile.Attachments[0].Kind != event.KindImage || string(content(t, withFile.Attachments[0])) != string(png) {
		t.Errorf("the account got the file as %+v", withFile.Attachments)
	}

	// The account answers; the page reacts to the answer and reads it.
	reply := send(t, sess, carol, "hi Carol")
	if code, _, body := do(t, "POST", base+"/api/react", `{"as":"`+string(carol)+`","to":"`+phoneA+`","target":"`+string(reply)+`","emoji":"👍"}`, nil); code != 204 {
		t.Fatalf("react: %d %s", code, body)
	}
	if r := waitOne[*event.Reaction](t, e.h, 1, acct, carol); r.Target != reply || strings.Join(r.Emojis, "") != "👍" {
		t.Errorf("the account got the reaction %+v", r)
	}
	if code, _, body := do(t, "POST", base+"/api/read", `{"as":"`+string(carol)+`","to":"`+phoneA+`","targets":["`+string(reply)+`"]}`, nil); code != 204 {
		t.Fatalf("read: %d %s", code, body)
	}
	if r := waitOne[*event.Receipt](t, e.h, 1, acct, carol); r.Kind != event.Displayed || r.Targets[0] != reply {
		t.Errorf("the account got the receipt %+v", r)
	}

	// The page's view: both messages, the image inline, the answer with
	// Carol's reaction.
	code, _, body = do(t, "GET", base+"/api/chat?as="+strings.ReplaceAll(string(carol), "+", "%2B")+"&with=%2B4915100000001", "", nil)
	if code != 200 {
		t.Fatalf("chat view: %d %s", code, body)
	}
	var view struct {
		Messages []struct {
			Body      string
			Mine      bool
			Status    string
			Files     []struct{ Kind, URL string }
			Reactions []struct {
				Emoji string
				Mine  bool
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &view); err != nil || len(view.Messages) != 3 {
		t.Fatalf("chat view %s: %v", body, err)
	}
	if m := view.Messages[1]; len(m.Files) != 1 || m.Files[0].Kind != "image" || !m.Mine || m.Status != "sent" {
		t.Errorf("the file in the view: %+v", m)
	}
	if m := view.Messages[2]; m.Body != "hi Carol" || m.Mine || len(m.Reactions) != 1 || !m.Reactions[0].Mine {
		t.Errorf("the answer in the view: %+v", m)
	}
	code, h, got := do(t, "GET", base+view.Messages[1].Files[0].URL, "", nil)
	if code != 200 || got != string(png) || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") {
		t.Errorf("the file: %d %s %q", code, h, got)
	}

	// A group made on the page reaches the account as a new group.
	if code, _, body := do(t, "POST", base+"/api/groups", `{"as":"`+string(carol)+`","name":"Page group","members":["`+phoneA+`"]}`, nil); code != 201 {
		t.Fatalf("create group: %d %s", code, body)
	}
	e.h.WaitEvents(t, 1, func(ev event.Event) bool {
		ci, ok := ev.(*event.ChatInfo)
		return ok && ci.Account == acct && ci.Name == "Page group"
	})
}

// TestWebConfigFromEnvironment: the environment's flat keys
// (DRAWBRIDGE_PLATFORMS_SANDBOX_WEB_LISTEN gives web_listen) configure
// the page as the web section does, and their problems are named
// sandbox.web.<key>.
func TestWebConfigFromEnvironment(t *testing.T) {
	e := newEnv(t, map[string]any{"web_listen": "127.0.0.1:0"}, sandbox.Options{})
	if !strings.HasPrefix(e.a.WebURL(), "http://127.0.0.1:") {
		t.Errorf("WebURL = %q", e.a.WebURL())
	}
	err := sandbox.New(nil).Init(gatewaytest.NewHost(t), map[string]any{"web_listen": "0.0.0.0:8482"})
	if err == nil || !strings.Contains(err.Error(), "sandbox.web.token") {
		t.Errorf("Init off loopback without a token = %v", err)
	}
	err = sandbox.New(nil).Init(gatewaytest.NewHost(t), map[string]any{"web": map[string]any{"listne": "x"}})
	if err == nil || !strings.Contains(err.Error(), "sandbox.web.listne") {
		t.Errorf("Init with a typo = %v", err)
	}
	if e := newEnv(t, nil, sandbox.Options{}); e.a.WebURL() != "" {
		t.Errorf("without web.listen the page is served at %q", e.a.WebURL())
	}
}

// TestWebPeopleAndGroups: presence, pictures and group administration
// from the page are the platform's own: the linked account gets the
// presence, the new picture's hash, the topic, and each membership change;
// what the platform refuses is refused with a status and a reason.
func TestWebPeopleAndGroups(t *testing.T) {
	e, base := webEnv(t)
	acct := e.link(t, phoneA)
	e.connect(t, acct)
	carol := ids.UserID("+15550003333")
	post := func(path, body string, want int) string {
		t.Helper()
		code, _, got := do(t, "POST", base+path, body, nil)
		if code != want {
			t.Fatalf("POST %s %s = %d %s, want %d", path, body, code, got, want)
		}
		return got
	}
	post("/api/users", `{"phone":"`+string(carol)+`","name":"Carol"}`, 201)

	post("/api/presence", `{"as":"`+string(carol)+`","available":false,"status":"in a meeting"}`, 204)
	e.h.WaitEvents(t, 1, func(ev event.Event) bool {
		p, ok := ev.(*event.Presence)
		return ok && p.Account == acct && p.Sender == carol && !p.Available && p.Status == "in a meeting"
	})

	// The picture: served as PNG, replaced by an upload the account learns.
	_, _, users := do(t, "GET", base+"/api/users", "", nil)
	if !strings.Contains(users, `"avatar":"/api/avatar?user=%2B15550003333`) {
		t.Fatalf("no picture URL for Carol in %s", users)
	}
	code, h, pic := do(t, "GET", base+"/api/avatar?user=%2B15550003333", "", nil)
	if code != 200 || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(pic, "\x89PNG") {
		t.Fatalf("GET the picture: %d %s", code, h.Get("Content-Type"))
	}
	other, _ := e.p.Avatar(sandbox.Bob)
	post("/api/avatar", `{"as":"`+string(carol)+`","data":"`+base64.StdEncoding.EncodeToString(other.Data)+`"}`, 204)
	e.h.WaitEvents(t, 1, func(ev event.Event) bool {
		ci, ok := ev.(*event.ContactInfo)
		return ok && ci.Account == acct && ci.Sender == carol && ci.AvatarHash == other.Hash
	})
	if body := post("/api/avatar", `{"as":"`+string(carol)+`","data":"`+base64.StdEncoding.EncodeToString([]byte("GIF89a"))+`"}`, 400); !strings.Contains(body, "not a PNG") {
		t.Errorf("a GIF as picture: %s", body)
	}

	// A group: topic, promotion, removal, and the refusals.
	var g struct{ ID string }
	if err := json.Unmarshal([]byte(post("/api/groups", `{"as":"`+string(carol)+`","name":"Committee","members":["`+phoneA+`"]}`, 201)), &g); err != nil {
		t.Fatal(err)
	}
	post("/api/groups/settings", `{"as":"`+string(carol)+`","group":"`+g.ID+`","topic":"Article 7"}`, 204)
	e.h.WaitEvents(t, 1, func(ev event.Event) bool {
		ci, ok := ev.(*event.ChatInfo)
		return ok && ci.Account == acct && string(ci.Chat) == g.ID && ci.Topic == "Article 7"
	})
	for _, tc := range []struct {
		action string
		want   event.MembershipAction
	}{{"promote", event.Promoted}, {"demote", event.Demoted}, {"remove", event.Kicked}} {
		post("/api/groups/members", `{"as":"`+string(carol)+`","group":"`+g.ID+`","user":"`+phoneA+`","action":"`+tc.action+`"}`, 204)
		e.h.WaitEvents(t, 1, func(ev event.Event) bool {
			mc, ok := ev.(*event.MembershipChange)
			return ok && mc.Account == acct && string(mc.Chat) == g.ID && mc.User == phoneA && mc.Action == tc.want
		})
	}
	post("/api/groups/members", `{"as":"`+string(carol)+`","group":"`+g.ID+`","user":"`+string(sandbox.Bob)+`","action":"add"}`, 204)
	if body := post("/api/groups/settings", `{"as":"`+string(sandbox.Bob)+`","group":"`+g.ID+`","topic":"mine"}`, 403); !strings.Contains(body, "admin") {
		t.Errorf("a member sets the topic: %s", body)
	}
	if body := post("/api/groups/members", `{"as":"`+string(carol)+`","group":"`+g.ID+`","user":"`+string(sandbox.Bob)+`","action":"ban"}`, 400); !strings.Contains(body, "not one of") {
		t.Errorf("an unknown action: %s", body)
	}
	post("/api/groups/members", `{"as":"`+string(sandbox.Bob)+`","group":"`+g.ID+`","action":"leave"}`, 204)
	if info, err := e.p.Group(ids.ChatID(g.ID), carol); err != nil || len(info.Members) != 1 {
		t.Errorf("after the removal and the departure: %+v, %v", info, err)
	}
}

// TestWebPersonToPerson: two people on the page (no XMPP account) chat:
// the platform keeps their read receipts and typing for each other's
// view.
func TestWebPersonToPerson(t *testing.T) {
	_, base := webEnv(t)
	alice, bob := string(sandbox.Alice), string(sandbox.Bob)
	code, _, body := do(t, "POST", base+"/api/send", `{"as":"`+alice+`","to":"`+bob+`","body":"hi Bob"}`, nil)
	if code != 201 {
		t.Fatalf("send: %d %s", code, body)
	}
	var sent struct{ ID string }
	if err := json.Unmarshal([]byte(body), &sent); err != nil {
		t.Fatal(err)
	}
	view := func(as, with string) (status string, typing bool) {
		t.Helper()
		_, _, body := do(t, "GET", base+"/api/chat?as="+strings.ReplaceAll(as, "+", "%2B")+"&with="+strings.ReplaceAll(with, "+", "%2B"), "", nil)
		var v struct {
			Typing   bool
			Messages []struct{ ID, Status string }
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Messages) != 1 || v.Messages[0].ID != sent.ID {
			t.Fatalf("view of %s: %s (%v)", as, body, err)
		}
		return v.Messages[0].Status, v.Typing
	}
	if status, typing := view(alice, bob); status != "sent" || typing {
		t.Errorf("before Bob read or typed: %q, typing %v", status, typing)
	}
	for _, req := range []struct{ path, body string }{
		{"/api/read", `{"as":"` + bob + `","to":"` + alice + `","targets":["` + sent.ID + `"]}`},
		{"/api/typing", `{"as":"` + bob + `","to":"` + alice + `","state":"composing"}`},
	} {
		if code, _, body := do(t, "POST", base+req.path, req.body, nil); code != 204 {
			t.Fatalf("%s: %d %s", req.path, code, body)
		}
	}
	if status, typing := view(alice, bob); status != "read" || !typing {
		t.Errorf("after Bob read and typed: %q, typing %v", status, typing)
	}
	if code, _, body := do(t, "POST", base+"/api/typing", `{"as":"`+bob+`","to":"`+alice+`","state":"dancing"}`, nil); code != 400 {
		t.Errorf("a chat state that does not exist: %d %s", code, body)
	}
	if code, _, body := do(t, "POST", base+"/api/read", `{"as":"`+bob+`","to":"`+string(sandbox.Lounge)+`","targets":["x"]}`, nil); code != 422 || !strings.Contains(body, "groups") {
		t.Errorf("read receipts in a group: %d %s", code, body)
	}
}
