package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults and limits of a Fetcher.
const (
	// DefaultTimeout bounds a whole Fetch (connect, headers and body) when
	// Fetcher.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds the TCP connect of a Fetch when
	// Fetcher.ConnectTimeout is zero: a host that does not accept at once
	// is not worth waiting for.
	DefaultConnectTimeout = 5 * time.Second
	// MaxRedirects is the number of redirects a Fetch follows; each target
	// is checked like the original URL.
	MaxRedirects = 3

	maxHeaderBytes      = 64 << 10
	userAgent           = "Drawbridge (XMPP gateway; media fetch)"
	tlsHandshakeTimeout = 10 * time.Second
)

// Fetcher downloads files that XMPP users sent (XEP-0066 out-of-band and
// XEP-0363 upload URLs) for the platform.
//
// A file is streamed to a temporary file (in TempDir) as it arrives, with
// MaxSize enforced while streaming, so its size costs disk, not memory;
// the returned File must be closed, which removes it. Budget, if set,
// bounds the bytes that all downloads sharing it hold at once.
//
// A Fetcher may be used by several goroutines at once. Its fields must not
// change, and it must not be copied, after the first Fetch.
type Fetcher struct {
	// MaxSize is the largest file accepted, in bytes; required (Fetch
	// fails if it is not positive). Larger files are refused from their
	// Content-Length or as soon as the body exceeds it.
	MaxSize int64
	// Timeout bounds the whole request, body included; default
	// DefaultTimeout.
	Timeout time.Duration
	// ConnectTimeout bounds connecting to the host (each address tried);
	// default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// TempDir is where downloads are spooled; "" means os.TempDir().
	TempDir string
	// Budget, if set, is the in-flight byte budget the download's bytes
	// are taken from (see Budget); without one, only MaxSize bounds them.
	Budget *Budget
	// AllowPrivate allows connections to loopback, private, link-local and
	// other non-public addresses. Off by default, which protects the
	// operator's network from requests forged by remote users (SSRF); turn
	// it on only in tests or for trusted, internal upload services.
	AllowPrivate bool
	// AllowedTypes, if not empty, lists the media types accepted: exact
	// ("image/png"), wildcard ("image/*") or "*/*". A file of another type
	// is refused with ErrUnsupportedType (before its body is read when the
	// server declares a specific type).
	AllowedTypes []string
	// Client, if set, is used instead of the Fetcher's own client. Its
	// redirect policy is replaced by the Fetcher's, but the address check
	// at dial time is a property of the Fetcher's own transport: a custom
	// client's transport must do its own (the literal-IP check on every URL
	// and redirect still applies).
	Client *http.Client

	once   sync.Once
	client *http.Client
	// allowAddr, if set, exempts addresses from the non-public check
	// (tests that need a "public" server on loopback).
	allowAddr func(netip.AddrPort) bool
}

// Fetch downloads rawURL (http or https only) into a temporary file and
// returns it; the caller must Close the File.
//
// Errors wrap ErrBadURL (malformed or non-http URL, too many redirects),
// ErrForbiddenAddress (the host is or resolves to a non-public address, or
// is a number that is not a dotted IPv4 address), ErrUnreachable (the host
// does not resolve or refuses the connection), ErrTimeout,
// ErrTooLarge, ErrBusy (Budget had no room in time), ErrUnsupportedType, ErrBadStatus (a *StatusError: the final
// response was not 200 OK), context.DeadlineExceeded (Timeout passed, with
// ErrTimeout) or
// the error of ctx. Error texts name the host, never the whole URL, whose
// path may be a secret capability.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*File, error) {
	if f.MaxSize <= 0 {
		return nil, errors.New("media: Fetcher.MaxSize must be positive")
	}
	u, err := f.checkURL(rawURL)
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	file, err := f.fetch(fctx, u)
	if err != nil {
		if ctx.Err() == nil && errors.Is(fctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("media: fetching from %s: %w (timed out after %v): %w", u.Host, ErrTimeout, timeout, context.DeadlineExceeded)
		}
		if ctx.Err() == nil {
			err = remoteFault(err)
		}
		return nil, fmt.Errorf("media: fetching from %s: %w", u.Host, err)
	}
	return file, nil
}

