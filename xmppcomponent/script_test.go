package xmppcomponent

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/store"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the stanza scripts in testdata/scripts")

// scriptRecorder is the component's link in a script: it keeps what the
// component writes, confirms confirmed sends at once, and answers the
// component's own IQs with iqReply.
type scriptRecorder struct {
	mu      sync.Mutex
	out     []string
	iqReply string // "result" or an error condition; "" means service-unavailable
}

func (r *scriptRecorder) Send(_ context.Context, p stanza.Packet) error {
	b, err := xml.Marshal(p)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.out = append(r.out, string(b))
	r.mu.Unlock()
	return nil
}

func (r *scriptRecorder) SendConfirmed(ctx context.Context, p stanza.Packet, done func()) error {
	if err := r.Send(ctx, p); err != nil {
		return err
	}
	done()
	return nil
}

func (r *scriptRecorder) SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	if err := r.Send(ctx, iq); err != nil {
		return nil, err
	}
	r.mu.Lock()
	reply := r.iqReply
	r.mu.Unlock()
	res := &stanza.IQ{XMLName: xml.Name{Local: "iq"}, Attrs: stanza.Attrs{Id: iq.Id, From: iq.To, To: iq.From, Type: stanza.IQTypeResult}}
	if reply == "result" {
		return res, nil
	}
	if reply == "" {
		reply = "service-unavailable"
	}
	return nil, &stream.IQError{Type: "cancel", Condition: reply}
}

func (r *scriptRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.out
	r.out = nil
	return out
}

// scriptErrors are the hub errors a script can make a method fail with.
var scriptErrors = map[string]error{
	"not-supported":    gateway.ErrNotSupported,
	"not-linked":       gateway.ErrNotLinked,
	"unknown-chat":     gateway.ErrUnknownChat,
	"target-not-found": gateway.ErrTargetNotFound,
	"forbidden":        gateway.ErrForbidden,
	"rate-limited":     gateway.ErrRateLimited,
	"too-fast":         gateway.ErrTooFast,
	"bad-request":      gateway.ErrBadRequest,
	"not-acceptable":   gateway.ErrNotAcceptable,
	"unavailable":      gateway.ErrUnavailable,
	"not-durable":      gateway.ErrNotDurable,
	"internal":         errors.New("disk on fire"),
	"none":             nil,
}

// scriptEvents make the events a script delivers, by kind.
var scriptEvents = map[string]func() event.Event{
	"message":    func() event.Event { return &event.Message{} },
	"edit":       func() event.Event { return &event.Edit{} },
	"retract":    func() event.Event { return &event.Retract{} },
	"reaction":   func() event.Event { return &event.Reaction{} },
	"receipt":    func() event.Event { return &event.Receipt{} },
	"chatstate":  func() event.Event { return &event.ChatState{} },
	"presence":   func() event.Event { return &event.Presence{} },
	"contact":    func() event.Event { return &event.ContactInfo{} },
	"chatinfo":   func() event.Event { return &event.ChatInfo{} },
	"membership": func() event.Event { return &event.MembershipChange{} },
	"state":      func() event.Event { return &event.AccountState{} },
}

// script runs one stanza script against a Component on a fakeHub.
type script struct {
	t   *testing.T
	c   *Component
	hub *fakeHub
	rec *scriptRecorder
	out strings.Builder
}

func newScript(t *testing.T) *script {
	hub := newFakeHub()
	c, rec := coreComponent(t, hub)
	return &script{t: t, c: c, hub: hub, rec: rec}
}

var (
	scriptRandomID = regexp.MustCompile(`db-[A-Z2-7]{16}`)
	scriptClock    = regexp.MustCompile(`\d\d:\d\d:\d\d UTC`)
	scriptStamp    = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
)

func normalizeScript(s string) string {
	s = scriptRandomID.ReplaceAllString(s, "ID")
	s = scriptClock.ReplaceAllString(s, "HH:MM:SS UTC")
	return scriptStamp.ReplaceAllString(s, "STAMP")
}

// step runs one line of a script and writes the transcript.
func (s *script) step(ctx context.Context, line string) {
	t := s.t
	switch {
	case strings.HasPrefix(line, "<"):
		fmt.Fprintf(&s.out, ">> %s\n", line)
		p, err := xmpptest.ParseStanza(line)
		if err != nil {
			t.Fatalf("script stanza %s: %v", line, err)
		}
		s.c.HandleNow(ctx, p)
	case strings.HasPrefix(line, "!"):
		fmt.Fprintf(&s.out, "%s\n", line)
		if err := s.directive(ctx, line[1:]); err != nil {
			t.Fatalf("directive %s: %v", line, err)
		}
	default:
		t.Fatalf("script line is neither a stanza, a directive nor a comment: %s", line)
	}
	for _, call := range s.hub.takeCalls() {
		fmt.Fprintf(&s.out, "hub: %s\n", call)
	}
	for _, o := range s.rec.take() {
		fmt.Fprintf(&s.out, "<< %s\n", o)
	}
}

