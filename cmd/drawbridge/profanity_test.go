package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// The Profanity user's phone and the contact the test chats with.
const (
	profPhone = "+15557650123"
	profUser  = "carol"
	profNick  = "Carol"
)

// TestProfanity drives Profanity (0.13, Debian's), a terminal client,
// through tmux as a new user would: connect, list the gateway's commands,
// link a sandbox account by filling the link command's form, get the
// contacts, see the Echo Bot online, chat and see the echo, correct the
// message, create a group, join its room and chat there. Every check reads
// Profanity's screen. Once against a Prosody without XEP-0356 privileges
// (the contacts ask to be added, and the user accepts with /sub), once
// with mod_privilege (the contacts arrive in the roster with their names).
func TestProfanity(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: needs prosody, profanity and tmux")
	}
	needBinaries(t, "profanity", "tmux")
	t.Run("subscriptions", func(t *testing.T) { profanityFlow(t, false) })
	t.Run("privileged roster", func(t *testing.T) {
		if _, err := os.Stat(modPrivilege); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("mod_privilege is not installed; .ci/run installs prosody-modules: %v", err)
			}
			t.Skipf("mod_privilege is not installed (apt-get install prosody-modules): %v", err)
		}
		profanityFlow(t, true)
	})
}

// profanityFlow is TestProfanity's flow against a Prosody with or without
// the gateway's roster privilege. Each step is a subtest; a step the next
// ones need stops the flow when it fails.
func profanityFlow(t *testing.T, privileged bool) {
	opts := xmpptest.ProsodyOptions{}
	if privileged {
		opts = privilegedProsody
	}
	e := startE2EWith(t, config.BackendSQLite, opts)
	if privileged {
		waitFor(t, "the gateway to record the server's privileges", func() bool {
			return strings.Contains(e.logs.String(), `msg="server grants privileges (XEP-0356)"`)
		})
	}
	platform := e.app.sandbox.Platform()
	term, profLog := startProfanity(t, e, profUser)
	echo := contactJID(sandbox.EchoBot)
	// How Profanity names the Echo Bot: its roster name where the gateway
	// could set one, else its address (Profanity shows no XEP-0172 nick
	// from a subscription request).
	// How Profanity labels the Echo Bot: its roster name when it has one,
	// else its JID; its messages with the resource they come from
	// (contacts write from ContactResource, as clients do).
	echoShown := echo
	if privileged {
		echoShown = "Echo Bot"
	}
	echoWrites := echoShown + "/" + xmppcomponent.ContactResource
	step := func(name string, f func(t *testing.T, term *terminal)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { f(t, term.in(t)) }) {
			t.FailNow()
		}
	}
	check := func(name string, f func(t *testing.T, term *terminal)) {
		t.Run(name, func(t *testing.T) { f(t, term.in(t)) })
	}

	step("connect", func(t *testing.T, term *terminal) {
		term.waitText("the login", profUser+"@"+e2eDomain+"/profanity logged in successfully")
		// /cmd refuses ("Server does not support ad hoc commands") until
		// Profanity has the gateway's features: no sign of that on the
		// screen, but its debug log says so.
		waitFor(t, "Profanity to discover the gateway", func() bool {
			b, _ := os.ReadFile(profLog)
			return strings.Contains(string(b), "Received disco#info response from: "+e2eComponent)
		})
	})
	step("command list", func(t *testing.T, term *terminal) {
		term.send("/cmd list " + e2eComponent)
		s := term.waitText("the gateway's commands", "Ad hoc commands:")
		for _, c := range []string{"link", "status", "unlink"} {
			// "!   link", maybe followed by the roster panel's column.
			if !regexp.MustCompile(`(?m)!\s+` + c + `(\s|$)`).MatchString(s) {
				t.Errorf("the command list lacks %q", c)
			}
		}
	})
	step("link", func(t *testing.T, term *terminal) {
		term.send("/cmd exec link " + e2eComponent)
		term.waitText("the link form", "Form title: Link your Sandbox account", "[field1] Phone number (required)")
		term.send("/field1 " + profPhone)
		term.waitText("the phone number in the form", "[field1] Phone number (required): "+profPhone)
		term.send("/form submit")
		term.waitScreen("the pairing code", func(s string) bool { return pairingCode.MatchString(s) })
	})
	check("link ends with a note (item 7)", func(t *testing.T, term *terminal) {
		// The command completes with the code in a plain note; "linked"
		// comes by chat once the phone confirms (the next step).
		s := term.waitText("the command's closing note", "link completed", "Code: ")
		if strings.Contains(s, "/form ") {
			t.Errorf("the completed command still offers a form to edit:\n%s", s)
		}
		if n := len(pairingCode.FindAllString(s, -1)); n > 1 {
			t.Errorf("the pairing code is shown %d times:\n%s", n, s)
		}
	})
	step("linked", func(t *testing.T, term *terminal) {
		term.send("/win " + e2eComponent)
		term.waitScreen("the gateway's message that the account is linked", func(s string) bool {
			return strings.Contains(s, profPhone) && strings.Contains(strings.ToLower(s), "is now linked")
		})
	})
	if privileged {
		step("contacts in the roster", func(t *testing.T, term *terminal) {
			term.send("/win 1")
			term.send("/roster")
			for _, c := range sandboxContacts {
				term.waitText("the roster entry of "+c.name, contactJID(c.id)+" ("+c.name+") - both")
			}
		})
	} else {
		step("accept the contacts", func(t *testing.T, term *terminal) {
			term.send("/win 1")
			for _, c := range sandboxContacts {
				j := contactJID(c.id)
				term.waitText("the subscription request of "+c.name, "Received authorization request from "+j)
				term.send("/sub allow " + j)
				term.send("/sub request " + j)
				term.waitText("the subscription to "+c.name, "Subscription received from "+j)
			}
		})
	}
	step("Echo Bot online", func(t *testing.T, term *terminal) {
		term.send("/win 1")
		term.waitScreen(echoShown+" under Online in the roster panel", func(s string) bool {
			return slices.Contains(rosterPanel(s)["Online"], echoShown)
		})
	})
	step("chat", func(t *testing.T, term *terminal) {
		term.send("/msg " + echo + " how are you")
		term.waitText("the message and its echo", "me: how are you", echoWrites+": echo: how are you")
	})
	step("correction", func(t *testing.T, term *terminal) {
		term.send("/correct how are you today")
		term.waitText("the corrected message and echo", "me: how are you today", echoWrites+": echo: how are you today")
		if got := platform.Messages(ids.AccountID(profPhone)); !anyBody(got, "how are you today") {
			t.Errorf("the platform has no corrected message: %+v", got)
		}
	})
	check("receipts reach the platform (item 9)", func(t *testing.T, term *terminal) {
		waitFor(t, "Profanity's receipt for the Echo Bot's answer", func() bool {
			for _, r := range platform.Receipts(ids.AccountID(profPhone)) {
				if r.To == sandbox.EchoBot && r.Kind == event.Delivered {
					return true
				}
			}
			return false
		})
	})
	var room string
	step("create a group", func(t *testing.T, term *terminal) {
		term.send("/win 1")
		term.send("/cmd exec create-group " + e2eComponent)
		term.waitText("the group form", "Form title: Create a Sandbox group", "[field1] Name (required)", "[field3] Members")
		term.send(`/field1 "Profanity Club"`)
		term.send("/field3 add " + string(sandbox.EchoBot))
		term.waitText("the filled form", "[field1] Name (required): Profanity Club", string(sandbox.EchoBot))
		term.send("/form submit")
		term.send("/win 1")
		s := term.waitText("the invitation", "Chat room invite received:")
		m := joinHint.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no /join hint in the invitation:\n%s", s)
		}
		room = m[1]
	})
	step("join the room", func(t *testing.T, term *terminal) {
		term.send("/join " + room + " nick " + profNick)
		term.waitText("the join", "-> You have joined the room as ")
	})
	check("the chosen nickname (item 8)", func(t *testing.T, term *terminal) {
		term.waitText("the nickname", "-> You have joined the room as "+profNick)
	})
	check("a new room has a subject (item 8)", func(t *testing.T, term *terminal) {
		term.waitText("the subject", "Room subject: ")
	})
	step("room chat", func(t *testing.T, term *terminal) {
		term.send("hello room")
		term.waitText("the reflection", ": hello room")
		term.send("!echo ping from profanity")
		term.waitText("the Echo Bot's answer in the room", "Echo Bot: ping from profanity")
	})
}

