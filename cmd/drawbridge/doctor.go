package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

const whatsappUsage = `usage: drawbridge whatsapp doctor OWNER [flags]

Shows what the WhatsApp session of OWNER (a bare JID) knows of itself,
through the management API: its device, whether it is connected, the
account state, the push name, the LID mapping, when the phone was last
seen and the expired files the phone was asked to send again. The flags
are those of drawbridge accounts (--api, --token-file, --json, ...).
`

// cmdWhatsApp runs "drawbridge whatsapp SUBCOMMAND".
func cmdWhatsApp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, whatsappUsage)
		if len(args) == 0 {
			return errors.New("whatsapp: want a subcommand")
		}
		return nil
	}
	if args[0] != "doctor" {
		fmt.Fprint(stderr, whatsappUsage)
		return fmt.Errorf("whatsapp: unknown subcommand %q", args[0])
	}
	return cmdAccounts(ctx, append([]string{"doctor", "--platform", "whatsapp"}, args[1:]...), os.Stdin, stdout, stderr)
}

// doctor prints a session's diagnosis.
func (c *apiClient) doctor(ctx context.Context, owner string) error {
	cctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	d, err := c.c.DiagnoseAccount(cctx, &adminv1.DiagnoseAccountRequest{Owner: owner, Platform: c.platform})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(d, true)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "owner:\t%s\n", d.GetOwner())
	fmt.Fprintf(tw, "platform:\t%s\n", d.GetPlatform())
	for _, f := range d.GetFacts() {
		fmt.Fprintf(tw, "%s:\t%s\n", f.GetName(), f.GetValue())
	}
	return tw.Flush()
}
