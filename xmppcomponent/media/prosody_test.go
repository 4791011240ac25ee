package media_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	gmedia "github.com/drawbridge-im/drawbridge/gateway/media"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/media"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/stream"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

const (
	gwDomain = "gw.example.test"
	gwSecret = "upload-s3cret"
	// uploadLimit is upload.example.test's http_file_share_size_limit.
	uploadLimit = 1 << 20
)

// uploadComponents are Prosody 0.12's mod_http_file_share as internal
// components: upload.example.test with the default access rule (any host
// of this server, components included), granted-upload.test with the
// component listed in http_file_share_access, and locked-upload.test
// listing someone else. Not being subdomains of example.test, the last two
// do not appear in its disco#items. http_host makes the slot URLs point at
// the loopback listener (by default they name the component's host).
const uploadComponents = `
Component "upload.example.test" "http_file_share"
	http_host = "127.0.0.1"
	http_file_share_size_limit = 1048576

Component "granted-upload.test" "http_file_share"
	http_host = "127.0.0.1"
	http_paths = { file_share = "/granted_share" }
	http_file_share_access = { "gw.example.test" }

Component "locked-upload.test" "http_file_share"
	http_host = "127.0.0.1"
	http_paths = { file_share = "/locked_share" }
	http_file_share_access = { "someone-else.test" }
`

// TestHTTPUploadAgainstProsody runs discovery, slot requests and uploads
// against a real Prosody with mod_http_file_share, through the component's
// own connection, and downloads the files back.
func TestHTTPUploadAgainstProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("needs prosody")
	}
	p := xmpptest.StartProsody(t, xmpptest.ProsodyOptions{
		Components:    []xmpptest.ComponentSpec{{Domain: gwDomain, Secret: gwSecret}},
		HTTP:          true,
		ExtraSections: uploadComponents,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn := stream.New(stream.Config{
		Addr: p.ComponentAddr, Domain: gwDomain, Secret: gwSecret,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, nil)
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- conn.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	})
	if err := conn.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	// Discovery. With gosrc's disco#info type the data form is lost, so
	// the maximum is unknown; with a form-keeping type registered for
	// disco#info (xep.DiscoInfo) it is read from the XEP-0128 form.
	svc, max, err := media.Discover(ctx, conn, gwDomain, p.Domain)
	if err != nil || svc != "upload.example.test" {
		t.Fatalf("Discover: %q, %v", svc, err)
	}
	t.Logf("discovered %s, max-file-size %d with the registry as it is", svc, max)
	discoName := xml.Name{Space: "http://jabber.org/protocol/disco#info", Local: "query"}
	if _, plain := stanza.TypeRegistry.GetIQExtension(discoName).(*stanza.DiscoInfo); plain {
		if max != 0 {
			t.Errorf("max-file-size %d through gosrc's disco#info type", max)
		}
		stanza.TypeRegistry.MapExtension(stanza.PKTIQ, discoName, xep.DiscoInfo{})
		t.Cleanup(func() { stanza.TypeRegistry.MapExtension(stanza.PKTIQ, discoName, stanza.DiscoInfo{}) })
		svc, max, err = media.Discover(ctx, conn, gwDomain, p.Domain)
	}
	if err != nil || svc != "upload.example.test" || max != uploadLimit {
		t.Fatalf("Discover with a form-keeping disco#info type: %q, %d, %v", svc, max, err)
	}

	// A round trip of real bytes through the discovered service.
	up := media.NewHTTPUpload(conn, gwDomain, svc, nil)
	data := randomBytes(t, 300_000)
	u, err := up.Upload(ctx, media.Upload{Owner: "alice@example.test", Name: "round trip.png", MIMEType: "image/png", Size: int64(len(data)), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "http://"+p.HTTPAddr+"/file_share/") || !strings.HasSuffix(u, "/round_trip.png") {
		t.Errorf("GET URL %s", u)
	}
	resp, got := download(t, ctx, u)
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("served as %q", ct)
	}
	// The hub's Fetcher reads the same URL the way it reads what XMPP
	// users upload (Prosody's Content-Disposition names the file).
	fetched, err := (&gmedia.Fetcher{MaxSize: uploadLimit, AllowPrivate: true}).Fetch(ctx, u)
	var content []byte
	if err == nil {
		defer fetched.Close()
		var rc io.ReadCloser
		if rc, err = fetched.Open(ctx); err == nil {
			content, err = io.ReadAll(rc)
			rc.Close()
		}
	}
	if err != nil {
		t.Errorf("Fetcher: %v", err)
	} else if !bytes.Equal(content, data) || fetched.Name != "round_trip.png" || fetched.MIMEType != "image/png" {
		t.Errorf("Fetcher: %d bytes, name %q, type %q", fetched.Size, fetched.Name, fetched.MIMEType)
	}

	// Refusals, mapped to the package's errors.
	tooBig := media.Upload{Name: "big.bin", Size: uploadLimit + 1, Body: bytes.NewReader(make([]byte, uploadLimit+1))}
	if _, err := up.Upload(ctx, tooBig); !errors.Is(err, media.ErrFileTooLarge) {
		t.Errorf("over the limit: %v, want ErrFileTooLarge", err)
	} else {
		t.Logf("over the limit: %v", err)
	}
	small := func() media.Upload {
		return media.Upload{Name: "note.txt", MIMEType: "text/plain", Size: 5, Body: strings.NewReader("hello")}
	}
	granted := media.NewHTTPUpload(conn, gwDomain, "granted-upload.test", nil)
	if u, err := granted.Upload(ctx, small()); err != nil {
		t.Errorf("service listing the component in http_file_share_access: %v", err)
	} else if _, got := download(t, ctx, u); string(got) != "hello" {
		t.Errorf("granted-upload.test served %q", got)
	}
	locked := media.NewHTTPUpload(conn, gwDomain, "locked-upload.test", nil)
	_, err = locked.Upload(ctx, small())
	if !errors.Is(err, media.ErrForbidden) {
		t.Errorf("service not listing the component: %v, want ErrForbidden", err)
	} else {
		t.Logf("locked service: %v", err)
	}
	// A JID that is no host of this server is a remote domain; with s2s
	// off Prosody answers not-allowed ("Communication with remote domains
	// is not enabled").
	missing := media.NewHTTPUpload(conn, gwDomain, "nothing.example.test", nil)
	if _, err := missing.Upload(ctx, small()); !errors.Is(err, media.ErrForbidden) {
		t.Errorf("no such service: %v, want ErrForbidden", err)
	} else {
		t.Logf("no such service: %v", err)
	}

	// A refused slot falls back to the built-in file host, body intact.
	host, err := media.NewFileHost(media.FileHostConfig{Dir: t.TempDir(), PublicURL: "http://127.0.0.1/unused/", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	fbURL, err := media.Fallback{Primary: locked, Secondary: host}.Upload(ctx, media.Upload{Name: "fallback.bin", Size: int64(len(data)), Body: bytes.NewReader(data)})
	if err != nil || !strings.HasPrefix(fbURL, "http://127.0.0.1/unused/") {
		t.Fatalf("fallback: %q %v", fbURL, err)
	}
	rec := &recorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, fbURL, nil)
	host.Handler().ServeHTTP(rec, req)
	if rec.status != 0 && rec.status != 200 || !bytes.Equal(rec.body.Bytes(), data) {
		t.Errorf("fallback file: status %d, %d bytes", rec.status, rec.body.Len())
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t *testing.T, ctx context.Context, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
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
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return resp, b
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }
