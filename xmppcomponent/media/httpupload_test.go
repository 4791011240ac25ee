package media

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// fakeSender answers IQs with raw XML decoded the way the component's
// connection decodes it (stanza's registry), or with a reply built in Go.
type fakeSender struct {
	mu     sync.Mutex
	sent   []string // the requests as XML
	answer func(iq *stanza.IQ) (raw string, reply *stanza.IQ)
}

func (f *fakeSender) SendIQ(ctx context.Context, iq *stanza.IQ) (*stanza.IQ, error) {
	b, err := xml.Marshal(iq)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.sent = append(f.sent, string(b))
	f.mu.Unlock()
	raw, reply := f.answer(iq)
	if raw == "" && reply == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if reply == nil {
		reply = new(stanza.IQ)
		raw = strings.NewReplacer("$ID", iq.Id, "$TO", iq.From, "$FROM", iq.To).Replace(raw)
		if err := xml.Unmarshal([]byte(raw), reply); err != nil {
			return nil, fmt.Errorf("test reply %q: %w", raw, err)
		}
	}
	if reply.Type == stanza.IQTypeError {
		return reply, errors.New("iq error") // like *stream.IQError
	}
	return reply, nil
}

func (f *fakeSender) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// putServer is an upload endpoint that records PUTs and serves them back.
type putServer struct {
	*httptest.Server
	mu      sync.Mutex
	headers http.Header
	files   map[string][]byte
	status  int
}

func newPutServer(t *testing.T) *putServer {
	ps := &putServer{files: map[string][]byte{}, status: http.StatusCreated}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		switch r.Method {
		case http.MethodPut:
			ps.headers = r.Header.Clone()
			b, _ := io.ReadAll(r.Body)
			if r.ContentLength != int64(len(b)) {
				http.Error(w, "length", http.StatusBadRequest)
				return
			}
			ps.files[r.URL.Path] = b
			w.WriteHeader(ps.status)
		case http.MethodGet:
			b, ok := ps.files[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		}
	}))
	t.Cleanup(ps.Close)
	return ps
}

func slotReply(put, get string, headers string) string {
	return `<iq type='result' id='$ID' from='$FROM' to='$TO'><slot xmlns='urn:xmpp:http:upload:0'>` +
		`<put url='` + put + `'>` + headers + `</put><get url='` + get + `'/></slot></iq>`
}

func TestHTTPUploadRoundTrip(t *testing.T) {
	ps := newPutServer(t)
	fs := &fakeSender{answer: func(iq *stanza.IQ) (string, *stanza.IQ) {
		return slotReply(ps.URL+"/put/slot1/photo.jpg", ps.URL+"/put/slot1/photo.jpg",
			`<header name='Authorization'>Bearer tok&#10;en</header>`+
				`<header name='cookie'>c=1</header>`+
				`<header name='Expires'>Wed, 21 Oct 2026 07:28:00 GMT</header>`+
				`<header name='X-Injected'>evil</header>`+
				`<header name='Host'>other.example</header>`), nil
	}}
	data := bytes.Repeat([]byte("jpeg"), 1000)
	up := NewHTTPUpload(fs, "gw.example.test", "upload.example.test", nil)
	got, err := up.Upload(testCtx(t), Upload{Owner: "alice@example.test", Name: "my photo.jpg", MIMEType: "image/jpeg", Size: int64(len(data)), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if got != ps.URL+"/put/slot1/photo.jpg" {
		t.Errorf("URL %s", got)
	}
	if !bytes.Equal(ps.files["/put/slot1/photo.jpg"], data) {
		t.Error("the PUT carried other bytes")
	}
	h := ps.headers
	if h.Get("Authorization") != "Bearer token" || h.Get("Cookie") != "c=1" || h.Get("Expires") == "" ||
		h.Get("X-Injected") != "" || h.Get("Content-Type") != "image/jpeg" {
		t.Errorf("PUT headers %v", h)
	}
	reqs := fs.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests %v", reqs)
	}
	for _, want := range []string{
		`type="get"`, `from="gw.example.test"`, `to="upload.example.test"`,
		`<request xmlns="urn:xmpp:http:upload:0" filename="my_photo.jpg" size="4000" content-type="image/jpeg">`,
	} {
		if !strings.Contains(reqs[0], want) {
			t.Errorf("request %s lacks %s", reqs[0], want)
		}
	}
}

func TestHTTPUploadSlotErrors(t *testing.T) {
	errReply := func(typ, cond, text, extra string) string {
		s := `<iq type='error' id='$ID' from='$FROM' to='$TO'><request xmlns='urn:xmpp:http:upload:0' filename='f' size='1'/>` +
			`<error type='` + typ + `'><` + cond + ` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>`
		if text != "" {
			s += `<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>` + text + `</text>`
		}
		return s + extra + `</error></iq>`
	}
	tooLarge := `<file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>1000</max-file-size></file-too-large>`
	for _, tc := range []struct {
		name  string
		reply string
		want  error
	}{
		{"Prosody too large", errReply("modify", "not-acceptable", "File too large", tooLarge), ErrFileTooLarge},
		{"ejabberd too large", errReply("modify", "not-acceptable", "File larger than 1000 bytes", tooLarge), ErrFileTooLarge},
		{"type refused", errReply("modify", "not-acceptable", "File type not allowed", ""), ErrNotAcceptable},
		{"bad name", errReply("modify", "bad-request", "Invalid filename", ""), ErrNotAcceptable},
		{"daily quota", errReply("wait", "resource-constraint", "Daily quota reached", ""), ErrQuota},
		{"forbidden", errReply("auth", "forbidden", "", ""), ErrForbidden},
		{"not-allowed", errReply("cancel", "not-allowed", "", ""), ErrForbidden},
		{"no such service", errReply("cancel", "service-unavailable", "", ""), ErrNoService},
		{"other", errReply("wait", "internal-server-error", "", ""), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeSender{answer: func(*stanza.IQ) (string, *stanza.IQ) { return tc.reply, nil }}
			up := NewHTTPUpload(fs, "gw.example.test", "upload.example.test", nil)
			_, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 1, Body: strings.NewReader("x")})
			var se *SlotError
			if !errors.As(err, &se) || se.Service != "upload.example.test" {
				t.Fatalf("err = %v, want a *SlotError", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && se.Unwrap() != nil {
				t.Errorf("err %v maps to %v", err, se.Unwrap())
			}
		})
	}
	// A known maximum decides without the text.
	fs := &fakeSender{answer: func(*stanza.IQ) (string, *stanza.IQ) {
		return errReply("modify", "not-acceptable", "", tooLarge), nil
	}}
	up := NewHTTPUpload(fs, "gw.example.test", "upload.example.test", nil)
	up.MaxFileSize = 10
	if _, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 11, Body: strings.NewReader("01234567890")}); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("over MaxFileSize: %v", err)
	}
	if n := len(fs.requests()); n != 0 {
		t.Errorf("%d slot requests for a file over the known maximum", n)
	}
}

