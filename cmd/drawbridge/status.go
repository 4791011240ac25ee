package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

// status prints the gateway's status (drawbridge status): the XMPP link
// with the problem that needs an operator, if any, the store and the
// counts. It takes the accounts command's connection flags.
func (c *apiClient) status(ctx context.Context) error {
	cctx, cancel := c.call()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	s, err := c.c.GetStatus(cctx, &adminv1.GetStatusRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(s, true)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	x := s.GetXmpp()
	link := "down"
	if x.GetConnected() {
		link = "connected"
	}
	fmt.Fprintf(tw, "component\t%s (version %s, started %s)\n", s.GetComponent(), s.GetVersion(), when(s.GetStarted()))
	fmt.Fprintf(tw, "xmpp link\t%s (%d connects, %d disconnects, %d queued)\n", link, x.GetConnects(), x.GetDisconnects(), x.GetQueued())
	if p := x.GetProblem(); p != "" {
		fmt.Fprintf(tw, "PROBLEM\t%s\n", p)
	}
	st := s.GetStore()
	reach := "reachable"
	if !st.GetReachable() {
		reach = "NOT reachable: " + st.GetError()
	}
	fmt.Fprintf(tw, "store\t%s, %s\n", st.GetBackend(), reach)
	n := s.GetCounts()
	fmt.Fprintf(tw, "users\t%d registered, %d linked, %d sessions, %d logins in progress\n",
		n.GetRegistered(), n.GetLinked(), n.GetSessions(), n.GetLogins())
	return tw.Flush()
}