// directive sets up the fake hub or makes the hub call the component.
func (s *script) directive(ctx context.Context, d string) error {
	verb, rest, _ := strings.Cut(d, " ")
	args := strings.Fields(rest)
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%s needs %d arguments", verb, n)
		}
		return nil
	}
	h := s.hub
	switch verb {
	case "register": // !register OWNER
		if err := need(1); err != nil {
			return err
		}
		h.mu.Lock()
		h.accounts[ids.Owner(args[0])] = store.Account{Owner: ids.Owner(args[0]), Platform: fakePlatform}
		h.mu.Unlock()
	case "link": // !link OWNER
		if err := need(1); err != nil {
			return err
		}
		h.mu.Lock()
		h.accounts[ids.Owner(args[0])] = store.Account{Owner: ids.Owner(args[0]), Platform: fakePlatform,
			ID: ids.AccountID("acct-" + args[0]), State: event.StateConnected}
		h.mu.Unlock()
	case "contact": // !contact OWNER USER [subscribed] NAME...
		if err := need(2); err != nil {
			return err
		}
		c := store.Contact{User: ids.UserID(args[1])}
		name := args[2:]
		if len(name) > 0 && name[0] == "subscribed" {
			c.Subscribed, name = true, name[1:]
		}
		c.Name = strings.Join(name, " ")
		h.addContact(ids.Owner(args[0]), c)
	case "groups": // !groups OWNER: the owner's platform has groups, none yet
		if err := need(1); err != nil {
			return err
		}
		h.addGroup(ids.Owner(args[0]), gateway.GroupInfo{})
	case "group": // !group OWNER {GroupInfo as JSON}
		if err := need(2); err != nil {
			return err
		}
		var g gateway.GroupInfo
		if err := json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(rest, args[0]))), &g); err != nil {
			return err
		}
		h.addGroup(ids.Owner(args[0]), g)
	case "caps": // !caps {Capabilities as JSON}
		var caps gateway.Capabilities
		if err := json.Unmarshal([]byte(rest), &caps); err != nil {
			return err
		}
		h.mu.Lock()
		h.caps = caps
		h.mu.Unlock()
	case "fail": // !fail METHOD ERROR
		if err := need(2); err != nil {
			return err
		}
		e, ok := scriptErrors[args[1]]
		if !ok {
			return fmt.Errorf("unknown error %q", args[1])
		}
		h.mu.Lock()
		h.fail[args[0]] = e
		h.mu.Unlock()
	case "iq": // !iq result|CONDITION: how the server answers the component's IQs
		if err := need(1); err != nil {
			return err
		}
		s.rec.mu.Lock()
		s.rec.iqReply = args[0]
		s.rec.mu.Unlock()
	case "deliver": // !deliver OWNER KIND {event as JSON}
		if err := need(3); err != nil {
			return err
		}
		mk, ok := scriptEvents[args[1]]
		if !ok {
			return fmt.Errorf("unknown event kind %q", args[1])
		}
		ev := mk()
		body := strings.TrimSpace(rest[strings.Index(rest, args[1])+len(args[1]):])
		if err := json.Unmarshal([]byte(body), ev); err != nil {
			return err
		}
		if err := testDeliver(ctx, s.c, ids.Owner(args[0]), fakePlatform, ev); err != nil {
			fmt.Fprintf(&s.out, "-- deliver: %v\n", err)
		}
	default:
		f, ok := scriptDirectives[verb]
		if !ok {
			return fmt.Errorf("unknown directive %q", verb)
		}
		return f(ctx, s, args, rest)
	}
	return nil
}

// scriptDirectives are directives that test files of one area add (in an
// init function), beside the common ones above. args are rest's fields.
var scriptDirectives = map[string]func(ctx context.Context, s *script, args []string, rest string) error{}

// TestTranslationScripts feeds testdata/scripts/*.xml to a Component on a
// fake hub, a line at a time: stanzas (one per line) go to Handle,
// directives (lines starting with !) set up the hub or deliver platform
// events, # starts a comment. The transcript — the stanzas the component
// writes (<<) and the use cases it calls on the hub (hub:) — must match
// the .golden file beside each script; -update rewrites them.
func TestTranslationScripts(t *testing.T) {
	xmpptest.EachScript(t, "testdata/scripts/*.xml", func(t *testing.T, path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s := newScript(t)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case line == "":
			case strings.HasPrefix(line, "#"):
				fmt.Fprintf(&s.out, "%s\n", line)
			default:
				s.step(t.Context(), line)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		got := normalizeScript(s.out.String())
		xmpptest.CheckGolden(t, strings.TrimSuffix(path, ".xml")+".golden", got, *update)
	})
}