// pairingCode is the sandbox's pairing code as the link flow shows it;
// joinHint is Profanity's hint under a room invitation.
var (
	pairingCode = regexp.MustCompile(`\b[0-9A-Z]{4}-[0-9A-Z]{4}\b`)
	joinHint    = regexp.MustCompile(`Use '/join (\S+)' to accept the invitation`)
	statusBar   = regexp.MustCompile(`^ \[\d\d:\d\d\] `)
)

// rosterPanel reads the roster panel at the right of Profanity's console:
// the entries under each presence heading ("Online", "Offline",
// "Unsubscribed", ...), as shown (a name, else the address).
func rosterPanel(screen string) map[string][]string {
	lines := strings.Split(screen, "\n")
	col := -1
	for _, l := range lines {
		if i := strings.Index(l, "Available for chat ("); i >= 0 {
			col = utf8.RuneCountInString(l[:i])
			break
		}
	}
	panel := map[string][]string{}
	if col < 0 {
		return panel
	}
	heading := ""
	for _, l := range lines {
		if statusBar.MatchString(l) {
			break // the panel ends above the status bar
		}
		r := []rune(l)
		if len(r) <= col {
			continue
		}
		cell := strings.TrimRight(string(r[col:]), " ")
		switch {
		case cell == "":
		case !strings.HasPrefix(cell, " "):
			heading, _, _ = strings.Cut(cell, " (")
		case heading != "":
			panel[heading] = append(panel[heading], strings.TrimSpace(cell))
		}
	}
	return panel
}

