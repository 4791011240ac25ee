package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// signalSender serializes what the component writes and signals each echo
// reply, so the benchmark measures the whole path without sleeping.
type signalSender struct {
	replies chan struct{}
}

func (s *signalSender) Send(_ context.Context, p stanza.Packet) error {
	b, err := xml.Marshal(p)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), "<body>echo: ") {
		s.replies <- struct{}{}
	}
	return nil
}

// BenchmarkRoundTrip measures one message through the whole gateway,
// in-process: parse the inbound stanza, route it through the hub (with the
// id mapping written to the sqlite store) to the sandbox echo bot, and
// serialize the bot's reply (plus its receipts and typing notification).
func BenchmarkRoundTrip(b *testing.B) {
	cfg := config.Default()
	cfg.Component.JID = "gw.example.test"
	cfg.Component.Secret = "s"
	cfg.Store.SQLite.Path = filepath.Join(b.TempDir(), "db")
	cfg.Limits.Messages = config.RateConfig{} // measure the path, not the limiter
	ctx := context.Background()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	out := &signalSender{replies: make(chan struct{}, 1)}
	a.component.SetSender(out)
	if err := a.gw.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = a.gw.Stop(ctx); a.store.Close() }()
	const owner = ids.Owner("alice@example.test")
	run, step, err := a.gw.StartLogin(ctx, owner, "sandbox", "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err = run.Submit(ctx, map[string]string{step.Fields[0].ID: "+15557654321"}); err != nil {
		b.Fatal(err)
	}
	if step, err = run.Wait(ctx); err != nil || step.Kind != gateway.StepDone {
		b.Fatalf("link: %+v %v", step, err)
	}
	to := string(sandbox.EchoBot) + "@gw.example.test"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		raw := fmt.Sprintf(`<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams"><message type='chat' id='m%d' from='alice@example.test/phone' to='%s'><body>benchmark message %d</body><request xmlns='urn:xmpp:receipts'/></message>`, i, to, i)
		d := xml.NewDecoder(strings.NewReader(raw))
		if _, err := d.Token(); err != nil {
			b.Fatal(err)
		}
		p, err := stanza.NextPacket(d)
		if err != nil {
			b.Fatal(err)
		}
		a.component.Handle(ctx, p)
		<-out.replies
	}
}
