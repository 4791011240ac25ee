package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
)

// The names of what a backup directory holds.
const (
	backupStore    = "drawbridge.db"
	backupDevices  = "whatsapp.db"
	backupFiles    = "files"
	backupKey      = "encryption.key"
	backupManifest = "MANIFEST.txt"
)

// redisBackupHowTo is what backup and restore say about a Redis store,
// which they do not copy themselves.
const redisBackupHowTo = `The Redis store is not in this backup: Redis makes its own.
  Back it up:  redis-cli -u REDIS_URL --rdb /backup/drawbridge.rdb
               (or BGSAVE, wait until LASTSAVE changes, then copy dump.rdb)
  Restore it:  stop Redis, put the file in place as its dump.rdb (appendonly off,
               or rebuild the AOF after), start Redis, then start drawbridge.
  See docs/operating.md.`

// dataPaths are where a configuration keeps its data on this machine.
type dataPaths struct {
	store      string // the gateway's sqlite file; "" with Redis
	devices    string // the WhatsApp device store's sqlite file; "" if none
	devicesPG  bool   // the device store is in PostgreSQL
	files      string // the file host's directory; "" if it is off
	keyFile    string // store.encryption_key_file
	keyInline  string // store.encryption_key, when set in the configuration
	redisStore bool
}

// dataPathsOf resolves the paths of cfg as run does (newAdapters'
// defaults, the file host's directory beside the database).
func dataPathsOf(cfg config.Config) (dataPaths, error) {
	cfg, _, _, err := newAdapters(cfg)
	if err != nil {
		return dataPaths{}, err
	}
	var p dataPaths
	dataDir := ""
	switch cfg.Store.Backend {
	case config.BackendSQLite:
		p.store = cfg.Store.SQLite.Path
		dataDir = filepath.Dir(p.store)
	case config.BackendRedis:
		p.redisStore = true
	}
	if cfg.PlatformEnabled("whatsapp") {
		section := cfg.Platforms["whatsapp"]
		if dsn, _ := section[whatsapp.ConfigPostgresDSN].(string); dsn != "" {
			p.devicesPG = true
		} else if db, _ := section[whatsapp.ConfigDatabase].(string); db != "" {
			p.devices = db
		} else {
			p.devices = whatsapp.DefaultDatabase
		}
	}
	if cfg.Files.Listen != "" && cfg.Files.Dir != "" {
		p.files = cfg.Files.Dir
		if !filepath.IsAbs(p.files) && dataDir != "" {
			p.files = filepath.Join(dataDir, p.files)
		}
	}
	p.keyFile = cfg.Store.EncryptionKeyFile
	if p.keyFile == "" {
		p.keyInline = cfg.Store.EncryptionKey
	}
	return p, nil
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	path := flags.String("config", "", "the gateway's configuration file (YAML)")
	out := flags.String("out", "", "directory to write the backup to (created; must not exist or be empty)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *path == "" || *out == "" {
		return errors.New("backup: --config FILE and --out DIR are required")
	}
	cfg, err := loadChecked(*path)
	if err != nil {
		return err
	}
	return backup(ctx, cfg, *path, *out, stdout)
}

