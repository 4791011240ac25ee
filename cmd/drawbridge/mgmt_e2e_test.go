package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// scrape reads /metrics into series → value, the series written as the
// exposition format does: name{label="value",...} with sorted labels.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestManagementEndToEnd runs a real exchange through Prosody and the
// gateway, then checks what operators see: the metrics moved by the
// expected amounts, health, the API and the command line agree, and the
// XMPP administration commands work for an administrator.
func TestManagementEndToEnd(t *testing.T) {
	e := startE2E(t, config.BackendSQLite)
	ops := e.app.mgmt.ops.Addr().String()
	api := e.app.mgmt.api.Addr().String()
	if code := httpStatus(t, "http://"+ops+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	waitFor(t, "/readyz", func() bool { return httpStatus(t, "http://"+ops+"/readyz") == 200 })

	// alice registers, links with the ad-hoc command, adds the echo bot.
	u := e.user("alice")
	if res := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'/>`); !strings.Contains(res.Raw, `type="result"`) {
		t.Fatalf("register: %s", res.Raw)
	}
	u.waitRaw("gateway subscription request", `from="`+e2eComponent+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + e2eComponent + `' type='subscribed'/>`)
	linkAdhoc(t, u)
	u.waitMessage(e2eComponent, "is now linked")
	u.waitMessage(e2eComponent, "Connected to Sandbox as "+alicePhone)
	u.waitRaw("echo bot subscription request", `from="`+echoJID+`"`, `type="subscribe"`)
	u.raw(`<presence to='` + echoJID + `' type='subscribed'/>`)

	const (
		toPlatformMsg = `{direction="to_platform",kind="message",platform="sandbox"}`
		toXMPPMsg     = `{direction="to_xmpp",kind="message",platform="sandbox"}`
		toXMPPReceipt = `{direction="to_xmpp",kind="receipt",platform="sandbox"}`
	)
	before := scrape(t, ops)

	// Two messages with receipts and markers; each gets its echo.
	for i, text := range []string{"one", "two"} {
		id := fmt.Sprintf("mm%d", i)
		u.raw(`<message type='chat' to='` + echoJID + `' id='` + id + `'><body>` + text + `</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>`)
		u.waitRaw("receipt for "+id, `<received xmlns="urn:xmpp:receipts" id="`+id+`"`)
		u.waitMessage(echoJID, "echo: "+text)
		u.waitRaw("displayed marker for "+id, `<displayed xmlns="urn:xmpp:chat-markers:0" id="`+id+`"`)
	}
	// One to nobody: refused.
	u.raw(`<message type='chat' to='+19999999999@` + e2eComponent + `' id='nobody'><body>hello?</body></message>`)
	expectError(t, u, "nobody", "item-not-found")

	// The connection counts a stanza once its write returns, which may be
	// after the client has read it: scrape until the last ones are counted.
	var after map[string]float64
	delta := func(series string) float64 { return after[series] - before[series] }
	waitFor(t, "the last stanzas to be counted", func() bool {
		after = scrape(t, ops)
		return delta(`drawbridge_xmpp_stanzas_total{direction="out"}`) >= 9
	})
	for _, c := range []struct {
		series string
		want   float64
	}{
		{"drawbridge_relayed_total" + toPlatformMsg, 2},
		{"drawbridge_relay_duration_seconds_count" + toPlatformMsg, 2},
		{"drawbridge_relayed_total" + toXMPPMsg, 2},
		{"drawbridge_relay_duration_seconds_count" + toXMPPMsg, 2},
		// Delivered and displayed, for each message.
		{"drawbridge_relayed_total" + toXMPPReceipt, 4},
		{`drawbridge_relay_failures_total{direction="to_platform",error="unknown_chat",kind="message",platform="sandbox"}`, 1},
	} {
		if got := delta(c.series); got != c.want {
			t.Errorf("%s moved by %v, want %v", c.series, got, c.want)
		}
	}
	if got := delta(`drawbridge_xmpp_stanzas_total{direction="in"}`); got < 3 {
		t.Errorf("stanzas in moved by %v, want at least 3", got)
	}
	if got := delta(`drawbridge_xmpp_stanzas_total{direction="out"}`); got < 9 {
		t.Errorf("stanzas out moved by %v, want at least 9 (2 × receipt, typing, reply, marker, and an error)", got)
	}
	for series, want := range map[string]float64{
		"drawbridge_xmpp_connected":                                 1,
		"drawbridge_xmpp_connects_total":                            1,
		"drawbridge_xmpp_disconnects_total":                         0,
		`drawbridge_sessions{platform="sandbox",state="connected"}`: 1,
	} {
		if got, ok := after[series]; !ok || got != want {
			t.Errorf("%s = %v (present: %v), want %v", series, got, ok, want)
		}
	}
	if after[`drawbridge_account_state_changes_total{platform="sandbox",state="connected"}`] < 1 {
		t.Errorf("no state change to connected was counted")
	}
	if _, ok := after[`drawbridge_xmpp_queue_depth{queue="outbound"}`]; !ok {
		t.Errorf("no queue depth gauge")
	}

	// The API sees the same.
	conn, err := grpc.NewClient("passthrough:///"+api, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := adminv1.NewAdminServiceClient(conn)
	st, err := c.GetStatus(u.ctx(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.GetXmpp().GetConnected() || st.GetXmpp().GetStanzasIn() == 0 || st.GetCounts().GetLinked() != 1 || st.GetCounts().GetSessions() != 1 {
		t.Errorf("GetStatus = %v", st)
	}
	var out, errOut bytes.Buffer
	if err := run(u.ctx(), []string{"accounts", "list", "--api", api}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice@example.test") || !strings.Contains(out.String(), alicePhone) || !strings.Contains(out.String(), "connected") {
		t.Errorf("accounts list:\n%s", out.String())
	}
	// The command line links a user who has no XMPP client online.
	out.Reset()
	if err := run(u.ctx(), []string{"accounts", "link", "bob@example.test", "--api", api, "--input", "phone=+15557650002"}, &out, &errOut); err != nil {
		t.Fatalf("accounts link: %v\n%s", err, errOut.String())
	}
	waitFor(t, "two connected sessions", func() bool {
		return scrape(t, ops)[`drawbridge_sessions{platform="sandbox",state="connected"}`] == 2
	})

	// A web page on this machine cannot use the loopback API: a cross-site
	// text/plain unlink and a DNS-rebound request are refused, and bob
	// stays linked (issue 21).
	for _, attack := range []struct {
		name, host, ctype, origin string
		want                      int
	}{
		{"cross-site text/plain", "", "text/plain", "http://attacker.example", http.StatusForbidden},
		{"form post", "", "application/x-www-form-urlencoded", "", http.StatusUnsupportedMediaType},
		{"foreign Host", "attacker.example", "application/json", "", http.StatusForbidden},
	} {
		req, err := http.NewRequestWithContext(u.ctx(), http.MethodPost, "http://"+api+"/v1/accounts/bob@example.test:unlink", strings.NewReader(`{"platform":"sandbox"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", attack.ctype)
		if attack.origin != "" {
			req.Header.Set("Origin", attack.origin)
		}
		if attack.host != "" {
			req.Host = attack.host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != attack.want {
			t.Errorf("%s unlink: %s, want %d", attack.name, res.Status, attack.want)
		}
	}
	if acct, err := c.GetAccount(u.ctx(), &adminv1.GetAccountRequest{Owner: "bob@example.test"}); err != nil || !acct.GetLinked() {
		t.Errorf("bob after the cross-site attempts: %v, %v", acct, err)
	}

	// Administration over XMPP: root becomes an administrator by a
	// configuration reload through the API.
	reloaded := e.cfg
	reloaded.Component.Admins = []string{"root@" + e2eDomain}
	e.app.mgmt.setLoader(func() (config.Config, error) { return reloaded, nil })
	rr, err := c.ReloadConfig(u.ctx(), &adminv1.ReloadConfigRequest{})
	if err != nil || !slices.Contains(rr.GetApplied(), "component.admins") {
		t.Fatalf("ReloadConfig = %v, %v", rr, err)
	}
	root := e.user("root")
	items := root.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`)
	if !containsAll(items.Raw, `node="admin-list-users"`, `node="admin-unlink-user"`) {
		t.Fatalf("the administrator's command list: %s", items.Raw)
	}
	if items := u.iq("get", e2eComponent, `<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>`); strings.Contains(items.Raw, "admin-") {
		t.Errorf("a user sees admin commands: %s", items.Raw)
	}
	list := root.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-list-users' action='execute'/>`)
	if !containsAll(list.Raw, `status="completed"`, "alice@example.test: "+alicePhone+", connected", "bob@example.test: +15557650002, connected") {
		t.Errorf("list users: %s", list.Raw)
	}
	// User info in two stages.
	form := root.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-user-info' action='execute'/>`)
	sid := attr(form.Raw, "sessionid")
	if !containsAll(form.Raw, `status="executing"`, `var="accountjid"`) || sid == "" {
		t.Fatalf("user info stage 1: %s", form.Raw)
	}
	info := root.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-user-info' sessionid='`+sid+`'><x xmlns='jabber:x:data' type='submit'><field var='accountjid'><value>alice@example.test</value></field></x></command>`)
	if !containsAll(info.Raw, `status="completed"`, "<value>"+alicePhone+"</value>", "<value>connected</value>") {
		t.Errorf("user info stage 2: %s", info.Raw)
	}
	// Unlink alice in two stages; the API then shows her unlinked.
	form = root.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-unlink-user' action='execute'/>`)
	sid = attr(form.Raw, "sessionid")
	done := root.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-unlink-user' sessionid='`+sid+`'><x xmlns='jabber:x:data' type='submit'><field var='accountjid'><value>alice@example.test</value></field></x></command>`)
	if !containsAll(done.Raw, `status="completed"`, "is unlinked") {
		t.Fatalf("unlink: %s", done.Raw)
	}
	acct, err := c.GetAccount(u.ctx(), &adminv1.GetAccountRequest{Owner: "alice@example.test"})
	if err != nil || acct.GetLinked() || acct.GetSession() {
		t.Errorf("after the admin unlinked alice: %v, %v", acct, err)
	}
	// alice, not an administrator, may not.
	refused := u.iq("set", e2eComponent, `<command xmlns='http://jabber.org/protocol/commands' node='admin-list-users' action='execute'/>`)
	if cond, _ := stanzaErrorCondition(refused.Raw); cond != "forbidden" {
		t.Errorf("a user running an admin command: %s", refused.Raw)
	}
}
