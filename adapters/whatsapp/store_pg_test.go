//go:build unix

package whatsapp_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// debianPostgresBins is where Debian's postgresql-NN packages keep initdb
// and postgres, one folder per major version; only a wrapper
// (pg_ctlcluster) is on PATH there.
const debianPostgresBins = "/usr/lib/postgresql/*/bin"

// Timeouts of the PostgreSQL server a test runs.
const (
	pgStartTimeout = 60 * time.Second
	pgStopTimeout  = 10 * time.Second
)

// findPostgres returns initdb and postgres of one PostgreSQL installation:
// from PATH if both are there, else from the newest version in
// debianPostgresBins that has both.
func findPostgres() (initdb, postgres string, ok bool) {
	initdb, err1 := exec.LookPath("initdb")
	postgres, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return initdb, postgres, true
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
		initdb, postgres = filepath.Join(dir, "initdb"), filepath.Join(dir, "postgres")
		if isExecutable(initdb) && isExecutable(postgres) {
			return initdb, postgres, true
		}
	}
	return "", "", false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// startPostgres runs a throw-away PostgreSQL server (initdb, then postgres
// in the foreground as a child process of the test, from the machine's
// PostgreSQL packages) and returns its DSN. It skips the test when
// PostgreSQL is not installed, and under -short.
func startPostgres(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	initdb, postgres, ok := findPostgres()
	if !ok {
		t.Skip("PostgreSQL (initdb, postgres) is not installed: neither on PATH nor in " + debianPostgresBins)
	}
	t.Logf("PostgreSQL: %s, %s", initdb, postgres)
	dir, err := os.MkdirTemp("", "drawbridge-wa-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user")
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("postgres user %s:%s: %v %v", u.Uid, u.Gid, err1, err2)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return cmd
	}
	if out, err := command(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := testutil.FreePort(t)
	proc, err := testutil.Start(command(postgres, "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "lc_messages=C"), filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	// SIGQUIT: the immediate shutdown; the data is thrown away.
	t.Cleanup(func() {
		if err := proc.Terminate(syscall.SIGQUIT, pgStopTimeout); err != nil {
			t.Error(err)
		}
	})
	// The port opens before the server accepts sessions; it logs when
	// it does.
	if err := proc.WaitLog(pgStartTimeout, proc.LogPath(), "database system is ready to accept connections"); err != nil {
		t.Fatalf("PostgreSQL did not come up: %v\n%s", err, proc.Tail(30))
	}
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
