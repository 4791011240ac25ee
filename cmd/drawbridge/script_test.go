package main

import (
	"context"
	"encoding/xml"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the stanza scripts")

// recorder is a Sender that keeps what the component writes.
type recorder struct {
	mu  sync.Mutex
	out [][]byte
}

func (r *recorder) Send(_ context.Context, p stanza.Packet) error {
	b, err := xml.Marshal(p)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.out = append(r.out, b)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.out
	r.out = nil
	return out
}

var (
	randomID = regexp.MustCompile(`db-[A-Z2-7]{16}`)
	clock    = regexp.MustCompile(`\d\d:\d\d:\d\d UTC`)
	code     = regexp.MustCompile(`Code: [A-Z0-9]{4}-[A-Z0-9]{4}`)
)

func normalize(b []byte) string {
	s := randomID.ReplaceAllString(string(b), "ID")
	s = clock.ReplaceAllString(s, "HH:MM:SS UTC")
	return code.ReplaceAllString(s, "Code: XXXX-XXXX")
}

// TestStanzaScripts feeds the stanzas of testdata/scripts/*.xml (one per
// line; # starts a comment) to the component, one at a time, and compares
// what the component answers synchronously with the .golden file beside it.
// Run with -update to rewrite the golden files after a deliberate change.
func TestStanzaScripts(t *testing.T) {
	xmpptest.EachScript(t, "../../testdata/scripts/*.xml", func(t *testing.T, path string) {
		cfg := config.Default()
		cfg.Component.JID = "gw.example.test"
		cfg.Component.Secret = "s"
		cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "db")
		a, err := newApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		a.component.SetSender(rec)
		if err := a.gw.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.gw.Stop(context.Background()); a.store.Close() })

		runScript(t, path, func(p stanza.Packet) [][]byte {
			a.component.Handle(t.Context(), p)
			return rec.take()
		})
	})
}
