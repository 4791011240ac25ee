package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/cmd/drawbridge/report"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The self-contained deployment of `drawbridge report`.
const (
	reportDomain    = "report.test"
	reportComponent = "gw.report.test"
	// reportRemote is the ejabberd domain of the federation setup.
	reportRemote = "remote.test"
)

// reportWait bounds the gateway's start and stop.
const reportWait = 30 * time.Second

// cmdReport runs the Article 7 feature suite against a deployment it
// starts itself (Prosody and the gateway on the sandbox, on free loopback
// ports in a temporary directory) and writes report.html and report.pdf.
// It fails when a row the README lists as supported did not pass.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "report-out", "directory for report.html and report.pdf")
	tries := fs.Int("tries", 20, "tries per row (latency percentiles are over these)")
	timeout := fs.Duration("timeout", 20*time.Second, "time one try may take")
	noPDF := fs.Bool("no-pdf", false, "write report.html only (no Chromium)")
	keep := fs.Bool("keep", false, "keep the deployments' temporary directory (logs, stores)")
	servers := fs.String("servers", strings.Join(reportServers, ","), "server setups, one column each: "+strings.Join(reportServers, ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("report: unexpected arguments %q", fs.Args())
	}
	if *tries < 1 || *tries > 10000 {
		return fmt.Errorf("report: --tries must be between 1 and 10000, got %d", *tries)
	}
	dir, err := os.MkdirTemp("", "drawbridge-report-")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if *keep {
			fmt.Fprintf(stdout, "deployment files kept in %s\n", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var (
		runs   [][]report.Row
		setups []report.Server
		tables []report.StoreTable
		cfg    config.Config
	)
	kinds := strings.Split(*servers, ",")
	for _, kind := range kinds {
		if !slices.Contains(reportServers, kind) {
			return fmt.Errorf("report: --servers: unknown setup %q (want a comma-separated list of %s)", kind, strings.Join(reportServers, ", "))
		}
	}
	for i, kind := range kinds {
		kdir := filepath.Join(dir, fmt.Sprintf("%d-%s", i+1, kind))
		if err := os.Mkdir(kdir, 0o700); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		log.Info("report: starting the deployment", "setup", kind, "dir", kdir)
		dep, stop, err := startReportDeployment(ctx, kdir, kind)
		if err != nil {
			*keep = true
			return err
		}
		res, runErr := report.Run(ctx, dep.Deployment, report.Options{Tries: *tries, Timeout: *timeout, Log: log})
		if runErr == nil && tables == nil {
			// The store the gateway wrote during the first run.
			tables, runErr = report.SQLiteTables(ctx, dep.cfg.Store.SQLite.Path)
			cfg = dep.cfg
		}
		if err := stop(); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			*keep = true
			return fmt.Errorf("report: on %s: %w", dep.Name, runErr)
		}
		runs = append(runs, res.Rows)
		setups = append(setups, report.Server{Name: dep.Name, Description: dep.description, Setup: res.Setup})
	}
	r := &report.Report{
		Title:      "Drawbridge interoperability evidence (DMA Article 7)",
		Generated:  time.Now(),
		Deployment: "self-contained deployments: the gateway on the sandbox platform with each server setup below, on loopback (per-user message rate limit off)",
		Tries:      *tries,
		Servers:    setups,
		Rows:       report.Combine(runs...),
		Encryption: report.Encryption(),
		Store:      tables,
		StoreNotes: report.StoreFacts(cfg),
		Versions:   report.Versions(ctx, version()),
		Machine:    report.Machine(),
	}
	files, err := report.Write(ctx, r, *out, !*noPDF)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", files.HTML)
	if files.PDF != "" {
		fmt.Fprintf(stdout, "wrote %s\n", files.PDF)
	}
	if failing := r.Failing(); len(failing) > 0 {
		ids := make([]string, len(failing))
		for i, f := range failing {
			ids[i] = f.Row + " on " + f.Server + " (" + f.Note + ")"
		}
		return fmt.Errorf("report: %d supported rows did not pass: %s", len(failing), strings.Join(ids, "; "))
	}
	return nil
}

// reportServers are the server setups `drawbridge report` can run on.
var reportServers = []string{"prosody", "ejabberd", "federation"}

// reportDeployment is one running self-contained deployment.
type reportDeployment struct {
	report.Deployment
	description string
	cfg         config.Config
}

// startReportDeployment starts the servers of one setup and the gateway
// (sqlite store, sandbox platform) in dir; stop ends them all.
//
//   - prosody: the user and the gateway on one Prosody;
//   - ejabberd: the user and the gateway on one ejabberd;
//   - federation: the gateway on Prosody, the user on an ejabberd that
//     reaches it over server-to-server federation (dialback, loopback).
func startReportDeployment(ctx context.Context, dir, kind string) (dep reportDeployment, stop func() error, err error) {
	secret := randomSecret()
	var closers []func() error
	stopAll := func() error {
		var first error
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	defer func() {
		if err != nil {
			_ = stopAll()
		}
	}()
	mkdir := func(name string) (string, error) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			return "", fmt.Errorf("report: %w", err)
		}
		return d, nil
	}
	comp := []xmpptest.ComponentSpec{{Domain: reportComponent, Secret: secret}}
	var compAddr string
	var allowed []string
	switch kind {
	case "prosody":
		pdir, err := mkdir("prosody")
		if err != nil {
			return dep, nil, err
		}
		p, err := xmpptest.LaunchProsody(pdir, xmpptest.ProsodyOptions{Domain: reportDomain, Components: comp})
		if err != nil {
			return dep, nil, fmt.Errorf("report: starting Prosody (apt-get install prosody lua-unbound): %w", err)
		}
		closers = append(closers, p.Close)
		compAddr = p.ComponentAddr
		dep.Deployment = report.Deployment{Name: "Prosody", C2SAddr: p.C2SAddr, Domain: reportDomain, Register: p.RegisterUser}
		dep.description = "the XMPP user and the gateway (XEP-0114 component) on one Prosody"
	case "ejabberd":
		edir, err := mkdir("ejabberd")
		if err != nil {
			return dep, nil, err
		}
		if err := xmpptest.EjabberdInstalled(); err != nil {
			return dep, nil, fmt.Errorf("report: %w", err)
		}
		e, err := xmpptest.LaunchEjabberd(edir, xmpptest.EjabberdOptions{Domain: reportDomain, Components: comp})
		if err != nil {
			return dep, nil, fmt.Errorf("report: starting ejabberd: %w", err)
		}
		closers = append(closers, e.Close)
		compAddr = e.ComponentAddr
		dep.Deployment = report.Deployment{Name: "ejabberd", C2SAddr: e.C2SAddr, Domain: reportDomain,
			Register: func(user, pw string) error { return e.RegisterUserAt(user, reportDomain, pw) }}
		dep.description = "the XMPP user and the gateway (XEP-0114 component, XEP-0356 privileges from deploy/ejabberd) on one ejabberd"
	case "federation":
		pdir, err := mkdir("prosody")
		if err != nil {
			return dep, nil, err
		}
		edir, err := mkdir("ejabberd")
		if err != nil {
			return dep, nil, err
		}
		if err := xmpptest.EjabberdInstalled(); err != nil {
			return dep, nil, fmt.Errorf("report: %w", err)
		}
		ports, err := testutil.PickPorts(2)
		if err != nil {
			return dep, nil, err
		}
		hosts := filepath.Join(pdir, "hosts")
		if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o600); err != nil {
			return dep, nil, fmt.Errorf("report: %w", err)
		}
		p, err := xmpptest.LaunchProsody(pdir, xmpptest.ProsodyOptions{Domain: reportDomain, Components: comp,
			S2S: &xmpptest.ProsodyS2S{Port: ports[0], PeerPort: ports[1], HostsFile: hosts}})
		if err != nil {
			return dep, nil, fmt.Errorf("report: starting Prosody (apt-get install prosody lua-unbound): %w", err)
		}
		closers = append(closers, p.Close)
		prosodyS2S := testutil.LoopbackAddr(ports[0])
		e, err := xmpptest.LaunchEjabberd(edir, xmpptest.EjabberdOptions{Domain: reportRemote, S2S: true, S2SPort: ports[1],
			S2SRoutes: map[string]string{reportDomain: prosodyS2S, reportComponent: prosodyS2S}})
		if err != nil {
			return dep, nil, fmt.Errorf("report: starting ejabberd: %w", err)
		}
		closers = append(closers, e.Close)
		compAddr = p.ComponentAddr
		allowed = []string{reportDomain, reportRemote}
		dep.Deployment = report.Deployment{Name: "ejabberd user via s2s", C2SAddr: e.C2SAddr, Domain: reportRemote,
			Register: func(user, pw string) error { return e.RegisterUserAt(user, reportRemote, pw) }}
		dep.description = "the gateway on Prosody (" + reportDomain + "), the XMPP user on an ejabberd (" + reportRemote + ") federating with it over server-to-server links (dialback, loopback)"
	default:
		return dep, nil, fmt.Errorf("report: --servers: unknown setup %q (want %s)", kind, strings.Join(reportServers, ", "))
	}

	cfg := config.Default()
	cfg.Component.JID, cfg.Component.Server, cfg.Component.Secret = reportComponent, compAddr, secret
	cfg.Store.Backend, cfg.Store.SQLite.Path = config.BackendSQLite, filepath.Join(dir, "drawbridge.db")
	cfg.API.Listen, cfg.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0"
	// The report's files are served on loopback, so fetching them must be allowed.
	cfg.Files.Listen, cfg.Files.Dir, cfg.Files.AllowPrivateFetch = "127.0.0.1:0", filepath.Join(dir, "files"), true
	// One user sends every try as fast as the suite measures: the per-user
	// message rate (a defence against floods, tested on its own) is off.
	cfg.Limits.Messages.PerJID, cfg.Limits.Messages.PerJIDBurst = 0, 0
	if allowed != nil {
		cfg.Registration.AllowedDomains = allowed
	}
	if err := cfg.Validate(); err != nil {
		return dep, nil, fmt.Errorf("report: gateway configuration: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return dep, nil, fmt.Errorf("report: %w", err)
	}
	closers = append(closers, logFile.Close)
	gctx, cancel := context.WithCancel(ctx)
	a, err := newApp(gctx, cfg, cfg.LoggerLevel(logFile, slog.LevelDebug))
	if err != nil {
		cancel()
		return dep, nil, fmt.Errorf("report: starting the gateway: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(gctx) }()
	closers = append(closers, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(reportWait):
			return errors.New("report: the gateway did not stop")
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, reportWait)
	defer wcancel()
	if err := a.component.Conn().WaitConnected(wctx); err != nil {
		return dep, nil, fmt.Errorf("report: the gateway did not connect to the XMPP server (log in %s): %w", dir, err)
	}
	if a.sandbox == nil {
		return dep, nil, errors.New("report: the gateway has no sandbox platform")
	}
	dep.Component, dep.Platform, dep.Secrets = reportComponent, a.sandbox.Platform(), []string{secret}
	dep.cfg = cfg
	return dep, stopAll, nil
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
