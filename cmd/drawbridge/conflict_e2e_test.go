package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// readyz returns the status code and body of a gateway's /readyz.
func readyz(t *testing.T, e *e2e) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + e.app.mgmt.ops.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestTwoGatewaysOnOneDomain starts a second gateway on the component
// domain of the first, against the real Prosody of startE2E, whose
// operator snippet kicks the old connection when a new one arrives. Both
// must say so: an Error line naming the domain, /readyz not ready with
// the reason, and the management API's status (drawbridge status) with
// the problem. (TestConflictKickOldAgainstProsody in xmppcomponent/stream
// bounds how often they reconnect.)
func TestTwoGatewaysOnOneDomain(t *testing.T) {
	first := startE2E(t, config.BackendSQLite)
	second := startGatewayOn(t, e2eComponent, first.prosody.ComponentAddr, nil)

	const want = "another gateway is connected as " + e2eComponent
	for name, e := range map[string]*e2e{"first": first, "second": second} {
		waitFor(t, name+" gateway's /readyz to report the conflict", func() bool {
			code, body := readyz(t, e)
			return code == http.StatusServiceUnavailable && strings.Contains(body, want)
		})
		waitFor(t, name+" gateway's Error line", func() bool {
			for _, line := range strings.Split(e.logs.String(), "\n") {
				if strings.Contains(line, "level=ERROR") && strings.Contains(line, want) &&
					strings.Contains(line, "stop the other instance") {
					return true
				}
			}
			return false
		})
		var out bytes.Buffer
		api := e.app.mgmt.api.Addr().String()
		if err := run(context.Background(), []string{"status", "--api", api}, &out, &out); err != nil {
			t.Fatalf("%s: drawbridge status: %v\n%s", name, err, out.String())
		}
		if !strings.Contains(out.String(), "PROBLEM") || !strings.Contains(out.String(), want) {
			t.Errorf("%s: drawbridge status does not show the conflict:\n%s", name, out.String())
		}
		out.Reset()
		if err := run(context.Background(), []string{"status", "--api", api, "--json"}, &out, &out); err != nil {
			t.Fatalf("%s: drawbridge status --json: %v", name, err)
		}
		if !strings.Contains(out.String(), `"problem": "`+want) {
			t.Errorf("%s: the API's status has no xmpp.problem:\n%s", name, out.String())
		}
	}
}
