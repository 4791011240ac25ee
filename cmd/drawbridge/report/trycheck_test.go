package report

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestTryCheckOutcomes: a row passes only when every try does; the first
// failing try, or a copy whose bytes differ, makes it fail with a note
// naming the try; a stated row keeps its outcome and what it observed.
func TestTryCheckOutcomes(t *testing.T) {
	ok := func(context.Context, *env, string) (tryResult, error) {
		return tryResult{latency: time.Millisecond}, nil
	}
	failSecond := func() func(context.Context, *env, string) (tryResult, error) {
		n := 0
		return func(context.Context, *env, string) (tryResult, error) {
			n++
			if n == 2 {
				return tryResult{}, errors.New("no answer")
			}
			return tryResult{latency: time.Millisecond}, nil
		}
	}
	for _, tc := range []struct {
		name      string
		c         check
		want      Outcome
		wantTries int
		wantNote  string
	}{
		{"every try passes", check{id: "text-to-platform", try: ok}, Pass, 5, ""},
		{"the second try fails", check{id: "text-to-platform", try: failSecond()}, Fail, 2, "try 2: no answer"},
		{"bytes differ", check{id: "image-to-xmpp", media: true, try: func(context.Context, *env, string) (tryResult, error) {
			return tryResult{latency: time.Millisecond, bytes: 10, equal: false}, nil
		}}, Fail, 1, "try 1: the bytes received differ"},
		{"bytes equal", check{id: "image-to-xmpp", media: true, try: func(context.Context, *env, string) (tryResult, error) {
			return tryResult{latency: time.Millisecond, bytes: 10, equal: true}, nil
		}}, Pass, 5, ""},
		{"stated and observed once", check{id: "call-to-platform", stated: NotBridged, note: "stated", try: func(context.Context, *env, string) (tryResult, error) {
			return tryResult{latency: time.Millisecond, note: "refused with service-unavailable"}, nil
		}}, NotBridged, 1, "refused with service-unavailable"},
		{"stated, nothing tried", check{id: "call-to-xmpp", stated: NotBridged, note: "not bridged"}, NotBridged, 0, "not bridged"},
		{"stated but the observation fails", check{id: "call-to-platform", stated: NotBridged, note: "stated", try: func(context.Context, *env, string) (tryResult, error) {
			return tryResult{}, errors.New("a call offer was not refused")
		}}, Fail, 1, "try 1: a call offer was not refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{d: Deployment{Name: "S"}, tr: newTranscripts(nil)}
			row := e.runCheck(context.Background(), tc.c, Options{Tries: 5, Timeout: time.Second, Log: discard()})
			c := row.Cells[0]
			if c.Outcome != tc.want || c.Tries != tc.wantTries || !strings.HasPrefix(c.Note, tc.wantNote) || c.Server != "S" {
				t.Errorf("cell = %+v, want outcome %s after %d tries with note %q", c, tc.want, tc.wantTries, tc.wantNote)
			}
			if c.Outcome == Pass && len(c.Latencies) != c.Tries {
				t.Errorf("%d latencies for %d passing tries", len(c.Latencies), c.Tries)
			}
			if tc.c.try != nil && !strings.Contains(c.Transcript, "try 1") {
				t.Errorf("the transcript lacks the try: %q", c.Transcript)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
