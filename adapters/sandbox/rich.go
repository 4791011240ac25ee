package sandbox

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// This file holds the platform's rules for edits, retractions, reactions,
// replies and files. The platform enforces them itself, whatever the hub
// checked before.

// MaxReactionsPerUser is how many different reactions one user may have on
// one message at a time.
const MaxReactionsPerUser = 1

// maxEmojiBytes bounds one reaction; longer strings are not an emoji.
const maxEmojiBytes = 64

// quoteRunes is the longest excerpt of the original that a reply carries.
const quoteRunes = 100

// errLimit is what a refusal wraps when the platform does the thing in
// general but not this time (a window has passed, a second reaction, a
// file too large or of a refused type).
var errLimit = gateway.ErrNotAcceptable

// MediaTypes lists the MIME types of the attachments the platform takes,
// as in gateway.Capabilities.MediaTypes. It returns a new slice each time.
func MediaTypes() []string {
	return []string{"image/*", "video/*", "audio/*", "application/pdf", "text/plain"}
}

// limits are the platform's rules that the configuration sets.
type limits struct {
	// editWindow and retractWindow: 0 means no limit.
	editWindow    time.Duration
	retractWindow time.Duration
	// maxFileSize: 0 means no files at all.
	maxFileSize int64
}

func defaultLimits() limits {
	return limits{editWindow: DefaultEditWindow, retractWindow: DefaultRetractWindow, maxFileSize: DefaultMaxFileSize}
}

func (p *Platform) setLimits(l limits) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limits = l
}

func (p *Platform) currentLimits() limits {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limits
}

// Capabilities are the platform's rules as gateway.Capabilities: the same
// in every chat, and what Session.Capabilities returns.
func (p *Platform) Capabilities() gateway.Capabilities {
	l := p.currentLimits()
	return gateway.Capabilities{
		MaxBodyLength:       MaxBodyLength,
		Receipts:            true,
		ReadMarkers:         true,
		ChatStates:          true,
		Edits:               true,
		EditWindow:          l.editWindow,
		Retractions:         true,
		RetractWindow:       l.retractWindow,
		Reactions:           true,
		MaxReactionsPerUser: MaxReactionsPerUser,
		Replies:             true,
		MaxFileSize:         l.maxFileSize,
		MediaTypes:          MediaTypes(),
	}
}

// targetLocked finds message id in the chat of a and b. A message that is
// not there, or was retracted, wraps gateway.ErrTargetNotFound. The caller
// holds p.mu.
func (p *Platform) targetLocked(a, b ids.UserID, id ids.MessageID) (*Message, error) {
	m := p.byID[id]
	if m == nil || !m.between(a, b) {
		return nil, fmt.Errorf("sandbox: no message %s in the chat of %s with %s: %w", id, a, b, gateway.ErrTargetNotFound)
	}
	if m.Retracted {
		return nil, fmt.Errorf("sandbox: message %s was retracted: %w", id, gateway.ErrTargetNotFound)
	}
	return m, nil
}

// usersLocked checks that both parties of a chat are on the platform.
func (p *Platform) usersLocked(from, peer ids.UserID) error {
	if IsGroupID(ids.ChatID(peer)) {
		_, err := p.groupLocked(ids.ChatID(peer), from, false) // groups.go
		return err
	}
	for _, id := range []ids.UserID{peer, from} {
		if p.users[id] == nil {
			return fmt.Errorf("sandbox: no user %s on the platform: %w", id, gateway.ErrUnknownChat)
		}
	}
	return nil
}

// checkWindow refuses a change of m after window (0: no limit), measured
// with the platform's clock.
func (p *Platform) checkWindow(m *Message, window time.Duration, what string) error {
	if window <= 0 {
		return nil
	}
	if age := p.now().Sub(m.Time); age > window {
		return fmt.Errorf("sandbox: %s window of %s has passed (%s was sent %s ago): %w", what, window, m.ID, age, errLimit)
	}
	return nil
}

// change is an edit, retraction or reaction handed to the platform.
type change struct {
	from   ids.UserID
	peer   ids.UserID
	target ids.MessageID
	body   string
	emojis []string
	// fromDevice is the device that made the change, if any: it gets no
	// copy.
	fromDevice *device
	// id, if set, was taken earlier (a bot's change); else one is taken.
	id ids.MessageID
}

// edit replaces the body of message c.target, which c.from wrote in the
// chat with c.peer, and tells both sides.
func (p *Platform) edit(c change) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usersLocked(c.from, c.peer); err != nil {
		return err
	}
	m, err := p.targetLocked(c.from, c.peer, c.target)
	if err != nil {
		return err
	}
	if m.From != c.from {
		return fmt.Errorf("sandbox: %s may only edit their own messages, and %s is from %s: %w", c.from, m.ID, m.From, gateway.ErrForbidden)
	}
	if err := p.checkWindow(m, p.limits.editWindow, "edit"); err != nil {
		return err
	}
	id := c.id
	if id == "" {
		id = p.mintIDLocked()
	}
	at := p.now()
	m.Edits = append(m.Edits, Revision{ID: id, Previous: m.Body, Body: c.body, Time: at})
	m.Body = c.body
	p.watch.bump()
	p.spreadLocked(c.from, c.peer, c.fromDevice, func(acct ids.AccountID, peer ids.UserID) event.Event {
		return &event.Edit{
			Meta:   event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: c.from, Time: at, ID: id},
			Target: m.ID,
			Body:   c.body,
		}
	})
	p.botEditLocked(c, m)
	return nil
}

