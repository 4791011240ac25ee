package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pngHeader is the start of a PNG file, enough for http.DetectContentType.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func TestFetchOK(t *testing.T) {
	body := append(append([]byte{}, pngHeader...), bytes.Repeat([]byte{7}, 1000)...)
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.UserAgent(), "Drawbridge") {
			t.Errorf("request %s, UA %q", r.Method, r.UserAgent())
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(body)
	})
	f := &Fetcher{MaxSize: 4096, AllowPrivate: true}
	file, err := f.Fetch(testCtx(t), s.URL+"/upload/abc/holiday%20photo.png")
	if err != nil {
		t.Fatal(err)
	}
	if data := content(t, file); !bytes.Equal(data, body) || file.Size != int64(len(body)) {
		t.Errorf("got %d bytes, size %d", len(data), file.Size)
	}
	if file.Name != "holiday photo.png" || file.MIMEType != "image/png" || file.DeclaredType != "image/png" {
		t.Errorf("file %+v", file)
	}
	rc, err := file.Open(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(rc)
	rc.Close()
	if !bytes.Equal(got.Bytes(), body) {
		t.Error("Open returned other bytes")
	}
	// Exactly MaxSize is fine.
	f2 := &Fetcher{MaxSize: int64(len(body)), AllowPrivate: true}
	if _, err := f2.Fetch(testCtx(t), s.URL+"/x"); err != nil {
		t.Errorf("a file of exactly MaxSize: %v", err)
	}
}

func TestFetchNameAndType(t *testing.T) {
	text := []byte("just some words\n")
	for _, tc := range []struct {
		name        string
		path        string
		ctype       *string // nil: no Content-Type header at all
		disposition string
		body        []byte
		wantName    string
		wantType    string
	}{
		{"declared specific", "/f/a.bin", ptr("audio/ogg; codecs=opus"), "", text, "a.bin", "audio/ogg"},
		{"declared upper case", "/f/a", ptr("Image/JPEG"), "", text, "a", "image/jpeg"},
		{"generic type is sniffed", "/f/pic", ptr("application/octet-stream"), "", pngHeader, "pic", "image/png"},
		{"binary/octet-stream is sniffed", "/f/pic", ptr("binary/octet-stream"), "", pngHeader, "pic", "image/png"},
		{"missing type is sniffed", "/f/notes.txt", nil, "", text, "notes.txt", "text/plain"},
		{"unparsable type is sniffed", "/f/p", ptr("garbage;;"), "", pngHeader, "p", "image/png"},
		{"unknown content stays octet-stream", "/f/blob", nil, "", []byte{0, 1, 2, 3, 0xfe}, "blob", "application/octet-stream"},
		{"escaped unicode segment", "/f/%E2%9C%93%20done.txt", ptr("text/plain"), "", text, "✓ done.txt", "text/plain"},
		{"disposition wins", "/f/slot-id", ptr("text/plain"), `attachment; filename="report.txt"`, text, "report.txt", "text/plain"},
		{"RFC 5987 disposition", "/f/x", ptr("text/plain"), `inline; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`, text, "résumé.txt", "text/plain"},
		{"disposition path is stripped", "/f/x", ptr("text/plain"), `attachment; filename="../../etc/passwd"`, text, "passwd", "text/plain"},
		{"bad disposition falls back to URL", "/f/y.txt", ptr("text/plain"), `attachment; filename=`, text, "y.txt", "text/plain"},
		{"directory URL has no name", "/f/", ptr("text/plain"), "", text, "", "text/plain"},
		{"hidden name loses its dots", "/f/..secret", ptr("text/plain"), "", text, "secret", "text/plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype == nil {
					w.Header()["Content-Type"] = nil // stop net/http from sniffing
				} else {
					w.Header().Set("Content-Type", *tc.ctype)
				}
				if tc.disposition != "" {
					w.Header().Set("Content-Disposition", tc.disposition)
				}
				w.Write(tc.body)
			})
			f := &Fetcher{MaxSize: 1 << 20, AllowPrivate: true}
			file, err := f.Fetch(testCtx(t), s.URL+tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if file.Name != tc.wantName || file.MIMEType != tc.wantType {
				t.Errorf("name %q type %q, want %q %q", file.Name, file.MIMEType, tc.wantName, tc.wantType)
			}
			want := ""
			if tc.ctype != nil {
				want = *tc.ctype
			}
			if file.DeclaredType != want {
				t.Errorf("declared %q, want %q", file.DeclaredType, want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestFetchNameFromOriginalURLAfterRedirect(t *testing.T) {
	var s *httptest.Server
	s = serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/share/cat.gif" {
			http.Redirect(w, r, s.URL+"/blob/8f3a9c", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a"))
	})
	file, err := (&Fetcher{MaxSize: 100, AllowPrivate: true}).Fetch(testCtx(t), s.URL+"/share/cat.gif")
	if err != nil {
		t.Fatal(err)
	}
	if file.Name != "cat.gif" || file.MIMEType != "image/gif" {
		t.Errorf("file %+v", file)
	}
}

func TestFetchSizeCap(t *testing.T) {
	const max = 1000
	big := bytes.Repeat([]byte("x"), max+1)
	withLength := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		w.WriteHeader(http.StatusOK)
		w.Write(big)
	})
	chunked := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.(http.Flusher).Flush() // headers out before any body: no Content-Length
		for i := 0; i < len(big); i += 100 {
			w.Write(big[i:min(i+100, len(big))])
			w.(http.Flusher).Flush()
		}
	})
	small := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Write(big[:10])
	})
	f := &Fetcher{MaxSize: max, AllowPrivate: true}
	for name, u := range map[string]string{"Content-Length": withLength.URL, "chunked": chunked.URL} {
		_, err := f.Fetch(testCtx(t), u+"/big")
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", name, err)
		}
	}
	if file, err := f.Fetch(testCtx(t), small.URL+"/small"); err != nil || file.Size != 10 {
		t.Errorf("small file: %v", err)
	}
	if _, err := (&Fetcher{AllowPrivate: true}).Fetch(testCtx(t), small.URL); err == nil {
		t.Error("a Fetcher without MaxSize fetched")
	}
}

