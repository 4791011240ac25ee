package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// TestWhatsAppDoctor links a WhatsApp account (fake client) through the
// management API and runs "drawbridge whatsapp doctor" on it: the
// session's own account of its state comes back through the API.
func TestWhatsAppDoctor(t *testing.T) {
	f := &wt.Factory{}
	whatsappOptions = []whatsapp.Option{whatsapp.WithClientFactory(f.New)}
	t.Cleanup(func() { whatsappOptions = nil })
	a := startAPIApp(t, func(cfg *config.Config) {
		cfg.Platforms = map[string]map[string]any{"whatsapp": {"enabled": true}}
	})
	const owner = "romeo@example.test"
	doctor := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		err := run(ctx, append([]string{"whatsapp", "doctor", owner, "--api", a.mgmt.api.Addr().String()}, args...), &out, &errOut)
		return out.String(), err
	}
	if _, err := doctor(); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("doctor of an unregistered owner: %v", err)
	}

	linked := make(chan error, 1)
	go func() {
		_, _, err := cli(t, a, "", "link", owner, "--flow", "qr")
		linked <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := f.Client(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitCall(ctx, "GetQRChannel", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.PairSuccess(ctx, "+15550000100", "900000000100"); err != nil {
		t.Fatal(err)
	}
	if err := <-linked; err != nil {
		t.Fatalf("link: %v", err)
	}
	var out string
	testutil.WaitFor(t, "the session connected", func() bool {
		out, err = doctor()
		return err == nil && strings.Contains(out, "(session connected)")
	})
	for _, want := range []string{
		"owner:                  romeo@example.test",
		"platform:               whatsapp",
		"account:                +15550000100",
		"device:                 15550000100:7@s.whatsapp.net",
		"connected:              true (session connected)",
		"push name:              Owner",
		"LID mapping:            900000000100@lid → 15550000100@s.whatsapp.net",
		"phone last seen:        20",
		"pending media retries:  0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	out, err = doctor("--json")
	if err != nil || !strings.Contains(out, `"name": "push name"`) {
		t.Errorf("doctor --json: %v\n%s", err, out)
	}
}
