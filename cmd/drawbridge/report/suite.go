package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Section names, in the report's order.
const (
	SectionOneToOne = "One-to-one"
	SectionGroups   = "Groups"
	SectionCalls    = "Calls"
)

// env is what the checks share: both sides of the conversation.
type env struct {
	d       Deployment
	x       *xmppSide
	tr      *transcripts
	files   *fileServer
	media   map[string]media
	acct    ids.AccountID
	self    ids.UserID // the linked account as a platform user
	peer    ids.UserID // the platform user of one-to-one rows
	peerJID string
	group   ids.ChatID
	room    string // the group's room JID
}

func (e *env) p() *sandbox.Platform { return e.d.Platform }

// tryResult is one try's measurement.
type tryResult struct {
	latency time.Duration
	bytes   int
	equal   bool
	// note replaces the row's note (what a stated row observed).
	note string
}

// check is one row of the report and how to try it.
type check struct {
	id, section, function string
	dir                   Direction
	xeps                  []string
	supported             bool
	// needsGroup: the check runs in the report's group room.
	needsGroup bool
	// media: the check sends a file and compares the bytes received.
	media bool
	// outcome and note, for rows that are stated, not tried.
	stated Outcome
	note   string
	try    func(ctx context.Context, e *env, tok string) (tryResult, error)
}

const (
	xepOOB  = "XEP-0066"
	xepMUC  = "XEP-0045"
	xepCore = "RFC 6120/6121"
)

// suite lists the rows, in the report's order.
func suite() []check {
	var cs []check
	cs = append(cs,
		check{id: "text-to-platform", section: SectionOneToOne, function: "text", dir: ToPlatform, xeps: []string{xepCore}, supported: true, try: textToPlatform},
		check{id: "text-to-xmpp", section: SectionOneToOne, function: "text", dir: ToXMPP, xeps: []string{xepCore}, supported: true, try: textToXMPP},
	)
	for _, kind := range []string{"image", "voice", "video", "file"} {
		name := fixtures()[kind].kind
		cs = append(cs,
			check{id: kind + "-to-platform", section: SectionOneToOne, function: name, dir: ToPlatform, xeps: []string{xepOOB}, supported: true, media: true, try: mediaToPlatform(kind)},
			check{id: kind + "-to-xmpp", section: SectionOneToOne, function: name, dir: ToXMPP, xeps: []string{xepOOB}, supported: true, media: true, try: mediaToXMPP(kind)},
		)
	}
	cs = append(cs,
		check{id: "group-text-to-platform", section: SectionGroups, function: "text", dir: ToPlatform, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupTextToPlatform},
		check{id: "group-text-to-xmpp", section: SectionGroups, function: "text", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupTextToXMPP},
		check{id: "group-media-to-platform", section: SectionGroups, function: "media (image)", dir: ToPlatform, xeps: []string{xepMUC, xepOOB}, supported: true, needsGroup: true, media: true, try: groupMediaToPlatform},
		check{id: "group-media-to-xmpp", section: SectionGroups, function: "media (image)", dir: ToXMPP, xeps: []string{xepMUC, xepOOB}, supported: true, needsGroup: true, media: true, try: groupMediaToXMPP},
		check{id: "group-join-to-xmpp", section: SectionGroups, function: "join (a member is added)", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupJoinToXMPP},
		check{id: "group-leave-to-xmpp", section: SectionGroups, function: "leave (a member leaves)", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupLeaveToXMPP},
		check{id: "group-kick-to-xmpp", section: SectionGroups, function: "kick (an admin removes a member)", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupKickToXMPP},
		check{id: "group-kick-to-platform", section: SectionGroups, function: "kick (an admin removes a member)", dir: ToPlatform, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupKickToPlatform},
		check{id: "group-topic-to-platform", section: SectionGroups, function: "topic", dir: ToPlatform, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupTopicToPlatform},
		check{id: "group-topic-to-xmpp", section: SectionGroups, function: "topic", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupTopicToXMPP},
		check{id: "group-admin-to-platform", section: SectionGroups, function: "admin (promote, demote)", dir: ToPlatform, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupAdminToPlatform},
		check{id: "group-admin-to-xmpp", section: SectionGroups, function: "admin (promote, demote)", dir: ToXMPP, xeps: []string{xepMUC}, supported: true, needsGroup: true, try: groupAdminToXMPP},
		check{id: "call-to-xmpp", section: SectionCalls, function: "voice and video calls", dir: ToXMPP, xeps: []string{"none"}, stated: NotBridged,
			note: "Calls are not bridged: the neutral event model has no call. On WhatsApp an incoming call becomes a chat notice to the XMPP user (\"incoming call, answer on the phone\") and rings only on the phone; the sandbox has no calls."},
		check{id: "call-to-platform", section: SectionCalls, function: "voice and video calls", dir: ToPlatform, xeps: []string{"XEP-0166 (refused)"}, stated: NotBridged,
			note: "Calls are not bridged.", try: callToPlatform},
	)
	return cs
}

