package xmpptest

import (
	"strings"
	"sync"
	"testing"
)

// TestLaunchProsodyAndTrace: a Prosody launched outside the test helpers
// registers users and serves clients until Close; a client's trace sees
// what it writes and reads, and nothing after it is turned off.
func TestLaunchProsodyAndTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a Prosody server")
	}
	p, err := LaunchProsody(t.TempDir(), ProsodyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.RegisterUser("carol", "pw-carol"); err != nil {
		t.Fatal(err)
	}
	c, err := DialClient(testCtx(t), p.C2SAddr, "carol@example.test", "pw-carol")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendPresence(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	c.SetTrace(func(sent bool, raw string) {
		mu.Lock()
		defer mu.Unlock()
		dir := "<-"
		if sent {
			dir = "->"
		}
		lines = append(lines, dir+" "+raw)
	})
	if err := c.SendRaw(`<message to='carol@example.test' type='chat' id='t1'><body>to myself</body></message>`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(testCtx(t), func(s Stanza) bool { return strings.Contains(s.Raw, "to myself") }); err != nil {
		t.Fatal(err)
	}
	c.SetTrace(nil)
	if err := c.SendRaw(`<presence><status>untraced</status></presence>`); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(lines, "\n")
	mu.Unlock()
	for _, want := range []string{"-> <message to='carol@example.test'", `<- <message xmlns="jabber:client"`} {
		if !strings.Contains(got, want) {
			t.Errorf("trace lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "untraced") {
		t.Errorf("traced after SetTrace(nil):\n%s", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Error("Prosody runs after Close")
	}
}
