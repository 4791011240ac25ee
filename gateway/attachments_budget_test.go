package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/media"
)

// TestDownloadBudgetRefusals: while downloaded files hold the whole
// in-flight budget, the next download waits BudgetWait and is refused
// with ErrRateLimited and a readable text (wait/resource-constraint for
// the sender); once they are released it passes. A file larger than the
// whole budget is refused at once as not acceptable.
func TestDownloadBudgetRefusals(t *testing.T) {
	const size = 600 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := size
		if strings.HasSuffix(r.URL.Path, "/big.txt") {
			n = 2 << 20
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	t.Cleanup(srv.Close)
	g := &Gateway{
		log:   slog.New(slog.DiscardHandler),
		media: MediaOptions{AllowPrivate: true, TempDir: t.TempDir(), InFlightBytes: 1 << 20, BudgetWait: 50 * time.Millisecond}.withDefaults(),
	}
	g.fetches = newFetchPool(g.media.PerOwner, g.media.Global)
	g.budget = media.NewBudget(g.media.InFlightBytes, g.media.BudgetWait)
	caps := Capabilities{MaxFileSize: 4 << 20}
	fetch := func(name string) (func(), error) {
		msg := &event.Message{Attachments: []event.Attachment{{URL: srv.URL + "/" + name}}}
		return g.fetchAttachments(context.Background(), "alice@example.test", caps, msg)
	}
	held, err := fetch("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, err = fetch("b.txt")
	if !errors.Is(err, ErrRateLimited) || errors.Is(err, ErrTooFast) || !strings.Contains(err.Error(), "downloading too many files right now (1 MiB at once)") {
		t.Errorf("a download past the budget: %v, want ErrRateLimited saying why", err)
	}
	held()
	release, err := fetch("b.txt")
	if err != nil {
		t.Errorf("the same download once the budget has room: %v", err)
	} else {
		release()
	}
	if _, err := fetch("big.txt"); !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), "than the gateway downloads at once") {
		t.Errorf("a file larger than the whole budget: %v, want ErrNotAcceptable", err)
	}
	if g.budget.InUse() != 0 {
		t.Errorf("%d bytes of the budget still in use", g.budget.InUse())
	}
}
