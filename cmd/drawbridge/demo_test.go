package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestDemoEchoDelay: `make demo` lets people see the Echo Bot typing — it
// sets the sandbox's echo_delay to about a second (DEMO_ECHO_DELAY), while
// the embedded defaults, which the tests and benchmarks run on, keep 0.
func TestDemoEchoDelay(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "demo", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	m := regexp.MustCompile(`(?m)^ECHO_DELAY=\$\{DEMO_ECHO_DELAY:-([^}]+)\}$`).FindStringSubmatch(script)
	if m == nil {
		t.Fatal("demo.sh sets no ECHO_DELAY from DEMO_ECHO_DELAY")
	}
	if !strings.Contains(script, "DRAWBRIDGE_PLATFORMS_SANDBOX_ECHO_DELAY=$ECHO_DELAY") {
		t.Fatal("demo.sh does not pass ECHO_DELAY to the gateway")
	}
	cfg, err := config.Parse(nil, []string{"DRAWBRIDGE_COMPONENT_SECRET=s", "DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true", "DRAWBRIDGE_PLATFORMS_SANDBOX_ECHO_DELAY=" + m[1]})
	if err != nil {
		t.Fatal(err)
	}
	d, err := time.ParseDuration(cfg.Platforms["sandbox"]["echo_delay"].(string))
	if err != nil || d < 500*time.Millisecond || d > 2*time.Second {
		t.Errorf("the demo's echo_delay is %v (%v), want about a second", d, err)
	}
	if _, set := config.Default().Platforms["sandbox"]["echo_delay"]; set {
		t.Error("the embedded defaults set echo_delay; tests and benchmarks want none")
	}
}

