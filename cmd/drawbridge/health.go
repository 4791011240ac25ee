package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// defaultHealthURL is /healthz on the default metrics.listen address.
const defaultHealthURL = "http://127.0.0.1:9480/healthz"

// cmdHealth is `drawbridge health [--url URL] [--timeout D]`: it asks a
// running gateway's health endpoint and fails unless it answers 200. The
// container image has no shell or curl; its HEALTHCHECK runs this.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defaultHealthURL, "the endpoint to check: /healthz (alive) or /readyz (XMPP link and store up)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("health: unexpected arguments %q", fs.Args())
	}
	if *timeout <= 0 {
		return errors.New("health: --timeout must be positive")
	}
	return checkHealth(ctx, *url, *timeout, stdout)
}

// checkHealth GETs url and returns an error unless the answer is 200 OK;
// the first line of the body is printed either way.
func checkHealth(ctx context.Context, url string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s: %s", url, resp.Status, firstLine(body))
	}
	fmt.Fprintf(stdout, "%s: %s\n", resp.Status, firstLine(body))
	return nil
}

// firstLine returns the first line of b, trimmed, at most 200 bytes.
func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b = b[:i]
			break
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
