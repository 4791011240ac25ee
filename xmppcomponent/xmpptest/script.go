package xmpptest

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

// componentStreamHeader puts a lone stanza in the component namespace, as
// the component stream does.
const componentStreamHeader = `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams">`

// ParseStanza decodes one stanza of a stanza script as the component's
// stream would: registered payloads decoded, IQs by pointer.
func ParseStanza(raw string) (stanza.Packet, error) {
	d := xml.NewDecoder(strings.NewReader(componentStreamHeader + raw))
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	return stanza.NextPacket(d)
}

// CheckGolden compares a transcript with the golden file at path, or
// rewrites the file when update is set (the tests' -update flag).
func CheckGolden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (run with -update after checking the change):\n%s", path, DiffLines(string(want), got))
	}
}

// DiffLines shows the lines where want and got differ, the first ten.
func DiffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// EachScript runs run as a subtest, named after the file, for every stanza
// script matching pattern (e.g. "testdata/scripts/*.xml"); no match fails.
func EachScript(t *testing.T, pattern string, run func(t *testing.T, path string)) {
	t.Helper()
	scripts, err := filepath.Glob(pattern)
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no stanza scripts match %s: %v", pattern, err)
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".xml"), func(t *testing.T) { run(t, path) })
	}
}