func TestFetchTimeout(t *testing.T) {
	beforeHeaders := serve(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	midBody := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	f := &Fetcher{MaxSize: 1000, Timeout: 200 * time.Millisecond, AllowPrivate: true}
	for name, u := range map[string]string{"before headers": beforeHeaders.URL, "mid body": midBody.URL} {
		start := time.Now()
		_, err := f.Fetch(testCtx(t), u)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("%s: err = %v, want a timeout", name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	// The caller's own cancellation is reported as such, not as a timeout.
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if _, err := f.Fetch(ctx, beforeHeaders.URL); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestFetchStatus(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/partial":
			w.WriteHeader(http.StatusPartialContent)
		default:
			http.NotFound(w, r)
		}
	})
	f := &Fetcher{MaxSize: 1000, AllowPrivate: true}
	for path, code := range map[string]int{"/missing/secret-token": 404, "/gone": 410, "/partial": 206} {
		_, err := f.Fetch(testCtx(t), s.URL+path)
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != code || !errors.Is(err, ErrBadStatus) {
			t.Errorf("%s: err = %v", path, err)
		}
		if strings.Contains(err.Error(), "secret-token") || !strings.HasSuffix(se.URL, path) {
			t.Errorf("error text %q, URL %q: the path must be in the field only", err, se.URL)
		}
	}
}

func TestFetchRedirectLimit(t *testing.T) {
	var s *httptest.Server
	s = serve(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("%s/hop/%d", s.URL, n-1), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("arrived"))
	})
	f := &Fetcher{MaxSize: 1000, AllowPrivate: true}
	if file, err := f.Fetch(testCtx(t), s.URL+"/hop/3"); err != nil || string(content(t, file)) != "arrived" {
		t.Errorf("3 redirects: %v", err)
	}
	if _, err := f.Fetch(testCtx(t), s.URL+"/hop/4"); !errors.Is(err, ErrBadURL) {
		t.Errorf("4 redirects: err = %v, want ErrBadURL", err)
	}
}

func TestFetchRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	private := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("internal secrets"))
	})
	pu, _ := url.Parse(private.URL)
	f := &Fetcher{MaxSize: 1000}
	for _, u := range []string{
		private.URL + "/x",                              // literal loopback
		"http://localhost:" + pu.Port() + "/x",          // a name that resolves to loopback: refused at dial time
		"http://[::ffff:127.0.0.1]:" + pu.Port() + "/x", // 4in6
		"http://0.0.0.0:" + pu.Port() + "/x",            // unspecified
		"http://169.254.169.254/latest/meta-data/",      // link-local metadata endpoint
	} {
		_, err := f.Fetch(testCtx(t), u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: err = %v, want ErrForbiddenAddress", u, err)
		}
	}

	// A "public" server (exempted through the test hook) redirects to the
	// private one: the redirect is refused, both as a literal and by name.
	public := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-literal":
			http.Redirect(w, r, private.URL+"/x", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, "http://localhost:"+pu.Port()+"/x", http.StatusFound)
		default:
			w.Write([]byte("public content"))
		}
	})
	pubAddr := netip.MustParseAddrPort(strings.TrimPrefix(public.URL, "http://"))
	f = &Fetcher{MaxSize: 1000, allowAddr: func(ap netip.AddrPort) bool { return ap == pubAddr }}
	if file, err := f.Fetch(testCtx(t), public.URL+"/ok"); err != nil || string(content(t, file)) != "public content" {
		t.Fatalf("the exempted server: %v", err)
	}
	for _, p := range []string{"/to-literal", "/to-name"} {
		if _, err := f.Fetch(testCtx(t), public.URL+p); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: err = %v, want ErrForbiddenAddress", p, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}

	// AllowPrivate lets it through.
	if _, err := (&Fetcher{MaxSize: 1000, AllowPrivate: true}).Fetch(testCtx(t), private.URL+"/x"); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

func TestFetchBadURLs(t *testing.T) {
	f := &Fetcher{MaxSize: 1000, AllowPrivate: true}
	for _, u := range []string{
		"ftp://example.org/file",
		"file:///etc/passwd",
		"gopher://example.org/",
		"http://",
		"http:///path",
		"/relative/path",
		"mailto:someone@example.org",
		"http://user:pass@example.org/file",
		"http://exa mple.org/",
		"",
	} {
		if _, err := f.Fetch(testCtx(t), u); !errors.Is(err, ErrBadURL) {
			t.Errorf("%q: err = %v, want ErrBadURL", u, err)
		}
	}
}

func TestFetchAllowedTypes(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<html>"))
		case "/sniffed-html":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("<!DOCTYPE html><html><body>hi</body></html>"))
		case "/sniffed-png":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(pngHeader)
		default:
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte{0xff, 0xd8, 0xff})
		}
	})
	f := &Fetcher{MaxSize: 1000, AllowPrivate: true, AllowedTypes: []string{"image/*", "audio/ogg"}}
	for path, ok := range map[string]bool{"/page": false, "/sniffed-html": false, "/sniffed-png": true, "/photo": true} {
		_, err := f.Fetch(testCtx(t), s.URL+path)
		if ok && err != nil || !ok && !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("%s: err = %v", path, err)
		}
	}
}

func TestMatchType(t *testing.T) {
	for _, tc := range []struct {
		mt       string
		patterns []string
		want     bool
	}{
		{"image/png", []string{"image/png"}, true},
		{"IMAGE/PNG", []string{"image/png"}, true},
		{"image/png; q=1", []string{"image/*"}, true},
		{"image/png", []string{"video/*", "image/*"}, true},
		{"image/png", []string{"*/*"}, true},
		{"image/png", []string{"*"}, true},
		{"image/png", []string{"image/jpeg"}, false},
		{"image/png", nil, false},
		{"imagepng", []string{"*/*"}, false},
		{"application/pdf", []string{"application/*"}, true},
		{"audio/ogg", []string{"audio/ogg"}, true},
		{"audio/ogg", []string{"audio/mpeg"}, false},
	} {
		if got := MatchType(tc.mt, tc.patterns); got != tc.want {
			t.Errorf("MatchType(%q, %q) = %v", tc.mt, tc.patterns, got)
		}
	}
}

