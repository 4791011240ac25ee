package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/media"
)

// procStatusKiB reads a "VmRSS"/"VmHWM" line of /proc/self/status, in KiB.
func procStatusKiB(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// zeros is an endless reader of patterned bytes that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

const rssChildEnv = "DRAWBRIDGE_RSS_CHILD"

// TestDownloadsAreNotHeldInMemory is issue 21 item 2: four files of 64 MiB
// (256 MiB in all) are downloaded at once for four users and read by the
// "adapter" (hashed, as a platform upload would stream them). The
// process's peak RSS (VmHWM, reset before the downloads) may grow by at
// most a quarter of the files' total size; holding the files in memory,
// as the fetcher did, needs at least all of it. It runs in a child
// process of its own, so that no other test's memory counts.
func TestDownloadsAreNotHeldInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB through loopback")
	}
	if os.Getenv(rssChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDownloadsAreNotHeldInMemory$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), rssChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return
	}
	const (
		files = 4
		size  = 64 << 20
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.CopyN(w, zeros{}, size)
	}))
	t.Cleanup(srv.Close)
	g := &Gateway{
		log:   slog.New(slog.DiscardHandler),
		media: MediaOptions{AllowPrivate: true, TempDir: t.TempDir(), Global: files, PerOwner: 1}.withDefaults(),
	}
	g.fetches = newFetchPool(g.media.PerOwner, g.media.Global)
	g.budget = media.NewBudget(g.media.InFlightBytes, g.media.BudgetWait)
	caps := Capabilities{MaxFileSize: size}

	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	base := procStatusKiB(t, "VmRSS")

	var wg sync.WaitGroup
	errs := make(chan error, files)
	for i := range files {
		wg.Go(func() {
			owner := ids.Owner(fmt.Sprintf("u%d@example.test", i))
			msg := &event.Message{Attachments: []event.Attachment{{URL: fmt.Sprintf("%s/f%d.bin", srv.URL, i)}}}
			release, err := g.fetchAttachments(context.Background(), owner, caps, msg)
			defer release()
			if err != nil {
				errs <- err
				return
			}
			rc, err := msg.Attachments[0].Open(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer rc.Close()
			h := sha256.New()
			n, err := io.Copy(h, rc)
			if err == nil && n != size {
				err = fmt.Errorf("read %d bytes of %d", n, size)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	peak := procStatusKiB(t, "VmHWM")
	growth := (peak - base) << 10
	total := int64(files * size)
	ratio := float64(growth) / float64(total)
	t.Logf("RSS before %d MiB, peak %d MiB: grew by %.1f MiB for %d MiB of files (%.3f of their size)", base>>10, peak>>10, float64(growth)/(1<<20), total>>20, ratio)
	if ratio > 0.25 {
		t.Errorf("peak RSS grew by %.2f of the files' total size, want at most 0.25", ratio)
	}
	if g.budget.InUse() != 0 {
		t.Errorf("%d bytes of the in-flight budget not given back", g.budget.InUse())
	}
}