func TestHTTPUploadFailures(t *testing.T) {
	ps := newPutServer(t)
	good := func(*stanza.IQ) (string, *stanza.IQ) { return slotReply(ps.URL+"/p/f", ps.URL+"/p/f", ""), nil }
	up := NewHTTPUpload(&fakeSender{answer: good}, "gw.example.test", "upload.example.test", nil)

	// The PUT is refused.
	ps.mu.Lock()
	ps.status = http.StatusRequestEntityTooLarge
	ps.mu.Unlock()
	_, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 1, Body: strings.NewReader("x")})
	var pe *PutError
	if !errors.As(err, &pe) || pe.StatusCode != 413 || !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("413: %v", err)
	}
	ps.mu.Lock()
	ps.status = http.StatusForbidden
	ps.mu.Unlock()
	if _, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 1, Body: strings.NewReader("x")}); !errors.As(err, &pe) || pe.StatusCode != 403 {
		t.Errorf("403: %v", err)
	}
	ps.mu.Lock()
	ps.status = http.StatusOK
	ps.mu.Unlock()
	// A short body.
	if _, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 10, Body: strings.NewReader("short")}); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("short body: %v", err)
	}
	// An empty file.
	if _, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 0, Body: strings.NewReader("")}); err != nil {
		t.Errorf("empty file: %v", err)
	}
	// Unusable slots.
	for _, reply := range []string{
		slotReply("ftp://x/y", "https://x/y", ""),
		slotReply("https://x/y", "", ""),
		`<iq type='result' id='$ID' from='$FROM' to='$TO'/>`,
	} {
		up := NewHTTPUpload(&fakeSender{answer: func(*stanza.IQ) (string, *stanza.IQ) { return reply, nil }}, "gw.example.test", "u", nil)
		if _, err := up.Upload(testCtx(t), Upload{Name: "f", Size: 1, Body: strings.NewReader("x")}); err == nil {
			t.Errorf("slot %s accepted", reply)
		}
	}
	// No answer at all: the caller's context decides.
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	silent := NewHTTPUpload(&fakeSender{answer: func(*stanza.IQ) (string, *stanza.IQ) { return "", nil }}, "gw.example.test", "u", nil)
	if _, err := silent.Upload(ctx, Upload{Name: "f", Size: 1, Body: strings.NewReader("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("no answer: %v", err)
	}
}

// discoServer answers disco queries like a server with an upload
// component; withForm builds disco#info replies that keep the XEP-0128
// form (the payload type a form-keeping registry would produce).
func discoServer(withForm bool) func(iq *stanza.IQ) (string, *stanza.IQ) {
	return func(iq *stanza.IQ) (string, *stanza.IQ) {
		switch iq.Payload.(type) {
		case *stanza.DiscoItems:
			if iq.To != "example.test" {
				return `<iq type='error' id='$ID' from='$FROM' to='$TO'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, nil
			}
			return `<iq type='result' id='$ID' from='$FROM' to='$TO'><query xmlns='http://jabber.org/protocol/disco#items'>` +
				`<item jid='gw.example.test'/><item jid='conference.example.test'/><item jid='example.test' node='x'/>` +
				`<item jid='upload.example.test' name='HTTP File Upload'/><item jid='second-upload.example.test'/></query></iq>`, nil
		case *stanza.DiscoInfo:
			switch iq.To {
			case "gw.example.test":
				panic("Discover asked the component itself")
			case "upload.example.test", "second-upload.example.test":
				if withForm {
					di := &xep.DiscoInfo{}
					di.AddIdentity("HTTP File Upload", "store", "file")
					di.AddFeatures("http://jabber.org/protocol/disco#info", NSHTTPUpload)
					di.Forms = []xep.Form{{Type: "result", Fields: []xep.Field{
						{Var: "FORM_TYPE", Type: "hidden", Values: []string{NSHTTPUpload}},
						{Var: "max-file-size", Values: []string{"1048576"}},
					}}}
					return "", &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeResult, Id: iq.Id, From: iq.To, To: iq.From}, Payload: di}
				}
				return `<iq type='result' id='$ID' from='$FROM' to='$TO'><query xmlns='http://jabber.org/protocol/disco#info'>` +
					`<identity category='store' type='file'/><feature var='urn:xmpp:http:upload:0'/>` +
					`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>` +
					`<field var='max-file-size'><value>1048576</value></field></x></query></iq>`, nil
			case "conference.example.test":
				return "", nil // never answers: the per-query timeout or ctx ends it
			}
			return `<iq type='result' id='$ID' from='$FROM' to='$TO'><query xmlns='http://jabber.org/protocol/disco#info'>` +
				`<identity category='server' type='im'/><feature var='http://jabber.org/protocol/disco#info'/></query></iq>`, nil
		}
		return "", nil
	}
}

func TestDiscover(t *testing.T) {
	// gosrc's registry drops the form: the service is found, its maximum
	// is not known (unless a form-keeping type has been registered for
	// disco#info since this was written).
	wantMax := int64(0)
	if _, plain := stanza.TypeRegistry.GetIQExtension(xml.Name{Space: nsDiscoInfo, Local: "query"}).(*stanza.DiscoInfo); !plain {
		wantMax = 1048576
	}
	svc, max, err := Discover(testCtx(t), &fakeSender{answer: discoServerSkippingSilent(false)}, "gw.example.test", "example.test")
	if err != nil || svc != "upload.example.test" || max != wantMax {
		t.Errorf("registry as is: %q %d %v", svc, max, err)
	}
	// A payload type that keeps forms gives the maximum.
	svc, max, err = Discover(testCtx(t), &fakeSender{answer: discoServerSkippingSilent(true)}, "gw.example.test", "example.test")
	if err != nil || svc != "upload.example.test" || max != 1048576 {
		t.Errorf("form-keeping payload: %q %d %v", svc, max, err)
	}
	// Nothing offers the feature.
	_, _, err = Discover(testCtx(t), &fakeSender{answer: discoServerSkippingSilent(false)}, "gw.example.test", "other.test")
	if !errors.Is(err, ErrNoService) {
		t.Errorf("no service: %v", err)
	}
}

// discoServerSkippingSilent is discoServer with the silent item answering
// item-not-found, so the test does not wait for discoTimeout.
func discoServerSkippingSilent(withForm bool) func(iq *stanza.IQ) (string, *stanza.IQ) {
	inner := discoServer(withForm)
	return func(iq *stanza.IQ) (string, *stanza.IQ) {
		if _, ok := iq.Payload.(*stanza.DiscoInfo); ok && iq.To == "conference.example.test" {
			return `<iq type='error' id='$ID' from='$FROM' to='$TO'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, nil
		}
		return inner(iq)
	}
}

func TestDiscoverStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	fs := &fakeSender{}
	fs.answer = func(iq *stanza.IQ) (string, *stanza.IQ) {
		if iq.To == "conference.example.test" {
			cancel() // the caller gives up while an item is silent
		}
		return discoServer(false)(iq)
	}
	// The order is: the server itself, gw (skipped), conference (silent).
	if _, _, err := Discover(ctx, fs, "gw.example.test", "example.test"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestDecodePayloadFromGenericNode(t *testing.T) {
	// An IQ whose payload no registered type claims lands in Any; the slot
	// is still readable from there.
	raw := `<iq type='result' id='1'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://u/p'><header name='Authorization'>a</header></put><get url='https://u/g'/></slot></iq>`
	var iq stanza.IQ
	if err := xml.Unmarshal([]byte(raw), &iq); err != nil {
		t.Fatal(err)
	}
	if _, ok := iq.Payload.(*slotXML); !ok {
		t.Fatalf("slot decoded as %T", iq.Payload)
	}
	var n stanza.Node
	if err := xml.Unmarshal([]byte(raw[strings.Index(raw, "<slot"):strings.Index(raw, "</iq>")]), &n); err != nil {
		t.Fatal(err)
	}
	var sx slotXML
	if err := decodePayload(&stanza.IQ{Any: &n}, &sx); err != nil {
		t.Fatal(err)
	}
	if sx.Put.URL != "https://u/p" || sx.Get.URL != "https://u/g" || len(sx.Put.Headers) != 1 || sx.Put.Headers[0].Value != "a" {
		t.Errorf("decoded %+v", sx)
	}
	if err := decodePayload(&stanza.IQ{}, &sx); err == nil {
		t.Error("no payload decoded")
	}
}
