package mgmt_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
)

func TestOpsServer(t *testing.T) {
	var ready atomic.Bool
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "drawbridge_up 1\n") })
	o := mgmt.NewOps(mgmt.OpsOptions{
		Listen:  "127.0.0.1:0",
		Metrics: metrics,
		Ready: func(context.Context) error {
			if !ready.Load() {
				return errors.New("the XMPP link is down")
			}
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Shutdown(context.Background()) })
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + o.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "XMPP link is down") {
		t.Errorf("/readyz not ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz ready: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || body != "drawbridge_up 1\n" {
		t.Errorf("/metrics: %d %q", code, body)
	}
	if code, _ := get("/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d", code)
	}
	// The port is taken: the error names the setting.
	dup := mgmt.NewOps(mgmt.OpsOptions{Listen: o.Addr().String(), Logger: slog.New(slog.DiscardHandler)})
	if err := dup.Start(); err == nil || !strings.Contains(err.Error(), "metrics.listen") {
		t.Errorf("second server on the same port: %v", err)
	}
}

func TestOpsProfilingOnlyWhenAsked(t *testing.T) {
	for _, profiling := range []bool{false, true} {
		h := mgmt.OpsHandler(nil, nil, profiling)
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[profiling]; rec.Code != want {
				t.Errorf("profiling=%v: GET %s: %d, want %d", profiling, path, rec.Code, want)
			}
		}
	}
}
