package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/adapters/telegram"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// adapterTokenEnv holds the token of `drawbridge adapter --listen`, so that
// it does not show in the process list.
const adapterTokenEnv = "DRAWBRIDGE_ADAPTER_TOKEN"

// adapterUsage names the adapters `drawbridge adapter` serves.
const adapterUsage = "usage: drawbridge adapter sandbox|telegram [--listen ADDR]"

// cmdAdapter runs a platform adapter out of the gateway's process:
// `drawbridge adapter sandbox|telegram --listen ADDR` serves it on a TCP
// address (a token from DRAWBRIDGE_ADAPTER_TOKEN, required off loopback);
// started by a gateway as a go-plugin child (platforms.<id>.command) it
// serves the gateway over the plugin's local socket. The adapter's
// section (Telegram's api_id and api_hash) comes from the gateway, in its
// Init call.
func cmdAdapter(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(adapterUsage)
	}
	var ad gateway.Adapter
	switch args[0] {
	case "sandbox":
		ad = sandbox.New(sandbox.NewPlatform(sandbox.Options{
			IDPrefix: "SB" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".",
		}))
	case "telegram":
		ad = telegram.New()
	default:
		return fmt.Errorf("drawbridge adapter: no adapter %q to serve; %s", args[0], adapterUsage)
	}
	name := args[0]
	fs := flag.NewFlagSet("adapter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "serve the adapter on this host:port (token in "+adapterTokenEnv+", required off loopback)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := remote.NewServer(ad, log)
	if os.Getenv(remote.Handshake.MagicCookieKey) == remote.Handshake.MagicCookieValue {
		remote.ServeChild(srv)
		return nil
	}
	if *listen == "" {
		return fmt.Errorf("drawbridge adapter %s: give --listen ADDR, or let a gateway start it (platforms.<id>.command)", name)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	log.Info("adapter serving", "platform", name, "addr", l.Addr().String())
	return remote.Serve(ctx, l, srv, os.Getenv(adapterTokenEnv))
}

// newRemoteAdapter launches (command) or dials (address) the adapter of
// platform section id, and returns cfg with the section the adapter's Init
// gets (without the placement keys).
func newRemoteAdapter(ctx context.Context, cfg config.Config, id string, section map[string]any, log *slog.Logger) (config.Config, gateway.Adapter, error) {
	rc, rest, err := remote.ParseSection("platforms."+id, section)
	if err != nil {
		return cfg, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var a *remote.Adapter
	if len(rc.Command) > 0 {
		a, err = remote.Launch(ctx, func() *exec.Cmd { return exec.Command(rc.Command[0], rc.Command[1:]...) }, log)
	} else {
		a, err = remote.Dial(ctx, rc.Address, rc.Token, log)
	}
	if err != nil {
		return cfg, nil, fmt.Errorf("platforms.%s: %w", id, err)
	}
	if got := string(a.Info().ID); got != id {
		_ = a.Stop(ctx)
		return cfg, nil, &config.KeyError{Key: "platforms." + id, Err: fmt.Errorf("the remote adapter is platform %q: name the section %s", got, got)}
	}
	cfg.Platforms = maps.Clone(cfg.Platforms)
	cfg.Platforms[id] = rest
	return cfg, a, nil
}