// TestDemosSideBySide runs `make demo`'s script as operators on a shared
// machine do: two one-shot demos and an interactive one at the same time,
// with the gateway's and Prosody's default ports (8480 API, 8481 files,
// 9480 metrics, 5222 clients) held by someone else. Every demo picks free
// ports for all its listeners, prints them, passes, and removes its
// temporary directory when it ends well (a one-shot run that passed, an
// interactive one stopped by a signal); one that fails says where its
// directory is kept.
func TestDemosSideBySide(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prosody, the gateway and the slixmpp client")
	}
	for _, port := range []string{"8480", "8481", "9480", "5222"} {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			t.Cleanup(func() { ln.Close() })
		} // else someone else holds it: taken either way
	}
	bin := makeBuild(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string, env ...string) (*testutil.Process, string, string) {
		tmp := t.TempDir()
		logPath := filepath.Join(t.TempDir(), name+".log")
		cmd := exec.Command("bash", "deploy/demo/demo.sh")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), append([]string{"TMPDIR=" + tmp, "DEMO_BIN=" + bin, "DEMO_DIR=", "DEMO_KEEP=", "DEMO_ONESHOT="}, env...)...)
		p, err := testutil.Start(cmd, logPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(30 * time.Second) })
		return p, tmp, logPath
	}
	wait := func(p *testutil.Process) error {
		select {
		case <-p.Exited():
			return p.ExitErr()
		case <-time.After(3 * time.Minute):
			return errors.New("still running after 3 minutes")
		}
	}
	type run struct {
		p        *testutil.Process
		tmp, log string
	}
	var oneShots []run
	for i := range 2 {
		p, tmp, logPath := start(fmt.Sprintf("oneshot%d", i), "DEMO_ONESHOT=1")
		oneShots = append(oneShots, run{p, tmp, logPath})
	}
	ip, itmp, ilog := start("interactive")
	// A gateway that exits at once: the demo fails and keeps its directory.
	fp, ftmp, flog := start("failing", "DEMO_ONESHOT=1", "DEMO_BIN=/bin/false")

	portLine := regexp.MustCompile(`==> ports: client (\d+), component (\d+), API (\d+), metrics (\d+), files (\d+), platform page (\d+) \(all on 127\.0\.0\.1\)`)
	used := map[string]string{}
	for i, r := range oneShots {
		err := wait(r.p)
		out := testutil.Tail(400, r.log)
		if err != nil {
			t.Fatalf("one-shot demo %d: %v\n%s", i, err, out)
		}
		m := portLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("one-shot demo %d prints no ports line:\n%s", i, out)
		}
		checkClientHint(t, fmt.Sprint("one-shot demo ", i), out, m[1])
		for _, port := range m[1:] {
			if prev, dup := used[port]; dup {
				t.Errorf("port %s used twice (%s and demo %d)", port, prev, i)
			}
			used[port] = fmt.Sprint("demo ", i)
		}
		if left, _ := filepath.Glob(filepath.Join(r.tmp, "drawbridge-demo.*")); len(left) != 0 {
			t.Errorf("one-shot demo %d left %v behind", i, left)
		}
	}
	for _, port := range []string{"8480", "8481", "9480", "5222"} {
		if _, ok := used[port]; ok {
			t.Errorf("a demo used the default port %s, which was taken", port)
		}
	}

	if err := ip.WaitLog(3*time.Minute, ilog, "Press Ctrl-C to stop."); err != nil {
		t.Fatalf("interactive demo: %v\n%s", err, testutil.Tail(60, ilog))
	}
	iout := testutil.Tail(400, ilog)
	for _, want := range []string{"management API 127.0.0.1:", "metrics http://127.0.0.1:", "file host http://127.0.0.1:",
		"the platform side in a browser: http://127.0.0.1:"} {
		if !strings.Contains(iout, want) {
			t.Errorf("the interactive demo's banner lacks %q:\n%s", want, iout)
		}
	}
	if m := portLine.FindStringSubmatch(iout); m == nil {
		t.Errorf("the interactive demo prints no ports line:\n%s", iout)
	} else {
		checkClientHint(t, "the interactive demo", iout, m[1])
	}
	// The printed page is served.
	if m := regexp.MustCompile(`in a browser: (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(iout); m != nil {
		res, err := http.Get(m[1])
		if err != nil {
			t.Errorf("the platform page of the demo: %v", err)
		} else {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), "Sandbox platform") {
				t.Errorf("the platform page of the demo: %s %.200s", res.Status, body)
			}
		}
	}
	if err := ip.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(itmp, "drawbridge-demo.*")); len(left) != 0 {
		t.Errorf("the interactive demo, stopped, left %v behind:\n%s", left, testutil.Tail(20, ilog))
	}

	if err := wait(fp); err == nil {
		t.Errorf("the demo passed with a gateway that exits at once:\n%s", testutil.Tail(60, flog))
	}
	kept, _ := filepath.Glob(filepath.Join(ftmp, "drawbridge-demo.*"))
	if len(kept) != 1 || !strings.Contains(testutil.Tail(400, flog), "state and logs kept in "+kept[0]) {
		t.Errorf("the failed demo keeps %v and should say so:\n%s", kept, testutil.Tail(60, flog))
	}
}

// checkClientHint: the demo's output says, with the exact client port,
// which desktop clients connect to its plaintext loopback server and how,
// and which cannot (Dino refuses plaintext; a phone cannot reach the
// machine's 127.0.0.1).
func checkClientHint(t *testing.T, which, out, c2sPort string) {
	t.Helper()
	for _, want := range []string{
		"server 127.0.0.1 port " + c2sPort + ", no TLS",
		"Gajim     account settings, Advanced: custom host 127.0.0.1 port " + c2sPort + ", connection type Plain",
		"Profanity /connect demo@localhost server 127.0.0.1 port " + c2sPort + " tls disable",
		"poezio    poezio.cfg: custom_host = 127.0.0.1, custom_port = " + c2sPort + ", force_encryption = false",
		"Dino      cannot: it refuses connections without TLS",
		"phones (Conversations, Monal, ...) cannot",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: the client hint lacks %q:\n%s", which, want, out)
		}
	}
}