// retract withdraws message c.target, which c.from wrote in the chat with
// c.peer, and tells both sides. Retracting a retracted message again does
// nothing.
func (p *Platform) retract(c change) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usersLocked(c.from, c.peer); err != nil {
		return err
	}
	m := p.byID[c.target]
	if m == nil || !m.between(c.from, c.peer) {
		return fmt.Errorf("sandbox: no message %s in the chat of %s with %s: %w", c.target, c.from, c.peer, gateway.ErrTargetNotFound)
	}
	if m.From != c.from {
		return fmt.Errorf("sandbox: %s may only retract their own messages, and %s is from %s: %w", c.from, m.ID, m.From, gateway.ErrForbidden)
	}
	if m.Retracted {
		return nil
	}
	if err := p.checkWindow(m, p.limits.retractWindow, "retraction"); err != nil {
		return err
	}
	id := c.id
	if id == "" {
		id = p.mintIDLocked()
	}
	at := p.now()
	m.Retracted, m.RetractedAt = true, at
	p.watch.bump()
	p.spreadLocked(c.from, c.peer, c.fromDevice, func(acct ids.AccountID, peer ids.UserID) event.Event {
		return &event.Retract{
			Meta:   event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: c.from, Time: at, ID: id},
			Target: m.ID,
		}
	})
	p.botRetractLocked(c, m)
	return nil
}

// react sets c.from's reactions on message c.target of the chat with
// c.peer to c.emojis (empty: none) and tells both sides. Setting the
// reactions one already has does nothing.
func (p *Platform) react(c change) error {
	emojis, err := normalizeEmojis(c.emojis)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usersLocked(c.from, c.peer); err != nil {
		return err
	}
	m, err := p.targetLocked(c.from, c.peer, c.target)
	if err != nil {
		return err
	}
	had := m.Reactions[c.from]
	if len(emojis) > MaxReactionsPerUser {
		return tooManyReactions(c.from, m.ID, had, emojis)
	}
	if slices.Equal(had, emojis) {
		return nil
	}
	id := c.id
	if id == "" {
		id = p.mintIDLocked()
	}
	if len(emojis) == 0 {
		delete(m.Reactions, c.from)
	} else {
		if m.Reactions == nil {
			m.Reactions = map[ids.UserID][]string{}
		}
		m.Reactions[c.from] = emojis
	}
	p.watch.bump()
	at := p.now()
	p.spreadLocked(c.from, c.peer, c.fromDevice, func(acct ids.AccountID, peer ids.UserID) event.Event {
		return &event.Reaction{
			Meta:   event.Meta{Account: acct, Chat: ids.DirectChat(peer), Sender: c.from, Time: at, ID: id},
			Target: m.ID,
			Emojis: slices.Clone(emojis),
		}
	})
	p.botReactLocked(c, m, emojis)
	return nil
}

// tooManyReactions is the refusal of the set emojis where user already
// has had on message id.
func tooManyReactions(user ids.UserID, id ids.MessageID, had, emojis []string) error {
	if len(had) > 0 {
		added := slices.DeleteFunc(slices.Clone(emojis), func(e string) bool { return slices.Contains(had, e) })
		return fmt.Errorf("sandbox: %s already reacted %s to %s and may not add %s: the platform allows %d reaction per user on a message; replace or remove it instead: %w",
			user, strings.Join(had, " "), id, strings.Join(added, " "), MaxReactionsPerUser, errLimit)
	}
	return fmt.Errorf("sandbox: %d reactions (%s) on one message, but the platform allows %d per user: %w",
		len(emojis), strings.Join(emojis, " "), MaxReactionsPerUser, errLimit)
}

