package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestFileHostSenderCannotFillIt reproduces the attack of issue 21 item 8
// through Prosody: one platform sender sends ten 1 MB files to alice on a
// file host with an 8 MiB quota. Only the sender's share is stored, alice
// is told for the others that the sender's share is used up, and bob's
// next file from somebody else is still stored and served.
func TestFileHostSenderCannotFillIt(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, func(c *config.Config) {
		c.Files.Quota, c.Files.OwnerQuota, c.Files.SenderQuota, c.Files.MaxFileSize = 8<<20, 4<<20, 2<<20, 1<<20
	})
	alice, bob := e.user("alice"), e.user("bob")
	linkPhone(t, alice, alicePhone)
	const bobPhone = "+15557654322"
	linkPhone(t, bob, bobPhone)
	platform := e.app.sandbox.Platform()

	const size = 1_000_000
	mallory, carol := sandbox.Alice, sandbox.Bob // platform users
	malloryJID := `from="` + string(mallory) + "@" + e2eComponent
	for i := range 10 {
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		if _, err := platform.SendFileAs(t.Context(), mallory, alicePhone, fmt.Sprintf("flood%d.txt", i), "text/plain", data); err != nil {
			t.Fatal(err)
		}
	}
	stored, refused := 0, 0
	for range 10 {
		s := alice.waitRaw("one of mallory's files or its notice", malloryJID, "<body>")
		switch {
		case strings.Contains(s.Raw, `<x xmlns="jabber:x:oob">`):
			stored++
		case strings.Contains(s.Raw, "could not be passed on") && strings.Contains(s.Raw, "s share of the gateway") && strings.Contains(s.Raw, "(2 MiB, files.sender_quota) is used up") && strings.Contains(s.Raw, "kept for 7 days"):
			refused++
		default:
			t.Errorf("alice got %s", s.Raw)
		}
	}
	if stored != 2 || refused != 8 {
		t.Errorf("mallory's files: %d stored, %d refused with the sender-share notice; want 2 and 8", stored, refused)
	}

	// Bob's next file, from somebody else, still fits.
	want := bytes.Repeat([]byte("b"), size)
	if _, err := platform.SendFileAs(t.Context(), carol, bobPhone, "report.txt", "text/plain", want); err != nil {
		t.Fatal(err)
	}
	s := bob.waitRaw("carol's file", `from="`+string(carol)+"@"+e2eComponent, "<body>")
	match := oobURL.FindStringSubmatch(s.Raw)
	if match == nil {
		t.Fatalf("bob's file was not stored: %s", s.Raw)
	}
	res, err := http.Get(match[1])
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(res.Body); err != nil || res.StatusCode != http.StatusOK || !bytes.Equal(got.Bytes(), want) {
		t.Errorf("bob's file: %s, %d bytes, %v", res.Status, got.Len(), err)
	}
}