// fetch does the request; ctx carries the timeout.
func (f *Fetcher) fetch(ctx context.Context, u *url.URL) (*File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := f.httpClient().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the whole URL
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: resp.Request.URL.Redacted(), Host: resp.Request.URL.Host, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > f.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes declared, the limit is %d", ErrTooLarge, resp.ContentLength, f.MaxSize)
	}
	declared := resp.Header.Get("Content-Type")
	if mt := mediaType(declared); mt != "" && !genericType(mt) && !f.typeAllowed(mt) {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedType, mt)
	}
	file, err := f.spool(ctx, resp.Body, resp.ContentLength)
	if err != nil {
		return nil, err
	}
	mt := effectiveType(declared, file.head)
	if !f.typeAllowed(mt) {
		file.Close()
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedType, mt)
	}
	file.Name = fileName(resp.Header.Get("Content-Disposition"), u, resp.Request.URL)
	file.MIMEType, file.DeclaredType = mt, declared
	return file, nil
}

// remoteFault marks the network errors that the URL's host causes (its
// name does not resolve, it refuses or times out the connection) with
// ErrUnreachable or ErrTimeout. The address guard's refusals keep their
// own error.
func remoteFault(err error) error {
	if errors.Is(err, ErrForbiddenAddress) || errors.Is(err, ErrBadURL) {
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w (%w)", ErrTimeout, err)
	}
	var dns *net.DNSError
	var op *net.OpError
	if errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") {
		return fmt.Errorf("%w (%w)", ErrUnreachable, err)
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The host hung up before the whole answer.
		return fmt.Errorf("%w: the connection was closed (%w)", ErrUnreachable, err)
	}
	return err
}

func (f *Fetcher) typeAllowed(mt string) bool {
	return len(f.AllowedTypes) == 0 || MatchType(mt, f.AllowedTypes)
}

// checkURL parses and vets a URL given by a user or a redirect.
func (f *Fetcher) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse it", ErrBadURL)
	}
	return u, f.vetURL(u)
}

// vetURL accepts absolute http(s) URLs without user info, and refuses
// non-public IP literals unless AllowPrivate.
func (f *Fetcher) vetURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: scheme %q is not http or https", ErrBadURL, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrBadURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: user information in the URL", ErrBadURL)
	}
	if numericHost(u.Hostname()) {
		// Not resolved: resolvers and libraries read 2130706433,
		// 0x7f000001 or 0177.0.0.1 as 127.0.0.1, each in its own way.
		return fmt.Errorf("%w: host %q is a number but not an IP address in dotted form", ErrForbiddenAddress, u.Hostname())
	}
	if f.AllowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		port := u.Port()
		if f.allowAddr != nil && port != "" {
			if ap, err := netip.ParseAddrPort(net.JoinHostPort(u.Hostname(), port)); err == nil && f.allowAddr(ap) {
				return nil
			}
		}
		return checkAddr(a)
	}
	return nil
}

// checkRedirect is the client's redirect policy.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrBadURL, MaxRedirects)
	}
	return f.vetURL(req.URL)
}

// httpClient returns the client Fetch uses, built on first use.
func (f *Fetcher) httpClient() *http.Client {
	f.once.Do(func() {
		if f.Client != nil {
			c := *f.Client
			c.CheckRedirect = f.checkRedirect
			f.client = &c
			return
		}
		connect := f.ConnectTimeout
		if connect <= 0 {
			connect = DefaultConnectTimeout
		}
		d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
		if !f.AllowPrivate {
			d.Control = f.dialControl
		}
		f.client = &http.Client{
			CheckRedirect: f.checkRedirect,
			Transport: &http.Transport{
				// No proxy: the address check must see the real peer.
				Proxy:                  nil,
				DialContext:            d.DialContext,
				ForceAttemptHTTP2:      true,
				TLSHandshakeTimeout:    tlsHandshakeTimeout,
				MaxIdleConns:           16,
				IdleConnTimeout:        90 * time.Second,
				MaxResponseHeaderBytes: maxHeaderBytes,
			},
		}
	})
	return f.client
}
