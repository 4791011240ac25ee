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
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/report"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The self-contained deployment of `drawbridge report`.
const (
	reportDomain    = "report.test"
	reportComponent = "gw.report.test"
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
	keep := fs.Bool("keep", false, "keep the deployment's temporary directory (logs, store)")
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
	dep, stop, err := startReportDeployment(ctx, dir)
	if err != nil {
		return err
	}
	res, runErr := report.Run(ctx, dep.Deployment, report.Options{Tries: *tries, Timeout: *timeout, Log: log})
	var tables []report.StoreTable
	if runErr == nil {
		tables, runErr = report.SQLiteTables(ctx, dep.cfg.Store.SQLite.Path)
	}
	if err := stop(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		*keep = true
		return runErr
	}
	r := &report.Report{
		Title:      "Drawbridge interoperability evidence (DMA Article 7)",
		Generated:  time.Now(),
		Deployment: "a self-contained deployment: Prosody and the gateway on the sandbox platform, on loopback (per-user message rate limit off)",
		Tries:      *tries,
		Rows:       res.Rows,
		Setup:      res.Setup,
		Encryption: report.Encryption(),
		Store:      tables,
		StoreNotes: report.StoreFacts(dep.cfg),
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
		for i, row := range failing {
			ids[i] = row.ID + " (" + row.Note + ")"
		}
		return fmt.Errorf("report: %d supported rows did not pass: %s", len(failing), strings.Join(ids, "; "))
	}
	return nil
}

// reportDeployment is the running self-contained deployment.
type reportDeployment struct {
	report.Deployment
	cfg config.Config
}

// startReportDeployment starts Prosody and the gateway (sqlite store,
// sandbox platform) in dir; stop ends both.
func startReportDeployment(ctx context.Context, dir string) (reportDeployment, func() error, error) {
	secret := randomSecret()
	pdir := filepath.Join(dir, "prosody")
	if err := os.Mkdir(pdir, 0o700); err != nil {
		return reportDeployment{}, nil, fmt.Errorf("report: %w", err)
	}
	p, err := xmpptest.LaunchProsody(pdir, xmpptest.ProsodyOptions{
		Domain:     reportDomain,
		Components: []xmpptest.ComponentSpec{{Domain: reportComponent, Secret: secret}},
	})
	if err != nil {
		return reportDeployment{}, nil, fmt.Errorf("report: starting Prosody (apt-get install prosody lua-unbound): %w", err)
	}
	cfg := config.Default()
	cfg.Component.JID, cfg.Component.Server, cfg.Component.Secret = reportComponent, p.ComponentAddr, secret
	cfg.Store.Backend, cfg.Store.SQLite.Path = config.BackendSQLite, filepath.Join(dir, "drawbridge.db")
	cfg.API.Listen, cfg.Metrics.Listen = "127.0.0.1:0", "127.0.0.1:0"
	// The report's files are served on loopback, so fetching them must be allowed.
	cfg.Files.Listen, cfg.Files.Dir, cfg.Files.AllowPrivateFetch = "127.0.0.1:0", filepath.Join(dir, "files"), true
	// One user sends every try as fast as the suite measures: the per-user
	// message rate (a defence against floods, tested on its own) is off.
	cfg.Limits.Messages.PerJID, cfg.Limits.Messages.PerJIDBurst = 0, 0
	if err := cfg.Validate(); err != nil {
		_ = p.Close()
		return reportDeployment{}, nil, fmt.Errorf("report: gateway configuration: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		_ = p.Close()
		return reportDeployment{}, nil, fmt.Errorf("report: %w", err)
	}
	gctx, cancel := context.WithCancel(ctx)
	a, err := newApp(gctx, cfg, cfg.LoggerLevel(logFile, slog.LevelDebug))
	if err != nil {
		cancel()
		logFile.Close()
		_ = p.Close()
		return reportDeployment{}, nil, fmt.Errorf("report: starting the gateway: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(gctx) }()
	stop := func() error {
		cancel()
		var err error
		select {
		case err = <-done:
		case <-time.After(reportWait):
			err = errors.New("report: the gateway did not stop")
		}
		logFile.Close()
		if perr := p.Close(); perr != nil && err == nil {
			err = perr
		}
		return err
	}
	wctx, wcancel := context.WithTimeout(ctx, reportWait)
	defer wcancel()
	if err := a.component.Conn().WaitConnected(wctx); err != nil {
		_ = stop()
		return reportDeployment{}, nil, fmt.Errorf("report: the gateway did not connect to Prosody (log in %s): %w", dir, err)
	}
	if a.sandbox == nil {
		_ = stop()
		return reportDeployment{}, nil, errors.New("report: the gateway has no sandbox platform")
	}
	return reportDeployment{
		Deployment: report.Deployment{
			C2SAddr: p.C2SAddr, Domain: reportDomain, Component: reportComponent,
			Platform: a.sandbox.Platform(), Register: p.RegisterUser, Secrets: []string{secret},
		},
		cfg: cfg,
	}, stop, nil
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
