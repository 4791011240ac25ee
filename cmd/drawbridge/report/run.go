package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// Deployment is a running Prosody and gateway on the sandbox platform,
// what the suite runs against.
type Deployment struct {
	// Name is the server setup's column heading (e.g. "Prosody").
	Name string
	// C2SAddr is the XMPP server's client listener, host:port.
	C2SAddr string
	// Domain is the server's domain, where the report's user registers.
	Domain string
	// Component is the gateway's JID.
	Component string
	// Platform is the gateway's sandbox, which the suite drives as the
	// platform's users.
	Platform *sandbox.Platform
	// Register creates an XMPP account on the server.
	Register func(user, password string) error
	// Secrets are removed from the transcripts (the component secret).
	Secrets []string
}

// Options tune a run.
type Options struct {
	// Tries per row (default 20).
	Tries int
	// Timeout of one try (default 20s).
	Timeout time.Duration
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// reportPhone is the sandbox number the report's XMPP user links.
const reportPhone = "+15550160016"

// Result is what Run measured.
type Result struct {
	Rows []Row
	// Setup is the transcript of the login and the link.
	Setup string
}

// Run runs every row of the suite against d. An error means the run could
// not start (no login, no link); a row that fails is a row with Outcome
// Fail.
func Run(ctx context.Context, d Deployment, o Options) (Result, error) {
	if o.Tries <= 0 {
		o.Tries = 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if d.Platform == nil {
		return Result{}, errors.New("report: the deployment has no sandbox platform to drive")
	}
	pw := randomHex(12)
	tr := newTranscripts(append([]string{pw}, d.Secrets...))
	e, err := setup(ctx, d, pw, tr, o)
	if err != nil {
		return Result{Setup: tr.of("setup")}, err
	}
	defer e.files.close()
	defer e.x.c.Close()

	res := Result{Setup: tr.of("setup")}
	for _, c := range suite() {
		res.Rows = append(res.Rows, e.runCheck(ctx, c, o))
	}
	return res, nil
}

// setup logs the report's user in, links a sandbox account and puts it in
// a group whose room it joins.
func setup(ctx context.Context, d Deployment, pw string, tr *transcripts, o Options) (*env, error) {
	user := "regulator"
	if err := d.Register(user, pw); err != nil {
		return nil, fmt.Errorf("report: registering the XMPP user: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 4*o.Timeout)
	defer cancel()
	c, err := xmpptest.DialClient(sctx, d.C2SAddr, user+"@"+d.Domain, pw)
	if err != nil {
		return nil, fmt.Errorf("report: logging in as %s@%s: %w", user, d.Domain, err)
	}
	c.SetTrace(tr.trace)
	files, err := startFileServer()
	if err != nil {
		c.Close()
		return nil, err
	}
	e := &env{
		d: d, x: &xmppSide{c: c, jid: user + "@" + d.Domain}, tr: tr, files: files, media: fixtures(),
		acct: ids.AccountID(reportPhone), self: ids.UserID(reportPhone),
		peer: sandbox.Alice, peerJID: string(sandbox.Alice) + "@" + d.Component,
	}
	fail := func(err error) (*env, error) {
		files.close()
		c.Close()
		return nil, fmt.Errorf("report: setting up: %w", err)
	}
	tr.row("setup")
	steps := []func() error{
		func() error { return e.x.send(`<presence/>`) },
		func() error { return e.x.send(`<message type='chat' to='%s'><body>link</body></message>`, d.Component) },
		func() error {
			_, err := e.x.wait(sctx, `from="`+d.Component, "Reply with your phone number")
			return err
		},
		func() error {
			return e.x.send(`<message type='chat' to='%s'><body>%s</body></message>`, d.Component, reportPhone)
		},
		func() error { _, err := e.x.wait(sctx, `from="`+d.Component, "is now linked"); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fail(err)
		}
	}
	o.Log.Info("report: linked", "user", e.x.jid, "phone", reportPhone)
	return e, nil
}

// joinGroup creates the report's group on the platform (Alice, Bob and
// the linked account, which is made an admin) and joins its room.
func (e *env) joinGroup(ctx context.Context) error {
	gid, err := e.p().CreateGroup(sandbox.Alice, "Article 7 evidence", e.self, sandbox.Bob)
	if err != nil {
		return fmt.Errorf("creating the group: %w", err)
	}
	e.group = gid
	inv, err := e.x.wait(ctx, `<message`, `jabber:x:conference`)
	if err != nil {
		return err
	}
	room := attrValue(inv.Raw, `jid="`)
	if room == "" {
		return fmt.Errorf("the invitation names no room: %s", inv.Raw)
	}
	e.room = room
	if err := e.p().Promote(sandbox.Alice, gid, e.self); err != nil {
		return fmt.Errorf("making the account an admin: %w", err)
	}
	if err := e.x.send(`<presence to='%s/Regulator'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`, xmlAttr(room)); err != nil {
		return err
	}
	_, err = e.x.wait(ctx, `from="`+room+`"`, `<subject`)
	return err
}

func attrValue(raw, prefix string) string {
	_, rest, ok := strings.Cut(raw, prefix)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// runCheck runs c's tries and makes its row.
func (e *env) runCheck(ctx context.Context, c check, o Options) Row {
	row := Row{ID: c.id, Section: c.section, Function: c.function, Direction: c.dir, XEPs: c.xeps, Supported: c.supported}
	cell := e.tryCheck(ctx, c, o)
	cell.Server = e.d.Name
	row.Cells = []Cell{cell}
	return row
}

// tryCheck runs c's tries and makes its cell.
func (e *env) tryCheck(ctx context.Context, c check, o Options) (cell Cell) {
	cell = Cell{Outcome: Pass, Note: c.note, BytesEqual: true}
	e.tr.row(c.id)
	defer func() { cell.Transcript = e.tr.of(c.id) }()
	if c.try == nil {
		cell.Outcome = c.stated
		return cell
	}
	if c.needsGroup && e.group == "" {
		gctx, cancel := context.WithTimeout(ctx, o.Timeout)
		err := e.joinGroup(gctx)
		cancel()
		if err != nil {
			cell.Outcome, cell.Note = Fail, "could not set up the group: "+err.Error()
			return cell
		}
	}
	tries := o.Tries
	if c.stated != "" {
		tries = 1 // a refusal is observed once
	}
	for i := range tries {
		if e.x != nil {
			e.x.drain()
		}
		tok := fmt.Sprintf("%s-%d-%s", c.id, i+1, randomHex(3))
		e.tr.note("try %d (%s)", i+1, tok)
		tctx, cancel := context.WithTimeout(ctx, o.Timeout)
		res, err := c.try(tctx, e, tok)
		cancel()
		cell.Tries++
		if err != nil {
			cell.Outcome = Fail
			cell.Note = fmt.Sprintf("try %d: %v", i+1, err)
			e.tr.note("FAILED: %v", err)
			o.Log.Warn("report: cell failed", "server", e.d.Name, "cell", c.id, "try", i+1, "err", err)
			break
		}
		cell.Latencies = append(cell.Latencies, res.latency)
		if c.media {
			cell.Bytes = res.bytes
			cell.BytesEqual = cell.BytesEqual && res.equal
			if !res.equal {
				cell.Outcome, cell.Note = Fail, fmt.Sprintf("try %d: the bytes received differ from the bytes sent", i+1)
				break
			}
		}
		if res.note != "" {
			cell.Note = res.note
		}
	}
	if c.stated != "" && cell.Outcome == Pass {
		cell.Outcome = c.stated
	}
	if !c.media {
		cell.Bytes, cell.BytesEqual = 0, false
	}
	o.Log.Info("report: cell", "server", e.d.Name, "cell", c.id, "outcome", cell.Outcome, "tries", cell.Tries)
	return cell
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
