package whatsapp_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
)

// debianPostgresBins is where Debian's postgresql-NN packages keep initdb
// and pg_ctl, one folder per major version; only a wrapper (pg_ctlcluster)
// is on PATH there.
const debianPostgresBins = "/usr/lib/postgresql/*/bin"

// findPostgres returns initdb and pg_ctl of one PostgreSQL installation:
// from PATH if both are there, else from the newest version in
// debianPostgresBins that has both.
func findPostgres() (initdb, pgctl string, ok bool) {
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		return initdb, pgctl, true
	}
	dirs, _ := filepath.Glob(debianPostgresBins) // the pattern is well-formed
	version := func(dir string) []int {
		var v []int
		for _, f := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil // not a version: sorted last
			}
			v = append(v, n)
		}
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return slices.Compare(version(b), version(a)) })
	for _, dir := range dirs {
		initdb, pgctl = filepath.Join(dir, "initdb"), filepath.Join(dir, "pg_ctl")
		if isExecutable(initdb) && isExecutable(pgctl) {
			return initdb, pgctl, true
		}
	}
	return "", "", false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// startPostgres runs a throw-away PostgreSQL server (initdb + pg_ctl from
// the machine's PostgreSQL packages) and returns its DSN. It skips the
// test when PostgreSQL is not installed.
func startPostgres(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	initdb, pgctl, ok := findPostgres()
	if !ok {
		t.Skip("PostgreSQL (initdb, pg_ctl) is not installed: neither on PATH nor in " + debianPostgresBins)
	}
	t.Logf("PostgreSQL: %s, %s", initdb, pgctl)
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
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			t.Fatalf("postgres user %s:%s: %v %v", u.Uid, u.Gid, err1, err2)
		}
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
