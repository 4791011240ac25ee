package config

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// RedactHandler is a slog.Handler that replaces JIDs and phone numbers in
// a record's message and attributes (strings, errors, anything printed)
// before the next handler sees them. A JID becomes
// "#HASH@domain[/#HASH]": its domain stays, for the operator, and its bare
// JID and resource become a short HMAC-SHA256 under the handler's key, so
// that the same address gives the same hash in every line (and every run
// with the same key) while a guessed phone number cannot be checked
// without the key. A phone number (+ and 7 to 15 digits) becomes "#HASH".
// Domain-only JIDs (the component, servers) stay as they are.
type RedactHandler struct {
	next slog.Handler
	key  []byte
}

// NewRedactHandler wraps next; key keys the hashes.
func NewRedactHandler(next slog.Handler, key []byte) *RedactHandler {
	return &RedactHandler{next: next, key: key}
}

var (
	// jidPattern: local@domain with an optional /resource. The local part
	// stops at what ends a word in a log line or markup.
	jidPattern = regexp.MustCompile(`[^\s@/"'<>=,;:()\[\]{}]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?:/[^\s"'<>,;()\[\]{}]+)?`)
	// phonePattern: an E.164 number.
	phonePattern = regexp.MustCompile(`\+[0-9]{7,15}`)
)

// hash is the short keyed hash of s.
func (h *RedactHandler) hash(s string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(s))
	return "#" + hex.EncodeToString(m.Sum(nil))[:10]
}

// Redact returns s with its JIDs and phone numbers replaced.
func (h *RedactHandler) Redact(s string) string {
	if !strings.ContainsAny(s, "@+") {
		return s
	}
	s = jidPattern.ReplaceAllStringFunc(s, func(jid string) string {
		bare, resource, full := strings.Cut(jid, "/")
		_, domain, _ := strings.Cut(bare, "@")
		out := h.hash(strings.ToLower(bare)) + "@" + strings.ToLower(domain)
		if full {
			out += "/" + h.hash(resource)
		}
		return out
	})
	return phonePattern.ReplaceAllStringFunc(s, h.hash)
}

// Enabled implements slog.Handler.
func (h *RedactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *RedactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *RedactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &RedactHandler{next: h.next.WithAttrs(red), key: h.key}
}

// WithGroup implements slog.Handler.
func (h *RedactHandler) WithGroup(name string) slog.Handler {
	return &RedactHandler{next: h.next.WithGroup(name), key: h.key}
}

// attr redacts one attribute's value.
func (h *RedactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		// Errors, named string types (ids.Owner), lists: as printed.
		s := fmt.Sprint(v.Any())
		if r := h.Redact(s); r != s {
			return slog.String(a.Key, r)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactKey derives the key of log.redact's hashes from the (first)
// component's secret: the hashes stay the same across restarts, and whoever reads the
// logs without the secret cannot test a guessed number against them.
func (c Config) redactKey() []byte {
	m := hmac.New(sha256.New, []byte(c.primarySecret()))
	m.Write([]byte("drawbridge log.redact"))
	return m.Sum(nil)
}