// normalizeEmojis drops repeated reactions, keeping the first order, and
// refuses empty, non-UTF-8 or overlong ones with gateway.ErrBadRequest.
func normalizeEmojis(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, e := range in {
		switch {
		case e == "" || strings.TrimSpace(e) != e:
			return nil, fmt.Errorf("sandbox: reaction %q is empty or has spaces: %w", e, gateway.ErrBadRequest)
		case !utf8.ValidString(e):
			return nil, fmt.Errorf("sandbox: reaction is not valid UTF-8: %w", gateway.ErrBadRequest)
		case len(e) > maxEmojiBytes:
			return nil, fmt.Errorf("sandbox: reaction of %d bytes is not an emoji: %w", len(e), gateway.ErrBadRequest)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// checkBody validates the text of a message or an edit.
func checkBody(body string) error {
	switch {
	case !utf8.ValidString(body):
		return fmt.Errorf("sandbox: message body is not valid UTF-8: %w", gateway.ErrBadRequest)
	case len(body) > MaxBodyLength:
		return fmt.Errorf("sandbox: message body is %d bytes, the platform allows at most %d: %w",
			len(body), MaxBodyLength, gateway.ErrNotSupported)
	}
	return nil
}

// checkEditBody validates the new text of an edit: like a message body,
// but it may not be empty (retract the message instead).
func checkEditBody(body string) error {
	if body == "" {
		return fmt.Errorf("sandbox: an edit needs a body (retract the message to remove it): %w", gateway.ErrBadRequest)
	}
	return checkBody(body)
}

// quote is the excerpt of m that a reply to it shows: the start of its
// body, or the name of its first file.
func quote(m *Message) string {
	s := m.Body
	if s == "" && len(m.Attachments) > 0 {
		s = m.Attachments[0].Name
		if s == "" {
			s = "(" + string(m.Attachments[0].Kind) + ")"
		}
	}
	if utf8.RuneCountInString(s) <= quoteRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == quoteRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// formatSize writes a size the way people read limits: "1 MiB".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// mediaType is the bare, lower-case type of a declared content type
// ("image/jpeg; q=1" → "image/jpeg"); "" if none was declared.
func mediaType(declared string) string {
	declared = strings.TrimSpace(declared)
	if declared == "" {
		return ""
	}
	if t, _, err := mime.ParseMediaType(declared); err == nil {
		return t
	}
	t, _, _ := strings.Cut(declared, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// checkType refuses a MIME type the platform does not take.
func checkType(name, t string, caps gateway.Capabilities) error {
	if !strings.Contains(t, "/") || !caps.AllowsMediaType(t) {
		return fmt.Errorf("sandbox: file %q of type %q is not accepted (the platform takes %s): %w",
			name, t, strings.Join(caps.MediaTypes, ", "), errLimit)
	}
	return nil
}

// tooLarge is the refusal of a file of n bytes (more than n if more).
func tooLarge(name string, n, limit int64, more bool) error {
	prefix := ""
	if more {
		prefix = "more than "
	}
	named := ""
	if name != "" {
		named = fmt.Sprintf(" (%q)", name)
	}
	return fmt.Errorf("sandbox: file of %s%d bytes exceeds the %s limit%s: %w", prefix, n, formatSize(limit), named, errLimit)
}

// newFile checks a file that a user sends (size and type) and returns it
// as the platform stores it. An empty declared type is sniffed from data.
func (p *Platform) newFile(name, declared string, kind event.AttachmentKind, data []byte) (File, error) {
	caps := p.Capabilities()
	if caps.MaxFileSize == 0 {
		return File{}, fmt.Errorf("sandbox: the platform is configured to take no files: %w", gateway.ErrNotSupported)
	}
	if len(data) == 0 {
		return File{}, fmt.Errorf("sandbox: file %q is empty: %w", name, gateway.ErrBadRequest)
	}
	if int64(len(data)) > caps.MaxFileSize {
		return File{}, tooLarge(name, int64(len(data)), caps.MaxFileSize, false)
	}
	t := mediaType(declared)
	if t == "" {
		t = mediaType(http.DetectContentType(data))
	}
	if err := checkType(name, t, caps); err != nil {
		return File{}, err
	}
	if kind == "" {
		kind = event.KindOf(t)
	}
	return File{Name: name, MIMEType: t, Kind: kind, Data: slices.Clone(data)}, nil
}

// readAttachments reads the files of a message the owner sends through
// their Open functions, at most MaxFileSize+1 bytes each, and checks them.
// What a declared Size or type already rules out is refused before
// reading.
func (p *Platform) readAttachments(ctx context.Context, atts []event.Attachment) ([]File, error) {
	if len(atts) == 0 {
		return nil, nil
	}
	caps := p.Capabilities()
	if caps.MaxFileSize == 0 {
		return nil, fmt.Errorf("sandbox: the platform is configured to take no files: %w", gateway.ErrNotSupported)
	}
	files := make([]File, 0, len(atts))
	for _, a := range atts {
		if a.Size > caps.MaxFileSize {
			return nil, tooLarge(a.Name, a.Size, caps.MaxFileSize, false)
		}
		if t := mediaType(a.MIMEType); t != "" {
			if err := checkType(a.Name, t, caps); err != nil {
				return nil, err
			}
		}
		if a.Open == nil {
			return nil, fmt.Errorf("sandbox: attachment %q has no content to read: %w", a.Name, gateway.ErrBadRequest)
		}
		data, err := readFile(ctx, a, caps.MaxFileSize)
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > caps.MaxFileSize {
			return nil, tooLarge(a.Name, caps.MaxFileSize, caps.MaxFileSize, true)
		}
		f, err := p.newFile(a.Name, a.MIMEType, a.Kind, data)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// readFile reads at most limit+1 bytes of a.
func readFile(ctx context.Context, a event.Attachment, limit int64) ([]byte, error) {
	rc, err := a.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("sandbox: opening attachment %q: %w", a.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("sandbox: reading attachment %q: %w", a.Name, err)
	}
	return data, nil
}
