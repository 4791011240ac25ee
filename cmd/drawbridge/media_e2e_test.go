package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// uploadService is Prosody 0.12's own XEP-0363 service as an internal
// component; http_host points its URLs at the loopback listener.
const uploadService = `
Component "upload.example.test" "http_file_share"
	http_host = "127.0.0.1"
	http_file_share_size_limit = 10485760
`

// noisePNG is a real PNG of a few hundred kilobytes (noise compresses badly).
func noisePNG(t *testing.T, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var oobURL = regexp.MustCompile(`<x xmlns="jabber:x:oob"><url>([^<]+)</url>`)

// TestMediaRoundTrip sends a real file to the echo bot and gets it back,
// bytes compared at every hop: once through a plain web server and the
// gateway's own file host, once through Prosody's HTTP upload service
// (mod_http_file_share) in both directions.
func TestMediaRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name          string
		prosodyUpload bool
	}{
		{"file host", false},
		{"prosody http_file_share", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := xmpptest.ProsodyOptions{}
			if tc.prosodyUpload {
				opts.HTTP, opts.ExtraSections = true, uploadService
			}
			e := startE2EConfig(t, config.BackendSQLite, opts, nil)
			u := e.user("alice")
			linkByChat(t, u)
			data := noisePNG(t, 7)

			var getURL string
			if tc.prosodyUpload {
				getURL = uploadToProsody(t, u, "photo.png", "image/png", data)
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "image/png")
					_, _ = w.Write(data)
				}))
				t.Cleanup(srv.Close)
				getURL = srv.URL + "/photo.png"
			}
			u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='f1'><body>%s</body><x xmlns='jabber:x:oob'><url>%s</url></x></message>`, echoJID, getURL, getURL))

			// XMPP → platform: the bot has the exact bytes.
			waitFor(t, "the file on the platform", func() bool {
				for _, m := range e.app.sandbox.Platform().Received(sandbox.EchoBot) {
					if len(m.Attachments) == 1 && bytes.Equal(m.Attachments[0].Data, data) {
						return true
					}
				}
				return false
			})

			// Platform → XMPP: the echo arrives as a URL with OOB data.
			s := u.waitRaw("the echoed file", `from="`+echoJID, `<x xmlns="jabber:x:oob">`)
			match := oobURL.FindStringSubmatch(s.Raw)
			if match == nil {
				t.Fatalf("no OOB URL in %s", s.Raw)
			}
			back := match[1]
			wantHost := e.prosody.HTTPAddr + "/file_share/"
			if !tc.prosodyUpload {
				wantHost = e.app.files.ln.Addr().String() + "/" // set once running
			}
			if !strings.Contains(back, wantHost) {
				t.Errorf("echoed file at %s, want it under %s", back, wantHost)
			}
			res, err := http.Get(back)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || !bytes.Equal(got, data) {
				t.Fatalf("download of the echo: %s, %d bytes, equal=%v", res.Status, len(got), bytes.Equal(got, data))
			}
		})
	}
}

// TestMediaRefusals: files the platform cannot take are refused with
// not-acceptable before anything reaches it.
func TestMediaRefusals(t *testing.T) {
	e := startE2EConfig(t, config.BackendSQLite, xmpptest.ProsodyOptions{}, nil)
	u := e.user("alice")
	linkByChat(t, u)
	big := bytes.Repeat([]byte("x"), int(sandbox.DefaultMaxFileSize)+1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(big)
		case "/archive.zip":
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write([]byte("PK\x03\x04 not really"))
		}
	}))
	t.Cleanup(srv.Close)
	for i, path := range []string{"/big.png", "/archive.zip"} {
		id := fmt.Sprintf("refused%d", i)
		u.raw(fmt.Sprintf(`<message type='chat' to='%s' id='%s'><body>%s%s</body><x xmlns='jabber:x:oob'><url>%s%s</url></x></message>`, echoJID, id, srv.URL, path, srv.URL, path))
		expectError(t, u, id, "not-acceptable")
	}
	if n := len(e.app.sandbox.Platform().Received(sandbox.EchoBot)); n != 0 {
		t.Errorf("the platform received %d messages, want none", n)
	}
}

// uploadToProsody does what an XMPP client does with XEP-0363: ask the
// server's upload service for a slot, PUT the file, and return the GET URL.
func uploadToProsody(t *testing.T, u *user, name, mimeType string, data []byte) string {
	t.Helper()
	slot := u.iq("get", "upload.example.test", fmt.Sprintf(`<request xmlns='urn:xmpp:http:upload:0' filename='%s' size='%d' content-type='%s'/>`, name, len(data), mimeType))
	put := regexp.MustCompile(`<put url="([^"]+)"`).FindStringSubmatch(slot.Raw)
	get := regexp.MustCompile(`<get url="([^"]+)"`).FindStringSubmatch(slot.Raw)
	if put == nil || get == nil {
		t.Fatalf("no upload slot: %s", slot.Raw)
	}
	req, err := http.NewRequest(http.MethodPut, strings.ReplaceAll(put[1], "&amp;", "&"), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mimeType)
	for _, h := range regexp.MustCompile(`<header name="([^"]+)">([^<]*)</header>`).FindAllStringSubmatch(slot.Raw, -1) {
		req.Header.Set(h[1], h[2])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", res.Status)
	}
	return strings.ReplaceAll(get[1], "&amp;", "&")
}
