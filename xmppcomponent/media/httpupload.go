package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"gosrc.io/xmpp/stanza"
)

// putHeaders are the slot headers XEP-0363 lets a client send with its PUT;
// any other header in a slot is ignored.
var putHeaders = []string{"Authorization", "Cookie", "Expires"}

// HTTPUpload uploads through an XEP-0363 HTTP upload service of the
// user's server, on the component's behalf: it asks the service for a slot
// (an IQ from the component's domain), PUTs the file, and returns the GET
// URL.
//
// The component is the uploader as far as the service is concerned, so
// the service's per-uploader limits (Prosody's daily quota, for one) apply
// to all of the gateway's users together.
type HTTPUpload struct {
	conn    IQSender
	from    string
	service string
	client  *http.Client

	// MaxFileSize, if positive, makes Upload refuse larger files with
	// ErrFileTooLarge without asking the service (set it from Discover).
	MaxFileSize int64
}

// NewHTTPUpload returns an uploader that asks service (the upload
// service's JID) for slots from the component domain from, over conn, and
// PUTs with client (nil: http.DefaultClient).
func NewHTTPUpload(conn IQSender, from, service string, client *http.Client) *HTTPUpload {
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPUpload{conn: conn, from: from, service: service, client: client}
}

// Service is the upload service's JID.
func (u *HTTPUpload) Service() string { return u.service }

// Slot is an XEP-0363 upload slot.
type Slot struct {
	// PutURL is where the file goes, with PutHeaders (only those XEP-0363
	// allows: Authorization, Cookie, Expires; newlines removed).
	PutURL     string
	PutHeaders http.Header
	// GetURL is where clients fetch it.
	GetURL string
}

// Upload implements Uploader: it requests a slot for f (name sanitized as
// for FileHost) and uploads the body. Slot refusals are *SlotError values
// wrapping ErrFileTooLarge, ErrQuota, ErrForbidden, ErrNotAcceptable or
// ErrNoService; a failed PUT is a *PutError.
func (u *HTTPUpload) Upload(ctx context.Context, f Upload) (string, error) {
	if f.Size < 0 || f.Body == nil {
		return "", errors.New("media: an Upload needs a Body and a Size >= 0")
	}
	if u.MaxFileSize > 0 && f.Size > u.MaxFileSize {
		return "", fmt.Errorf("%w: %d bytes, %s accepts %d", ErrFileTooLarge, f.Size, u.service, u.MaxFileSize)
	}
	mt := mediaType(f.MIMEType)
	slot, err := u.RequestSlot(ctx, safeName(f.Name, mt), f.Size, mt)
	if err != nil {
		return "", err
	}
	if err := u.put(ctx, slot, f, mt); err != nil {
		return "", err
	}
	return slot.GetURL, nil
}

// RequestSlot asks the service for a slot for a file of size bytes.
func (u *HTTPUpload) RequestSlot(ctx context.Context, name string, size int64, contentType string) (*Slot, error) {
	iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet, From: u.from, To: u.service})
	if err != nil {
		return nil, fmt.Errorf("media: building a slot request: %w", err)
	}
	iq.Payload = &slotRequest{Filename: name, Size: size, ContentType: contentType}
	reply, err := u.conn.SendIQ(ctx, iq)
	if reply != nil && reply.Type == stanza.IQTypeError {
		return nil, newSlotError(u.service, reply, size, u.MaxFileSize)
	}
	if err != nil {
		return nil, fmt.Errorf("media: requesting an upload slot from %s: %w", u.service, err)
	}
	var sx slotXML
	if p, ok := reply.Payload.(*slotXML); ok {
		sx = *p
	} else if err := decodePayload(reply, &sx); err != nil {
		return nil, fmt.Errorf("media: slot from %s: %w", u.service, err)
	}
	slot := &Slot{PutURL: sx.Put.URL, GetURL: sx.Get.URL, PutHeaders: http.Header{}}
	for _, h := range sx.Put.Headers {
		name := http.CanonicalHeaderKey(strings.TrimSpace(h.Name))
		for _, allowed := range putHeaders {
			if name == allowed {
				slot.PutHeaders.Add(name, stripNewlines(strings.TrimSpace(h.Value)))
			}
		}
	}
	for _, s := range []string{slot.PutURL, slot.GetURL} {
		p, err := url.Parse(s)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("media: slot from %s has an unusable URL %q", u.service, s)
		}
	}
	return slot, nil
}

