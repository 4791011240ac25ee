// Command drawbridge is the Drawbridge gateway: an XEP-0114 component that
// bridges XMPP users to closed messaging platforms.
//
//	drawbridge run --config FILE   run the gateway
//	drawbridge demo                run on embedded defaults (sqlite, sandbox)
//	drawbridge config example      print a commented example configuration
//	drawbridge config check FILE   validate a configuration file
//	drawbridge accounts ...        list, show, link, unlink accounts through the API
//	drawbridge health [--url URL]  check a running gateway's health endpoint
//	drawbridge status              show the gateway's status through the API
//	drawbridge cluster status      instances and the front lease in Redis
//	drawbridge backup              copy the store, device store, files and key
//	drawbridge restore             put a backup in place for a stopped gateway
//	drawbridge report              the interoperability evidence report (HTML, PDF)
//	drawbridge version             print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/drawbridge-im/drawbridge/gateway/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "drawbridge:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is the process status for run's result: 0 for success and for
// a request for help (-h, --help), 3 when the process lost the front lease
// of a cluster, 2 for any other error.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, cluster.ErrLeaseLost) {
		return exitLeaseLost // cluster.go: a supervisor restarts it as a standby
	}
	return 2
}

const usage = `usage: drawbridge <command> [flags]

commands:
  run --config FILE     run the gateway with this configuration
  demo                  run on the embedded defaults: sqlite store, sandbox platform,
                        component gw.localhost on 127.0.0.1:5347 (see DRAWBRIDGE_* variables)
  config example        print a fully commented example configuration
  config check FILE     validate a configuration file
  accounts SUBCOMMAND   list, show, link or unlink users' accounts through the
                        management API (drawbridge accounts help)
  whatsapp doctor OWNER what a user's WhatsApp session knows of itself: connected,
                        push name, LID mapping, phone last seen, pending retries
                        (flags as for accounts)
  health [--url URL]    check a running gateway's /healthz (or /readyz)
  status [--api ADDR]   the gateway's status through the management API: the XMPP
                        link and what needs an operator, store, users (--json;
                        flags as for accounts)
  cluster status --config FILE [--json]
                        the instances sharing the configured Redis: id, host, pid,
                        role, version, heartbeat TTL; the front lease's holder,
                        token and TTL left
  backup --config FILE --out DIR
                        a consistent copy of what the gateway keeps on this machine:
                        the sqlite store, the WhatsApp device store, the file host's
                        files, the encryption key, the configuration (safe while it
                        runs); says how to back up Redis
  restore --config FILE --from DIR
                        put a backup where FILE keeps its data (gateway stopped;
                        nothing is overwritten)
  report [--out DIR] [--tries N]
                        run the DMA Article 7 feature suite on a self-contained
                        deployment (Prosody + the gateway on the sandbox) and write
                        DIR/report.html and DIR/report.pdf (headless Chromium)
  adapter sandbox|telegram [--listen ADDR [--tls-cert F --tls-key F [--client-ca F]]]
                        run the adapter out of process: served on ADDR
                        (token in DRAWBRIDGE_ADAPTER_TOKEN; off loopback TLS,
                        and --client-ca or a token), or as a gateway's
                        child (platforms.<id>: adapter: remote, command: [...])
  version               print the version
`

// run dispatches a command line; it is main without the process exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "config":
		return cmdConfig(args[1:], stdout, stderr)
	case "accounts":
		return cmdAccounts(ctx, args[1:], os.Stdin, stdout, stderr)
	case "adapter":
		return cmdAdapter(ctx, args[1:], stderr) // adapter.go
	case "health":
		return cmdHealth(ctx, args[1:], stdout, stderr)
	case "whatsapp":
		return cmdWhatsApp(ctx, args[1:], stdout, stderr) // doctor.go
	case "status":
		// The API's GetStatus, with the accounts command's flags.
		return cmdAccounts(ctx, append([]string{"status"}, args[1:]...), os.Stdin, stdout, stderr)
	case "cluster":
		return cmdCluster(ctx, args[1:], stdout, stderr) // cluster_status.go
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(ctx, args[1:], stdout, stderr)
	case "report":
		return cmdReport(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "drawbridge", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
