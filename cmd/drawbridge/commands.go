package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// buildVersion is set by `make build` from git describe
// (-ldflags "-X main.buildVersion=..."); it wins over what the toolchain
// stamps, which is "(devel)" when VCS stamping is off.
var buildVersion string

// version is the version `make build` stamped, else the module version
// stamped by the Go toolchain, or the VCS revision for development builds.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "dev-" + s.Value[:min(12, len(s.Value))]
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("run: --config FILE is required (see 'drawbridge config example')")
	}
	cfg, err := loadChecked(*path)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stderr, func() (config.Config, error) { return config.Load(*path) })
}

// demoSecret is the component secret of "drawbridge demo" when none is set:
// the demo only ever listens on loopback.
const demoSecret = "drawbridge-demo"

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	env := os.Environ()
	if os.Getenv("DRAWBRIDGE_COMPONENT_SECRET") == "" && os.Getenv("DRAWBRIDGE_COMPONENT_SECRET_FILE") == "" {
		// A secret printed in the source is no secret whatever its
		// length: the demo's is accepted as the test setup it is.
		env = append(env, "DRAWBRIDGE_COMPONENT_SECRET="+demoSecret, "DRAWBRIDGE_COMPONENT_ALLOW_WEAK_SECRET=true")
	}
	cfg, err := config.Parse(nil, env)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Drawbridge demo: component %s → XMPP server %s, %s store, platforms: %v
Message %s "help" from an XMPP account on the server to start.
`, cfg.Component.JID, cfg.Component.Server, cfg.Store.Backend, enabledPlatforms(cfg), cfg.Component.JID)
	return serve(ctx, cfg, stderr, func() (config.Config, error) { return config.Parse(nil, env) })
}

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("config: want 'example' or 'check FILE'")
	}
	switch args[0] {
	case "example":
		fmt.Fprint(stdout, config.Example())
		return nil
	case "check":
		if len(args) != 2 {
			return errors.New("config check: want exactly one FILE")
		}
		if _, err := loadChecked(args[1]); err != nil { // exactly what run checks
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", args[1])
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("config: unknown subcommand %q", args[0])
}
