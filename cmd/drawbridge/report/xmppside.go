package report

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// transcripts collects the stanzas of the XMPP client under the row that
// is running.
type transcripts struct {
	mu      sync.Mutex
	current string
	start   time.Time
	byRow   map[string]*strings.Builder
	secrets []string
}

func newTranscripts(secrets []string) *transcripts {
	return &transcripts{byRow: map[string]*strings.Builder{}, secrets: secrets, start: time.Now()}
}

// row starts collecting under id.
func (t *transcripts) row(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = id
}

// note adds a line of the runner's own (what it did on the platform).
func (t *transcripts) note(format string, args ...any) {
	t.add("##", fmt.Sprintf(format, args...))
}

func (t *transcripts) trace(sent bool, raw string) {
	dir := "<-"
	if sent {
		dir = "->"
	}
	t.add(dir, raw)
}

func (t *transcripts) add(dir, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.current == "" {
		return
	}
	b := t.byRow[t.current]
	if b == nil {
		b = &strings.Builder{}
		t.byRow[t.current] = b
	}
	fmt.Fprintf(b, "%9.3fs %s %s\n", time.Since(t.start).Seconds(), dir, Redact(text, t.secrets...))
}

func (t *transcripts) of(id string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.byRow[id]; b != nil {
		return b.String()
	}
	return ""
}

// xmppSide is the report's XMPP user.
type xmppSide struct {
	c   *xmpptest.Client
	jid string
}

func (x *xmppSide) send(format string, args ...any) error {
	return x.c.SendRaw(fmt.Sprintf(format, args...))
}

// wait returns the first stanza, old or new, whose raw XML holds every
// fragment.
func (x *xmppSide) wait(ctx context.Context, fragments ...string) (xmpptest.Stanza, error) {
	s, err := x.c.WaitFor(ctx, func(s xmpptest.Stanza) bool {
		for _, f := range fragments {
			if !strings.Contains(s.Raw, f) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return s, fmt.Errorf("waiting for a stanza with %q: %w", fragments, err)
	}
	return s, nil
}

// drain drops every stanza received so far, so that a try waits only for
// what comes after it started.
func (x *xmppSide) drain() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		if _, err := x.c.WaitFor(ctx, func(xmpptest.Stanza) bool { return true }); err != nil {
			return
		}
	}
}

// refused returns the raw error stanza already received for the stanza
// with id, if any, without waiting.
func (x *xmppSide) refused(id string) (string, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := x.c.WaitFor(ctx, func(s xmpptest.Stanza) bool {
		return strings.Contains(s.Raw, `type="error"`) && strings.Contains(s.Raw, `id="`+id+`"`)
	})
	if err != nil {
		return "", false
	}
	return s.Raw, true
}

// iq sends an IQ as written and returns the raw reply (result or error).
func (x *xmppSide) iq(ctx context.Context, typ, to, payload string) (string, error) {
	id := fmt.Sprintf("r%d", time.Now().UnixNano())
	if err := x.send(`<iq type='%s' id='%s' to='%s'>%s</iq>`, typ, id, xmlAttr(to), payload); err != nil {
		return "", err
	}
	res, err := x.wait(ctx, `<iq `, `id="`+id+`"`)
	if err != nil {
		return "", err
	}
	return res.Raw, nil
}

func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}
