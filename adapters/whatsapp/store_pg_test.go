package whatsapp_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// startPostgres runs a throw-away PostgreSQL server (initdb + pg_ctl from
// the machine's PostgreSQL packages) and returns its DSN. It skips the
// test when PostgreSQL is not installed.
func startPostgres(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 != nil || err2 != nil {
		t.Skip("PostgreSQL (initdb, pg_ctl) is not installed")
	}
	dir, err := os.MkdirTemp("", "drawbridge-wa-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	command := func(args ...string) *exec.Cmd {
		full := append(append([]string{}, asUser...), args...)
		return exec.Command(full[0], full[1:]...)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := command(args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	run(pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-w", "start",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, dir))
	t.Cleanup(func() { _ = command(pgctl, "-D", data, "-m", "immediate", "stop").Run() })
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// TestPostgresDeviceStore links an account with the device store on
// PostgreSQL, then plays a restart: the new adapter finds the device there.
func TestPostgresDeviceStore(t *testing.T) {
	dsn := startPostgres(t)
	cfg := map[string]any{whatsapp.ConfigPostgresDSN: dsn}
	h := gatewaytest.NewHost(t)
	e := newEnvOn(t, h, filepath.Join(t.TempDir(), "unused.db"), cfg)
	acct, _ := e.link()
	if err := e.a.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	e2 := newEnvOn(t, h, filepath.Join(t.TempDir(), "unused.db"), cfg)
	s, err := e2.a.LoadSession(e2.ctx, acct)
	if err != nil {
		t.Fatalf("LoadSession from PostgreSQL: %v", err)
	}
	before := len(h.StateChanges())
	s.Connect(e2.ctx)
	e2.waitState(acct, event.StateConnected, before)
	if c := e2.client(0); c.Device.ID == nil || c.Device.ID.User != "15550000100" {
		t.Errorf("device loaded from PostgreSQL: %v", c.Device.ID)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.db), "unused.db")); err == nil {
		t.Error("a sqlite device store was created although postgres_dsn is set")
	}
}