// poll waits until cond holds, checking it every 500µs: the sandbox has no
// notification to wait on, so the platform side's latencies have that
// resolution.
func poll(ctx context.Context, what string, cond func() bool) error {
	return pollRefusal(ctx, nil, "", what, cond)
}

// pollRefusal is poll that also ends, with the stanza error, when the
// gateway refuses the stanza with id (x and id may be empty).
func pollRefusal(ctx context.Context, x *xmppSide, id, what string, cond func() bool) error {
	t := time.NewTicker(500 * time.Microsecond)
	defer t.Stop()
	for !cond() {
		if x != nil {
			if refusal, ok := x.refused(id); ok {
				return fmt.Errorf("the gateway refused %s: %s", what, refusal)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s on the platform: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func textToPlatform(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if err := e.x.send(`<message type='chat' to='%s' id='%s'><body>%s</body></message>`, e.peerJID, tok, tok); err != nil {
		return tryResult{}, err
	}
	err := pollRefusal(ctx, e.x, tok, "the text", func() bool {
		return slices.ContainsFunc(e.p().Received(e.peer), func(m sandbox.Message) bool { return m.From == e.self && m.Body == tok })
	})
	return tryResult{latency: time.Since(start)}, err
}

func textToXMPP(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	if _, err := e.p().SendAs(ctx, e.peer, e.acct, tok); err != nil {
		return tryResult{}, err
	}
	_, err := e.x.wait(ctx, `<message`, `from="`+e.peerJID, `<body>`+tok+`</body>`)
	return tryResult{latency: time.Since(start)}, err
}

func mediaToPlatform(kind string) func(context.Context, *env, string) (tryResult, error) {
	return func(ctx context.Context, e *env, tok string) (tryResult, error) {
		m := e.media[kind]
		data := m.unique(tok)
		url := e.files.put(tok, m, data)
		start := time.Now()
		if err := e.x.send(`<message type='chat' to='%s' id='%s'><body>%s</body><x xmlns='jabber:x:oob'><url>%s</url></x></message>`, e.peerJID, tok, url, url); err != nil {
			return tryResult{}, err
		}
		var got []byte
		err := pollRefusal(ctx, e.x, tok, "the "+m.kind, func() bool {
			for _, msg := range e.p().Received(e.peer) {
				if msg.From == e.self && len(msg.Attachments) == 1 && bytes.HasSuffix(msg.Attachments[0].Data, []byte(tok)) {
					got = msg.Attachments[0].Data
					return true
				}
			}
			return false
		})
		return tryResult{latency: time.Since(start), bytes: len(got), equal: bytes.Equal(got, data)}, err
	}
}

var oobURL = regexp.MustCompile(`<x xmlns="jabber:x:oob"><url>([^<]+)</url>`)

func mediaToXMPP(kind string) func(context.Context, *env, string) (tryResult, error) {
	return func(ctx context.Context, e *env, tok string) (tryResult, error) {
		m := e.media[kind]
		data := m.unique(tok)
		start := time.Now()
		id, err := e.p().SendFileAs(ctx, e.peer, e.acct, m.name, m.mime, data)
		if err != nil {
			return tryResult{}, err
		}
		s, err := e.x.wait(ctx, `<message`, `from="`+e.peerJID, `id="`+string(id)+`"`, `jabber:x:oob`)
		lat := time.Since(start)
		if err != nil {
			return tryResult{}, err
		}
		got, err := download(ctx, oobURL.FindStringSubmatch(s.Raw))
		return tryResult{latency: lat, bytes: len(got), equal: bytes.Equal(got, data)}, err
	}
}

// download fetches the URL of an OOB match as the XMPP user's client does.
func download(ctx context.Context, match []string) ([]byte, error) {
	if match == nil {
		return nil, errors.New("the message has no out-of-band URL")
	}
	url := strings.ReplaceAll(match[1], "&amp;", "&")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", url, res.Status)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	return b, nil
}

// callToPlatform offers a Jingle session to a contact and records the
// answer: the gateway refuses it with a stanza error.
func callToPlatform(ctx context.Context, e *env, tok string) (tryResult, error) {
	start := time.Now()
	res, err := e.x.iq(ctx, "set", e.peerJID+"/drawbridge", `<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='`+tok+`' initiator='`+xmlAttr(e.x.c.JID)+`'><content creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/></content></jingle>`)
	if err != nil {
		return tryResult{}, err
	}
	lat := time.Since(start)
	if !strings.Contains(res, `type="error"`) {
		return tryResult{}, fmt.Errorf("a call offer was not refused: %s", res)
	}
	cond := errorCondition(res)
	return tryResult{latency: lat, note: "Calls are not bridged: a Jingle (XEP-0166) call offer to a contact is answered at once with the stanza error " + cond +
		", so the caller's client shows the call as failed. No platform adapter places calls."}, nil
}

var stanzaErr = regexp.MustCompile(`<([a-z-]+) xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"`)

// errorCondition is the defined condition of an error stanza, or "(none)".
func errorCondition(raw string) string {
	if m := stanzaErr.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	return "(none)"
}