func stripNewlines(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// put uploads exactly f.Size bytes of f.Body to the slot.
func (u *HTTPUpload) put(ctx context.Context, slot *Slot, f Upload, contentType string) error {
	counted := &countingReader{r: io.LimitReader(f.Body, f.Size)}
	var body io.Reader = counted
	if f.Size == 0 {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.PutURL, body)
	if err != nil {
		return fmt.Errorf("media: building the upload request: %w", err)
	}
	req.ContentLength = f.Size
	for k, vs := range slot.PutHeaders {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := u.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the slot URL
		}
		if counted.eof && counted.n < f.Size {
			err = fmt.Errorf("%w: %d bytes declared, the body had %d: %v", ErrSizeMismatch, f.Size, counted.n, err)
		}
		return &PutError{Host: req.URL.Host, Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return &PutError{Host: req.URL.Host, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	return nil
}

// PutError is a failed upload of the file to its slot: a transport error
// (Err) or an HTTP status other than 200 and 201.
type PutError struct {
	Host       string
	StatusCode int
	Status     string
	Err        error
}

// Error implements error.
func (e *PutError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("media: uploading to %s: %v", e.Host, e.Err)
	}
	return fmt.Sprintf("media: uploading to %s: %s", e.Host, e.Status)
}

// Unwrap returns the transport error; a 413 status counts as
// ErrFileTooLarge.
func (e *PutError) Unwrap() error {
	if e.Err == nil && e.StatusCode == http.StatusRequestEntityTooLarge {
		return ErrFileTooLarge
	}
	return e.Err
}

// SlotError is an upload service's refusal of a slot.
type SlotError struct {
	// Service is the service's JID.
	Service string
	// Condition, Type and Text are the stanza error's.
	Condition, Type, Text string
	kind                  error
}

// Error implements error.
func (e *SlotError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "media: %s refused an upload slot: %s", e.Service, e.Condition)
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, ": %s", e.Text)
	}
	return b.String()
}

// Unwrap returns the sentinel the condition maps to: not-acceptable about
// the size → ErrFileTooLarge, other not-acceptable or bad-request →
// ErrNotAcceptable, resource-constraint → ErrQuota, forbidden /
// not-allowed / not-authorized → ErrForbidden, service-unavailable /
// feature-not-implemented / item-not-found → ErrNoService; nil otherwise.
func (e *SlotError) Unwrap() error { return e.kind }

// newSlotError maps an error reply. XEP-0363's <file-too-large/> child is
// not visible through gosrc's error type, so a not-acceptable refusal
// counts as "too large" when its text speaks of size or the size is known
// to exceed the service's maximum.
func newSlotError(service string, reply *stanza.IQ, size, limit int64) *SlotError {
	e := &SlotError{Service: service, Condition: "undefined-condition"}
	if reply.Error != nil {
		if reply.Error.Reason != "" {
			e.Condition = reply.Error.Reason
		}
		e.Type, e.Text = string(reply.Error.Type), reply.Error.Text
	}
	switch e.Condition {
	case "not-acceptable":
		text := strings.ToLower(e.Text)
		if strings.Contains(text, "large") || strings.Contains(text, "size") || (limit > 0 && size > limit) {
			e.kind = ErrFileTooLarge
		} else {
			e.kind = ErrNotAcceptable
		}
	case "bad-request":
		e.kind = ErrNotAcceptable
	case "resource-constraint":
		e.kind = ErrQuota
	case "forbidden", "not-allowed", "not-authorized":
		e.kind = ErrForbidden
	case "service-unavailable", "feature-not-implemented", "item-not-found", "remote-server-not-found":
		e.kind = ErrNoService
	}
	return e
}
