package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestReloadOnSIGHUP runs the binary against Prosody, changes log.level,
// limits.max_body_size and api.listen in its file and sends SIGHUP: debug
// lines appear, a body the old limit took is refused with
// policy-violation, the listen address is named as needing a restart, and
// the API keeps its old address.
func TestReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against Prosody")
	}
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Domain:     e2eDomain,
		Components: []xmpptest.ComponentSpec{{Domain: e2eComponent, Secret: e2eSecret}},
	})
	bin := makeBuild(t)
	dir := t.TempDir()
	apiAddr, otherAPI := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cfgPath := filepath.Join(dir, "drawbridge.yaml")
	writeConfig := func(level, maxBody, api string) {
		t.Helper()
		cfg := fmt.Sprintf(`component:
  jid: %s
  server: %s
  secret: %s
store:
  sqlite:
    path: %s
api:
  listen: %s
metrics:
  listen: ""
files:
  listen: ""
log:
  level: %s
limits:
  max_body_size: %s
`, e2eComponent, p.ComponentAddr, e2eSecret, filepath.Join(dir, "drawbridge.db"), api, level, maxBody)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("info", "64KiB", apiAddr)
	logPath := filepath.Join(dir, "gateway.log")
	proc, err := testutil.Start(exec.Command(bin, "run", "--config", cfgPath), logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = proc.Stop(30 * time.Second)
		if t.Failed() {
			t.Logf("gateway log:\n%s", proc.Tail(40))
		}
	})
	if err := proc.WaitLog(e2eWait, logPath, "component connected"); err != nil {
		t.Fatal(err)
	}
	readLog := func() string {
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	e := &e2e{t: t, prosody: p}
	u := e.user("alice")
	linkByChat(t, u)
	long := strings.Repeat("x", 2000) // under the sandbox's own 4096
	u.raw(`<message type='chat' to='` + echoJID + `' id='long1'><body>` + long + `</body></message>`)
	u.waitMessage(echoJID, "echo: xxx")
	if strings.Contains(readLog(), "level=DEBUG") {
		t.Fatal("debug lines at log.level info")
	}

	writeConfig("debug", "1KiB", otherAPI)
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := proc.WaitLog(e2eWait, logPath, "configuration reloaded"); err != nil {
		t.Fatal(err)
	}
	logs := readLog()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`SIGHUP: reloading the configuration`),
		regexp.MustCompile(`configuration reloaded" applied="\[limits.max_body_size log.level\]" needs_restart=\[api.listen\]`),
		regexp.MustCompile(`level=WARN msg="configuration reload: this change needs a restart.*" key=api.listen`),
	} {
		if !want.MatchString(logs) {
			t.Errorf("the log after SIGHUP lacks %q:\n%s", want, tailLines(logs, 10))
		}
	}

	// The new limit: the same body is refused now.
	u.raw(`<message type='chat' to='` + echoJID + `' id='long2'><body>` + long + `</body></message>`)
	u.waitRaw("the refusal of the long body", `id="long2"`, `type="error"`, "policy-violation")
	// The new level: a message sent is logged at debug.
	u.raw(`<message type='chat' to='` + echoJID + `' id='short'><body>short</body></message>`)
	u.waitMessage(echoJID, "echo: short")
	if err := proc.WaitLog(e2eWait, logPath, `level=DEBUG msg="sandbox: message sent"`); err != nil {
		t.Error(err)
	}
	// The API stays where it was until a restart.
	if err := proc.WaitPorts(e2eWait, apiAddr); err != nil {
		t.Errorf("the API left %s: %v", apiAddr, err)
	}
}
