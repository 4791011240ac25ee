package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The poezio user's phone.
const poezioPhone = "+15557650456"

// TestPoezio drives poezio (0.14, Debian's), a terminal client, through
// tmux: a user whose account is linked (by chat command, from another
// client) chats with the Echo Bot, joins the sandbox's Lounge (its
// subject, its history, the Echo Bot's answer in the room) and its
// read-only channel News (its subject, and the refusal, with its text,
// of a visitor's message). Every check reads poezio's screen.
func TestPoezio(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody, poezio and tmux")
	}
	needBinaries(t, "poezio", "tmux")
	e := startE2EWith(t, config.BackendSQLite, xmpptest.ProsodyOptions{})
	platform := e.app.sandbox.Platform()
	u := e.user("erin")
	linkPhone(t, u, poezioPhone)
	for _, g := range []ids.ChatID{sandbox.Lounge, sandbox.News} {
		if err := platform.AddMember(sandbox.Alice, g, poezioPhone); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := platform.SendGroupAs(t.Context(), sandbox.Alice, sandbox.News, "Issue 1 is out"); err != nil {
		t.Fatal(err)
	}
	term := startPoezio(t, e, "erin")
	step := func(name string, f func(t *testing.T, term *terminal)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { f(t, term.in(t)) }) {
			t.FailNow()
		}
	}
	lounge := "#" + string(sandbox.Lounge) + "@" + e2eComponent
	news := "#" + string(sandbox.News) + "@" + e2eComponent

	step("connect", func(t *testing.T, term *terminal) {
		term.waitText("the login", "Authentication success", "Your JID is erin@"+e2eDomain)
		// The start ends with the contacts' subscription requests (one per
		// seeded user) and the bookmarks: typing before they are in loses
		// the keys (the roster tab redraws its input).
		term.waitScreen("the contacts' subscription requests and the bookmarks", func(s string) bool {
			for _, c := range []ids.UserID{sandbox.EchoBot, sandbox.QuietBot, sandbox.Alice, sandbox.Bob} {
				if !strings.Contains(s, contactJID(c)+" wants to subscribe") {
					return false
				}
			}
			return strings.Contains(s, "No remote bookmark storage available")
		})
	})
	step("chat with the Echo Bot", func(t *testing.T, term *terminal) {
		term.typeSlowly("/message " + contactJID(sandbox.EchoBot) + " hello from poezio")
		term.waitText("the echo", "echo: hello from poezio")
	})
	step("join the Lounge", func(t *testing.T, term *terminal) {
		term.typeSlowly("/join " + lounge + "/Erin")
		term.waitText("the join and the subject", "You (Erin) joined the room", "The subject is: Welcome to the Sandbox Lounge")
	})
	step("room chat", func(t *testing.T, term *terminal) {
		term.typeSlowly("!echo ping from poezio")
		term.waitText("the reflection and the Echo Bot's answer", "Erin> !echo ping from poezio", "Echo Bot> ping from poezio")
	})
	step("join the read-only channel", func(t *testing.T, term *terminal) {
		term.typeSlowly("/join " + news + "/Erin")
		term.waitText("the channel's subject and history", "The subject is: Announcements: only admins post here",
			"Alice Sandbox> Issue 1 is out")
	})
	step("a visitor's post is refused with a reason", func(t *testing.T, term *terminal) {
		term.typeSlowly("may I post")
		term.waitText("the refusal", "This room is read-only: only the group's admins may write in it")
		if anyBody(platform.GroupMessages(sandbox.News), "may I post") {
			t.Error("the visitor's post reached the channel")
		}
	})
}

// startPoezio runs poezio for the Prosody user name (registered) in a
// terminal, with a profile of its own. poezio refuses to run as root:
// as root it runs as nobody, in a directory nobody owns.
func startPoezio(t *testing.T, e *e2e, name string) *terminal {
	t.Helper()
	host, port, err := net.SplitHostPort(e.prosody.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "drawbridge-poezio-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	cfg := filepath.Join(dir, "config", "poezio", "poezio.cfg")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`[Poezio]
jid = %s@%s
password = pw-%s
custom_host = %s
custom_port = %s
force_encryption = false
resource = poezio
use_bookmarks_method = local
autorejoin = false
enable_user_mood = false
enable_user_activity = false
enable_user_tune = false
enable_user_gaming = false
`, name, e2eDomain, name, host, port)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := []string{"env", "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"LANG=C.UTF-8", "TERM=xterm-256color", "poezio", "-d", filepath.Join(dir, "poezio.log")}
	if os.Geteuid() == 0 {
		nobody, err := osuser.Lookup("nobody")
		if err != nil {
			t.Fatalf("poezio does not run as root, and there is no user nobody: %v", err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
		argv = append([]string{"runuser", "-u", "nobody", "--"}, argv...)
	}
	term := startTerminal(t, 200, 50, nil, argv...)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "poezio.log"))
			t.Logf("poezio's log (tail):\n%s", tailLines(string(log), 60))
		}
	})
	return term
}

// typeSlowly types text one character at a time, each once the input
// line (the screen's last line) shows what was typed so far, then presses
// Enter: poezio drops keys that come faster than it reads them.
func (term *terminal) typeSlowly(text string) {
	term.t.Helper()
	typed := ""
	for _, r := range text {
		if _, err := term.tmux("send-keys", "-t", "test", "-l", "--", string(r)); err != nil {
			term.t.Fatal(err)
		}
		typed += string(r)
		// The line ends with the text typed so far (a space shows with
		// the next character); the roster tab's placeholder, which
		// mentions "/", does not.
		want := strings.TrimRight(typed, " ")
		term.waitScreen(fmt.Sprintf("the input line to show %q", want), func(s string) bool {
			return strings.HasSuffix(strings.TrimRight(inputLine(s), " "), want)
		})
	}
	if _, err := term.tmux("send-keys", "-t", "test", "Enter"); err != nil {
		term.t.Fatal(err)
	}
}

// inputLine is the last non-empty line of a screen: poezio's input.
func inputLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}
