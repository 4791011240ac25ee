package main

import (
	"context"
	"encoding/xml"
	"flag"
	"regexp"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

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
		h := newStanzaHarness(t, nil)
		runScript(t, path, h.handle)
	})
}