func anyBody(msgs []sandbox.Message, body string) bool {
	for _, m := range msgs {
		if m.Body == body {
			return true
		}
	}
	return false
}

// startProfanity starts Profanity for user (registered here on e's
// Prosody) in a 200×60 tmux window, with its own home, configuration and
// data directories, and returns it with the path of its debug log. The
// account connects without TLS (the test's Prosody is plaintext on
// loopback).
func startProfanity(t *testing.T, e *e2e, user string) (*terminal, string) {
	t.Helper()
	e.prosody.Register(t, user, "pw-"+user)
	host, port, err := net.SplitHostPort(e.prosody.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	home, cfg, data := filepath.Join(dir, "home"), filepath.Join(dir, "config"), filepath.Join(dir, "data")
	jid := user + "@" + e2eDomain
	files := map[string]string{
		filepath.Join(cfg, "profanity", "profrc"): `[ui]
splash=false
statuses.console=all
statuses.chat=all
[notifications]
message=false
room=false
typing=false
invite=false
sub=false
`,
		filepath.Join(data, "profanity", "accounts"): fmt.Sprintf(`[%[1]s]
enabled=true
jid=%[1]s
server=%[2]s
port=%[3]s
resource=profanity
password=pw-%[4]s
tls.policy=disable
`, jid, host, port, user),
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + cfg, "XDG_DATA_HOME=" + data, "LANG=C.UTF-8", "TERM=xterm-256color"}
	term := startTerminal(t, 200, 60, env, "profanity", "-a", jid, "-l", "DEBUG")
	logPath := filepath.Join(data, "profanity", "logs", "profanity.log")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("Profanity's log (tail):\n%s", tailLines(string(log), 60))
		}
	})
	return term, logPath
}

// TestRosterPanel checks the roster panel reader on a screen as
// Profanity draws it (cut to 100 columns, with a multi-byte character
// in the main window).
func TestRosterPanel(t *testing.T) {
	screen := strings.Join([]string{
		" Profanity. Type /help for help information.                         [TLS] [online]",
		"00:48:51 - Welcome to Profanity → 0.13.1                Available for chat (0)",
		"00:48:51 - Copyright (C) 2012 - 2019                    Online (0)",
		"00:48:51 -                                                Echo Bot",
		"00:48:51 -                                                +15550001111@gw.example.test",
		"00:48:51 - This is free software                        Away (0)",
		"                                                        Offline (1)",
		"                                                          Quiet Bot",
		"                                                        Unsubscribed (2)",
		"                                                          gw.example.test (2)",
		" [00:49] carol@example.test/profanity                                  -1-",
	}, "\n")
	got := rosterPanel(screen)
	want := map[string][]string{
		"Online":       {"Echo Bot", "+15550001111@gw.example.test"},
		"Offline":      {"Quiet Bot"},
		"Unsubscribed": {"gw.example.test (2)"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rosterPanel = %q, want %q", got, want)
	}
}