func TestShortenName(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want string
	}{
		{"short.txt", 20, "short.txt"},
		{"abcdefgh.txt", 8, "abcd.txt"},
		{"ééé.txt", 7, "é.txt"}, // é is two bytes: never split
		{"abcdefgh", 4, "abcd"},
		{"a" + strings.Repeat("b", 20) + ".extensionlongerthan16", 10, "abbbbbbbbb"},
		{"abc.txt", 3, "abc"}, // no room for the extension
		{"abc.txt", 0, ""},
		{"abc.txt", -1, ""},
	} {
		if got := ShortenName(tc.name, tc.n); got != tc.want || len(got) > max(tc.n, 0) {
			t.Errorf("ShortenName(%q, %d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".jpeg"
	for in, want := range map[string]string{
		"photo.jpg":          "photo.jpg",
		"a/b/c.txt":          "c.txt",
		`C:\Users\x\doc.pdf`: "doc.pdf",
		"  spaced  ":         "spaced",
		"...":                "",
		"..":                 "",
		"":                   "",
		"bell\a\x00name.txt": "bellname.txt",
		"rtl\u202egpj.exe":   "rtlgpj.exe",
		"bad\xffutf8":        "badutf8",
		".bashrc":            "bashrc",
		" . .profile ":       "profile",
	} {
		if got := SanitizeName(in); got != want {
			t.Errorf("SanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
	got := SanitizeName(long)
	if len(got) > maxNameBytes || !strings.HasSuffix(got, "é.jpeg") {
		t.Errorf("long name → %d bytes %q", len(got), got)
	}
}

// TestFetchNumericHostsNotResolved: hosts that only look like numbers are
// refused before any lookup or connection (issue 21, Low: 2130706433 and
// 0x7f000001 caused DNS queries).
func TestFetchNumericHostsNotResolved(t *testing.T) {
	var dials atomic.Int32
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, errors.New("no network in this test")
		},
	}}
	for _, allowPrivate := range []bool{false, true} {
		f := &Fetcher{MaxSize: 1000, Client: client, AllowPrivate: allowPrivate}
		for _, host := range []string{"2130706433", "0x7f000001", "0X7F.1", "0177.0.0.1", "127.1", "10.0.0.0.1", "017700000001", "a.0x10", "2130706433."} {
			_, err := f.Fetch(testCtx(t), "http://"+host+":8080/x")
			if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), "dotted") {
				t.Errorf("%s (AllowPrivate %v): err = %v, want ErrForbiddenAddress", host, allowPrivate, err)
			}
		}
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d connections were attempted", n)
	}
	for host, want := range map[string]bool{
		"example.org": false, "1.example": false, "0x.example": false, "127.0.0.1": false, "::1": false,
		"8.8.8.8": false, "deadbeef": false, "0xdeadbeef": true, "1e100": false, "99": true,
	} {
		if got := numericHost(host); got != want {
			t.Errorf("numericHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestFetchRemoteFaults: a host that does not resolve or refuses the
// connection is ErrUnreachable, not an internal error (issue 21, Low).
func TestFetchRemoteFaults(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	f := &Fetcher{MaxSize: 1000, AllowPrivate: true}
	if _, err := f.Fetch(testCtx(t), "http://"+closed+"/x"); !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTimeout) {
		t.Errorf("connection refused: %v, want ErrUnreachable", err)
	}
	noDNS := &net.Dialer{Resolver: &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server in this test")
	}}}
	f = &Fetcher{MaxSize: 1000, Client: &http.Client{Transport: &http.Transport{DialContext: noDNS.DialContext}}}
	_, err = f.Fetch(testCtx(t), "http://files.example.invalid/x")
	var dns *net.DNSError
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, &dns) || !strings.Contains(err.Error(), "files.example.invalid") {
		t.Errorf("unresolvable host: %v, want ErrUnreachable naming the host", err)
	}
}
