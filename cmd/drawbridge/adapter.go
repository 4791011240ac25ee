package main

import (
	"context"
	"crypto/tls"
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
const adapterUsage = "usage: drawbridge adapter sandbox|telegram [--listen ADDR [--tls-cert FILE --tls-key FILE [--client-ca FILE]]]"

// cmdAdapter runs a platform adapter out of the gateway's process:
// `drawbridge adapter sandbox|telegram --listen ADDR` serves it on a TCP
// address. Off loopback it needs TLS (--tls-cert, --tls-key) and a way
// to know the gateway: --client-ca (mutual TLS) or a token from
// DRAWBRIDGE_ADAPTER_TOKEN (or both). Started by a gateway as a go-plugin child (platforms.<id>.command) it
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
	listen := fs.String("listen", "", "serve the adapter on this host:port (off loopback: TLS, and --client-ca or a token in "+adapterTokenEnv+")")
	tlsCert := fs.String("tls-cert", "", "the adapter's TLS certificate (PEM file), with --tls-key")
	tlsKey := fs.String("tls-key", "", "the key of --tls-cert (PEM file)")
	clientCA := fs.String("client-ca", "", "require a gateway client certificate issued by these CAs (PEM file): mutual TLS")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("drawbridge adapter %s: unexpected argument %q; %s", args[0], fs.Arg(0), adapterUsage)
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
	token := os.Getenv(adapterTokenEnv)
	tc, err := adapterServerTLS(*tlsCert, *tlsKey, *clientCA)
	if err != nil {
		return fmt.Errorf("drawbridge adapter %s: %w", name, err)
	}
	if err := checkAdapterListen(*listen, token, tc); err != nil {
		return fmt.Errorf("drawbridge adapter %s: %w", name, err)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("adapter: %w", err)
	}
	var opts []remote.ServeOption
	if tc != nil {
		opts = append(opts, remote.WithServerTLS(tc))
	}
	log.Info("adapter serving", "platform", name, "addr", l.Addr().String(), "tls", tc != nil, "mutual_tls", tc != nil && tc.ClientCAs != nil, "token", token != "")
	return remote.Serve(ctx, l, srv, token, opts...)
}

// adapterServerTLS loads the TLS of `drawbridge adapter --listen`: nil
// without --tls-cert. Each problem names its flag.
func adapterServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "" && clientCA == "":
		return nil, nil
	case certFile == "" && keyFile != "":
		return nil, errors.New("--tls-key needs --tls-cert")
	case certFile != "" && keyFile == "":
		return nil, errors.New("--tls-cert needs --tls-key")
	case certFile == "":
		return nil, errors.New("--client-ca needs --tls-cert and --tls-key (the adapter's own certificate)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCA != "" {
		if c.ClientCAs, err = remote.LoadCertPool(clientCA); err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
	}
	return c, nil
}

// checkAdapterListen says, by flag, why the adapter may not serve on
// addr: off loopback it needs TLS, and mutual TLS or a token.
// remote.Serve makes the same check.
func checkAdapterListen(addr, token string, tc *tls.Config) error {
	switch {
	case config.LoopbackAddr(addr):
		return nil
	case tc == nil && token != "":
		return fmt.Errorf("--listen %s is not a loopback address: give --tls-cert and --tls-key, the token in %s would travel in clear: %w", addr, adapterTokenEnv, remote.ErrNeedTLS)
	case tc == nil:
		return fmt.Errorf("--listen %s is not a loopback address: give --tls-cert and --tls-key, and --client-ca (mutual TLS) or a token in %s: %w", addr, adapterTokenEnv, remote.ErrNeedTLS)
	case tc.ClientCAs == nil && token == "":
		return fmt.Errorf("--listen %s is not a loopback address: give --client-ca (mutual TLS) or a token in %s, so that only your gateway drives the adapter: %w", addr, adapterTokenEnv, remote.ErrNeedGatewayAuth)
	}
	return nil
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
		var opts []remote.DialOption
		if rc.TLS != nil {
			opts = append(opts, remote.WithTLS(rc.TLS))
		}
		a, err = remote.Dial(ctx, rc.Address, rc.Token, log, opts...)
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
