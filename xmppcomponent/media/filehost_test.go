package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is an injectable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startFileHost runs a FileHost on a real loopback listener under the
// public prefix /media/ and returns it with its base URL.
func startFileHost(t *testing.T, cfg FileHostConfig) (*FileHost, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/media/"
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.PublicURL = base
	h, err := NewFileHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.ServeListener(context.Background(), ln) }()
	t.Cleanup(func() {
		h.Close()
		if err := <-served; err != nil {
			t.Errorf("ServeListener: %v", err)
		}
	})
	return h, base
}

func upload(t *testing.T, h Uploader, name, mt string, data []byte) string {
	t.Helper()
	u, err := h.Upload(testCtx(t), Upload{Owner: "alice@example.test", Name: name, MIMEType: mt, Size: int64(len(data)), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func get(t *testing.T, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var fileURLShape = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/media/([a-z2-7]{52})/([^/]+)$`)

func TestFileHostUploadAndServe(t *testing.T) {
	clock := newTestClock()
	h, base := startFileHost(t, FileHostConfig{Now: clock.Now})
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2, 3}, 5000)...)

	u := upload(t, h, "holiday photo.png", "image/png", img)
	m := fileURLShape.FindStringSubmatch(u)
	if m == nil || m[2] != "holiday_photo.png" {
		t.Fatalf("URL %q does not have the shape %s<52 base32>/<name>", u, base)
	}
	resp, body := get(t, http.MethodGet, u)
	if resp.StatusCode != 200 || !bytes.Equal(body, img) {
		t.Fatalf("GET: %s, %d bytes", resp.Status, len(body))
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Content-Disposition":     "inline; filename*=UTF-8''holiday_photo.png",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":           "private, max-age=604800",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	// HEAD and a range.
	resp, body = get(t, http.MethodHead, u)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(img)) {
		t.Errorf("HEAD: %s, length %d, %d body bytes", resp.Status, resp.ContentLength, len(body))
	}
	resp, body = get(t, http.MethodGet, u, "Range", "bytes=8-11")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, img[8:12]) {
		t.Errorf("range: %s %v", resp.Status, body)
	}
	// A proxy that strips the prefix reaches the same file.
	stripped := strings.Replace(u, "/media/", "/", 1)
	if resp, body = get(t, http.MethodGet, stripped); resp.StatusCode != 200 || !bytes.Equal(body, img) {
		t.Errorf("without the prefix: %s", resp.Status)
	}

	// Active content is an attachment, sandboxed.
	u2 := upload(t, h, "page.html", "text/html; charset=utf-8", []byte("<script>alert(1)</script>"))
	resp, _ = get(t, http.MethodGet, u2)
	if resp.Header.Get("Content-Type") != "text/html" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("HTML served with %v", resp.Header)
	}
	// Nameless platform media gets a name from its type.
	u3 := upload(t, h, "", "audio/ogg; codecs=opus", []byte("OggS"))
	if !strings.HasSuffix(u3, "/file.ogg") {
		t.Errorf("nameless audio: %s", u3)
	}

	// Unknown, misnamed and malformed paths, other methods.
	id := m[1]
	other := strings.Repeat("a", 52)
	for _, p := range []string{
		base + other + "/holiday_photo.png",
		base + id + "/other.png",
		base + id + "/",
		base + id,
		base + "../" + id + "/holiday_photo.png",
		base + strings.ToUpper(id) + "/holiday_photo.png",
		base,
	} {
		if resp, _ := get(t, http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
	if resp, _ := get(t, http.MethodPut, u); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %s", resp.Status)
	}
	if used, quota := h.Usage(); used != int64(len(img))+25+4 || quota != DefaultFileHostQuota {
		t.Errorf("usage %d / %d", used, quota)
	}
}

func TestFileHostPathsAreUnguessable(t *testing.T) {
	h, _ := startFileHost(t, FileHostConfig{})
	seen := map[string]bool{}
	for range 50 {
		u := upload(t, h, "same.txt", "text/plain", []byte("x"))
		m := fileURLShape.FindStringSubmatch(u)
		if m == nil {
			t.Fatalf("URL %q", u)
		}
		if seen[m[1]] {
			t.Fatalf("id %s issued twice", m[1])
		}
		seen[m[1]] = true
	}
}

func TestFileHostExpiry(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	h, _ := startFileHost(t, FileHostConfig{Dir: dir, Now: clock.Now, Expiry: time.Hour})
	old := upload(t, h, "old.txt", "text/plain", []byte("old"))
	clock.Advance(40 * time.Minute)
	young := upload(t, h, "young.txt", "text/plain", []byte("young"))
	clock.Advance(30 * time.Minute) // old is 70 minutes old, young 30

	if resp, _ := get(t, http.MethodGet, old); resp.StatusCode != http.StatusNotFound {
		t.Errorf("expired file: %s, want 404 (even before the janitor ran)", resp.Status)
	}
	if resp, body := get(t, http.MethodGet, young); resp.StatusCode != 200 || string(body) != "young" {
		t.Errorf("live file: %s", resp.Status)
	}
	if resp, _ := get(t, http.MethodGet, young); resp.Header.Get("Cache-Control") != "private, max-age=1800" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if n, err := h.RemoveExpired(); n != 1 || err != nil {
		t.Errorf("RemoveExpired = %d, %v", n, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 2 { // young's data and sidecar
		t.Errorf("files left: %v", files)
	}
	if used, _ := h.Usage(); used != 5 {
		t.Errorf("used %d after expiry, want 5", used)
	}
	clock.Advance(time.Hour)
	if n, _ := h.RemoveExpired(); n != 1 {
		t.Errorf("second RemoveExpired = %d", n)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

func TestFileHostQuota(t *testing.T) {
	clock := newTestClock()
	h, _ := startFileHost(t, FileHostConfig{Now: clock.Now, Expiry: time.Hour, Quota: 100, MaxFileSize: 60})
	if h.MaxFileSize() != 60 {
		t.Errorf("MaxFileSize %d", h.MaxFileSize())
	}
	tryUpload := func(n int) error {
		_, err := h.Upload(testCtx(t), Upload{Name: "f", Size: int64(n), Body: bytes.NewReader(make([]byte, n))})
		return err
	}
	if err := tryUpload(61); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("61 bytes: %v, want ErrFileTooLarge", err)
	}
	if err := tryUpload(60); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	if err := tryUpload(40); err != nil {
		t.Fatal(err)
	}
	// Full: nothing has expired, so nothing may go.
	if err := tryUpload(1); !errors.Is(err, ErrQuota) {
		t.Errorf("over quota: %v, want ErrQuota", err)
	}
	// The first file expires: it makes room for the next.
	clock.Advance(31 * time.Minute)
	if err := tryUpload(50); err != nil {
		t.Errorf("after the first file expired: %v", err)
	}
	if used, _ := h.Usage(); used != 90 {
		t.Errorf("used %d, want 90", used)
	}
	// A failed upload gives its reservation back.
	if _, err := h.Upload(testCtx(t), Upload{Name: "f", Size: 10, Body: strings.NewReader("short")}); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("short body: %v", err)
	}
	if _, err := h.Upload(testCtx(t), Upload{Name: "f", Size: 3, Body: strings.NewReader("longer")}); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("long body: %v", err)
	}
	if used, _ := h.Usage(); used != 90 {
		t.Errorf("used %d after failed uploads, want 90", used)
	}
}

func TestFileHostConcurrentUploadsRespectQuota(t *testing.T) {
	h, _ := startFileHost(t, FileHostConfig{Quota: 1000, MaxFileSize: 100})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for range 20 {
		wg.Go(func() {
			_, err := h.Upload(testCtx(t), Upload{Name: "f", Size: 100, Body: bytes.NewReader(make([]byte, 100))})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrQuota):
				full++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 10 || full != 10 {
		t.Errorf("%d stored, %d refused; want 10 and 10", ok, full)
	}
}

func TestFileHostSurvivesRestart(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	h1, err := NewFileHost(FileHostConfig{Dir: dir, PublicURL: "https://files.example.org/db", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	u := upload(t, h1, "keep.txt", "text/plain", []byte("kept across restarts"))
	if !strings.HasPrefix(u, "https://files.example.org/db/") {
		t.Errorf("URL %s", u)
	}
	h1.Close()
	// Leftovers of an interrupted upload and a sidecar-less data file.
	os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte("partial"), 0o600)
	orphan := strings.Repeat("b", 52)
	os.WriteFile(filepath.Join(dir, orphan+dataSuffix), []byte("orphan"), 0o600)
	broken := strings.Repeat("c", 52)
	os.WriteFile(filepath.Join(dir, broken+metaSuffix), []byte("{not json"), 0o600)
	os.WriteFile(filepath.Join(dir, broken+dataSuffix), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not ours"), 0o600)

	h2, _ := startFileHost(t, FileHostConfig{Dir: dir, Now: clock.Now})
	path := u[strings.Index(u, "/db/")+len("/db/"):]
	base := strings.TrimSuffix(h2.base, "/")
	if resp, body := get(t, http.MethodGet, base+"/"+path); resp.StatusCode != 200 || string(body) != "kept across restarts" {
		t.Errorf("after restart: %s %q", resp.Status, body)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if len(names) != 3 { // the file, its sidecar, README
		t.Errorf("directory after restart: %v", names)
	}
	if used, _ := h2.Usage(); used != int64(len("kept across restarts")) {
		t.Errorf("used %d", used)
	}
}

func TestFileHostConfig(t *testing.T) {
	for _, cfg := range []FileHostConfig{
		{PublicURL: "https://x/"},
		{Dir: t.TempDir(), PublicURL: ""},
		{Dir: t.TempDir(), PublicURL: "ftp://x/"},
		{Dir: t.TempDir(), PublicURL: "/relative/"},
		{Dir: t.TempDir(), PublicURL: "https://x/?q=1"},
	} {
		if h, err := NewFileHost(cfg); err == nil {
			h.Close()
			t.Errorf("NewFileHost(%+v) accepted", cfg)
		}
	}
}

func TestFileHostUploadHonoursContext(t *testing.T) {
	h, _ := startFileHost(t, FileHostConfig{})
	ctx, cancel := context.WithCancel(testCtx(t))
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("first part"))
		cancel()
		pw.Write([]byte("second part")) // blocks until the upload gives up
		pw.Close()
	}()
	_, err := h.Upload(ctx, Upload{Name: "f", Size: 100, Body: pr})
	pr.Close()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if used, _ := h.Usage(); used != 0 {
		t.Errorf("used %d", used)
	}
}

func TestFileHostServeStopsOnContext(t *testing.T) {
	h, err := NewFileHost(FileHostConfig{Dir: t.TempDir(), PublicURL: "http://127.0.0.1/", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	// A bad address is reported.
	h2, err := NewFileHost(FileHostConfig{Dir: t.TempDir(), PublicURL: "http://127.0.0.1/", Listen: "256.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if err := h2.Serve(context.Background()); err == nil {
		t.Error("Serve on a bad address succeeded")
	}
}

// TestFileHostSVGIsAttachment: every image/svg* type is served as an
// attachment, in whatever case the platform spelled it (issue 21, Low).
func TestFileHostSVGIsAttachment(t *testing.T) {
	h, _ := startFileHost(t, FileHostConfig{})
	for _, mt := range []string{"image/svg+xml", "image/svg", "Image/SVG-XML; charset=utf-8"} {
		resp, _ := get(t, http.MethodGet, upload(t, h, "drawing.svg", mt, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)))
		if d := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(d, "attachment;") {
			t.Errorf("%s served with Content-Disposition %q", mt, d)
		}
	}
}

// TestFileHostPrivateFiles: the directory is created 0700, an existing
// one open to other users is restricted to its owner, and the files in it
// are 0600 (issue 21, Low).
func TestFileHostPrivateFiles(t *testing.T) {
	parent := t.TempDir()
	fresh := filepath.Join(parent, "fresh", "files")
	open := filepath.Join(parent, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, dir := range []string{fresh, open} {
		h, _ := startFileHost(t, FileHostConfig{Dir: dir})
		upload(t, h, "a.txt", "text/plain", []byte("private"))
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o700 {
			t.Errorf("%s: mode %v, want drwx------", dir, m)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s holds %v, %v", dir, entries, err)
		}
		for _, e := range entries {
			if fi, err := e.Info(); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s: %v %v, want -rw-------", dir, e.Name(), fi.Mode(), err)
			}
		}
	}
}

// TestFileHostShares: one sender's files fill only that sender's share
// (over all owners), and the files for one owner only that owner's share,
// so the global quota keeps room for everybody else. The shares count
// again after a restart, and expired files give their share back.
func TestFileHostShares(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	cfg := FileHostConfig{Dir: dir, Now: clock.Now, Expiry: time.Hour, Quota: 800, OwnerQuota: 400, SenderQuota: 200, MaxFileSize: 100}
	h, _ := startFileHost(t, cfg)
	upload := func(h *FileHost, owner, sender string) error {
		_, err := h.Upload(testCtx(t), Upload{Owner: owner, Sender: sender, Name: "f", Size: 100, Body: bytes.NewReader(make([]byte, 100))})
		return err
	}
	// The attack: mallory sends ten files to alice.
	stored := 0
	for range 10 {
		err := upload(h, "alice@example.test", "mallory")
		var q *QuotaError
		switch {
		case err == nil:
			stored++
		case errors.As(err, &q) && errors.Is(err, ErrQuota):
			if q.Bound != QuotaSender || q.Used != 200 || q.Limit != 200 || q.Need != 100 {
				t.Errorf("refusal %+v, want the sender's share 200 of 200 used", q)
			}
		default:
			t.Fatalf("upload: %v", err)
		}
	}
	if stored != 2 {
		t.Errorf("mallory stored %d files, want 2 (the sender share)", stored)
	}
	// Mallory's share spans owners: bob gets nothing more from mallory.
	var q *QuotaError
	if err := upload(h, "bob@example.test", "mallory"); !errors.As(err, &q) || q.Bound != QuotaSender {
		t.Errorf("mallory to bob: %v, want the sender share refused", err)
	}
	// Bob's next file from somebody else still fits.
	if err := upload(h, "bob@example.test", "carol"); err != nil {
		t.Errorf("carol to bob after mallory's flood: %v", err)
	}
	// Many senders to alice fill alice's share, not the host.
	for _, s := range []string{"s1", "s2"} {
		if err := upload(h, "alice@example.test", s); err != nil {
			t.Fatalf("%s to alice: %v", s, err)
		}
	}
	if err := upload(h, "alice@example.test", "s3"); !errors.As(err, &q) || q.Bound != QuotaOwner {
		t.Errorf("fifth file for alice: %v, want the owner share refused", err)
	}
	// Files without an owner or sender count against the quota alone, which
	// stays the backstop: 500 of 800 are used.
	for range 3 {
		if err := upload(h, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := upload(h, "dave@example.test", "erin"); !errors.As(err, &q) || q.Bound != QuotaHost {
		t.Errorf("over the quota: %v, want the host quota refused", err)
	}
	if ou, oq, su, sq := h.ShareUsage("alice@example.test", "mallory"); ou != 400 || oq != 400 || su != 200 || sq != 200 {
		t.Errorf("ShareUsage = %d/%d, %d/%d", ou, oq, su, sq)
	}
	h.Close()

	// A restart counts the shares from the stored files.
	h2, _ := startFileHost(t, cfg)
	if err := upload(h2, "bob@example.test", "mallory"); !errors.As(err, &q) || q.Bound != QuotaSender {
		t.Errorf("after a restart, mallory to bob: %v, want the sender share refused", err)
	}
	// Expired files give the shares back.
	clock.Advance(2 * time.Hour)
	if err := upload(h2, "bob@example.test", "mallory"); err != nil {
		t.Errorf("after mallory's files expired: %v", err)
	}
	if ou, _, su, _ := h2.ShareUsage("alice@example.test", "mallory"); ou != 0 || su != 100 {
		t.Errorf("after expiry: alice %d, mallory %d; want 0 and 100", ou, su)
	}
}

// TestFileHostMaxFileSizeWithinShares: a file larger than a share could
// never be stored, so MaxFileSize is bounded by the shares.
func TestFileHostMaxFileSizeWithinShares(t *testing.T) {
	h, _ := startFileHost(t, FileHostConfig{Quota: 1000, OwnerQuota: 300, SenderQuota: 200, MaxFileSize: 500})
	if got := h.MaxFileSize(); got != 200 {
		t.Errorf("MaxFileSize = %d, want 200 (the sender share)", got)
	}
}