// backup copies what cfg keeps on this machine into the directory out: the
// sqlite store and the WhatsApp device store as consistent snapshots
// (VACUUM INTO: safe while the gateway runs), the file host's directory,
// the encryption key and the configuration file (cfgPath, if not ""). It
// says what it did, and what it did not copy (Redis, PostgreSQL), on stdout.
func backup(ctx context.Context, cfg config.Config, cfgPath, out string, stdout io.Writer) error {
	p, err := dataPathsOf(cfg)
	if err != nil {
		return err
	}
	if err := makeEmptyDir(out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var manifest strings.Builder
	fmt.Fprintf(&manifest, "drawbridge %s backup, %s\n", version(), time.Now().UTC().Format(time.RFC3339))
	note := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		fmt.Fprintln(stdout, line)
		fmt.Fprintln(&manifest, line)
	}
	if p.store != "" {
		if err := vacuumInto(ctx, p.store, filepath.Join(out, backupStore)); err != nil {
			return fmt.Errorf("backup: store.sqlite.path: %w", err)
		}
		note("%s: the gateway's store (sqlite snapshot of %s, schema version %d)", backupStore, p.store, sqlitestore.SchemaVersion())
	}
	if p.devices != "" {
		if _, err := os.Stat(p.devices); err == nil {
			if err := vacuumInto(ctx, p.devices, filepath.Join(out, backupDevices)); err != nil {
				return fmt.Errorf("backup: platforms.whatsapp.database: %w", err)
			}
			note("%s: the WhatsApp device store (sqlite snapshot of %s)", backupDevices, p.devices)
		} else {
			note("no WhatsApp device store yet at %s (no account linked)", p.devices)
		}
	}
	if p.files != "" {
		n, err := copyTree(p.files, filepath.Join(out, backupFiles))
		if err != nil {
			return fmt.Errorf("backup: files.dir: %w", err)
		}
		note("%s/: the file host's %d files (from %s)", backupFiles, n, p.files)
	}
	switch {
	case p.keyFile != "":
		if err := copyFile(p.keyFile, filepath.Join(out, backupKey)); err != nil {
			return fmt.Errorf("backup: store.encryption_key_file: %w", err)
		}
		note("%s: the encryption key (from %s); keep it apart from the data if that is your policy", backupKey, p.keyFile)
	case p.keyInline != "":
		if err := os.WriteFile(filepath.Join(out, backupKey), []byte(p.keyInline+"\n"), 0o600); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		note("%s: the encryption key (store.encryption_key of the configuration)", backupKey)
	}
	if cfgPath != "" {
		if err := copyFile(cfgPath, filepath.Join(out, "drawbridge.yaml")); err != nil {
			return fmt.Errorf("backup: the configuration: %w", err)
		}
		note("drawbridge.yaml: the configuration (%s; it may hold secrets)", cfgPath)
	}
	if p.redisStore {
		note("%s", redisBackupHowTo)
	}
	if p.devicesPG {
		note("The WhatsApp device store is in PostgreSQL (platforms.whatsapp.postgres_dsn): back it up with pg_dump.")
	}
	if err := os.WriteFile(filepath.Join(out, backupManifest), []byte(manifest.String()), 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s; restore with: drawbridge restore --config FILE --from %s (gateway stopped)\n", out, out)
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	flags.SetOutput(stderr)
	path := flags.String("config", "", "the configuration of the gateway to restore into (YAML)")
	from := flags.String("from", "", "a directory written by drawbridge backup")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *path == "" || *from == "" {
		return errors.New("restore: --config FILE and --from DIR are required")
	}
	cfg, err := loadChecked(*path)
	if err != nil {
		return err
	}
	return restore(ctx, cfg, *from, stdout)
}

// restore puts the parts of the backup in from where cfg keeps them. The
// gateway must be stopped; nothing existing is overwritten: a target that
// exists is named and nothing is copied.
func restore(ctx context.Context, cfg config.Config, from string, stdout io.Writer) error {
	if _, err := os.Stat(filepath.Join(from, backupManifest)); err != nil {
		return fmt.Errorf("restore: %s is not a drawbridge backup (no %s)", from, backupManifest)
	}
	p, err := dataPathsOf(cfg)
	if err != nil {
		return err
	}
	type part struct{ src, dst, what string }
	var parts []part
	have := func(name string) bool { _, err := os.Stat(filepath.Join(from, name)); return err == nil }
	if have(backupStore) {
		if p.store == "" {
			return fmt.Errorf("restore: the backup holds a sqlite store, but store.backend is %q", cfg.Store.Backend)
		}
		parts = append(parts, part{backupStore, p.store, "store.sqlite.path"})
	}
	if have(backupDevices) && p.devices != "" {
		parts = append(parts, part{backupDevices, p.devices, "platforms.whatsapp.database"})
	}
	if have(backupFiles) && p.files != "" {
		parts = append(parts, part{backupFiles, p.files, "files.dir"})
	}
	if have(backupKey) && p.keyFile != "" {
		parts = append(parts, part{backupKey, p.keyFile, "store.encryption_key_file"})
	}
	for _, pt := range parts {
		for _, dst := range []string{pt.dst, pt.dst + "-wal", pt.dst + "-shm"} {
			if !exists(dst) {
				continue
			}
			if pt.src == backupFiles && dst == pt.dst && emptyDir(dst) {
				continue
			}
			return fmt.Errorf("restore: %s: %s exists; stop the gateway and move it away first (nothing was restored)", pt.what, dst)
		}
	}
	for _, pt := range parts {
		src := filepath.Join(from, pt.src)
		var err error
		if pt.src == backupFiles {
			_, err = copyTree(src, pt.dst)
		} else {
			err = copyFile(src, pt.dst)
		}
		if err != nil {
			return fmt.Errorf("restore: %s: %w", pt.what, err)
		}
		fmt.Fprintf(stdout, "restored %s to %s (%s)\n", pt.src, pt.dst, pt.what)
	}
	if p.store != "" && have(backupStore) {
		// Open it once: a backup of a newer schema is refused here, not at
		// the next start; an older one is migrated.
		st, err := sqlitestore.Open(ctx, p.store)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		st.Close()
	}
	if have(backupKey) && p.keyFile == "" {
		fmt.Fprintf(stdout, "the backup's %s holds the encryption key: set store.encryption_key or store.encryption_key_file to it\n", backupKey)
	}
	if p.redisStore {
		fmt.Fprintln(stdout, redisBackupHowTo)
	}
	return nil
}

// vacuumInto writes a consistent snapshot of the sqlite database at src to
// the new file dst, while other connections may be writing to it.
func vacuumInto(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", sqlitestore.DSN(src))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("VACUUM INTO %s: %w", dst, err)
	}
	return os.Chmod(dst, 0o600)
}

// makeEmptyDir creates dir (0700), or accepts it if it exists and is empty.
func makeEmptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !emptyDir(dir) {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// copyFile copies the regular file src to dst (created 0600, not
// overwritten).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies the regular files under src to dst (directories 0700)
// and returns how many it copied.
func copyTree(src, dst string) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o700)
		case d.Type().IsRegular():
			n++
			return copyFile(path, target)
		}
		return nil // sockets, links: not data of the file host
	})
	if errors.Is(err, fs.ErrNotExist) && n == 0 {
		return 0, os.MkdirAll(dst, 0o700)
	}
	return n, err
}
