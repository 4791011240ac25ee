package httpguard

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Guard accepts the requests that name its listener and come from no
// foreign web page:
//
//   - a request with a foreign Origin (any but the listener's own), or
//     that the browser marks as cross-site or same-site (Sec-Fetch-Site),
//     is refused;
//   - a request must name the listener in Host: the host of its listen
//     address, its localhost/127.0.0.1/[::1] forms when it listens on
//     loopback or on every interface, any IP literal when it listens on
//     every interface, or one of the extra names;
//   - a request that can change something (any method but GET, HEAD and
//     OPTIONS) must carry Content-Type: application/json, which a page
//     cannot send cross-site without a CORS preflight that is never
//     granted.
type Guard struct {
	// names are the lower-case host names and IP literals accepted in
	// Host and Origin.
	names map[string]bool
	// anyIP accepts every IP literal (the listener is on every interface).
	anyIP bool
	// hostsSetting names the configuration key of the extra names, for
	// the refusal's message.
	hostsSetting string
}

// New derives the accepted names from the listen address (host:port) and
// the extra names (a setting such as api.allowed_hosts, named by
// hostsSetting in refusals).
func New(listen string, extra []string, hostsSetting string) *Guard {
	g := &Guard{names: make(map[string]bool), hostsSetting: hostsSetting}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	host = strings.ToLower(host)
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		g.anyIP = true
		g.addLoopback()
	case host == "localhost" || (ip != nil && ip.IsLoopback()):
		g.addLoopback()
		g.add(host)
	default:
		g.add(host)
	}
	for _, h := range extra {
		g.add(h)
	}
	return g
}

func (g *Guard) addLoopback() {
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		g.add(h)
	}
}

// add accepts a name; IP literals are kept in their canonical form.
func (g *Guard) add(h string) {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := net.ParseIP(h); ip != nil {
		h = ip.String()
	}
	if h != "" {
		g.names[h] = true
	}
}

// Accepts reports whether host (a Host header or an Origin's host, with
// or without a port) names this listener.
func (g *Guard) Accepts(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip := net.ParseIP(host); ip != nil {
		if g.anyIP {
			return true
		}
		host = ip.String()
	}
	return host != "" && g.names[host]
}

// Check returns why r is refused and its HTTP status (403 or 415), or ""
// to let it through. With originOnly, only the Origin and Sec-Fetch-Site
// rules apply (the management API's gRPC calls, which no page can send).
func (g *Guard) Check(r *http.Request, originOnly bool) (reason string, httpStatus int) {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		// Only the listener's own origin is not foreign: same host and port.
		if o == "null" || err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) || !g.Accepts(u.Host) {
			return fmt.Sprintf("requests from other web pages are refused (Origin %q is not this server)", o), http.StatusForbidden
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "requests from other web pages are refused (Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site") + ")", http.StatusForbidden
	}
	if originOnly {
		return "", 0
	}
	if !g.Accepts(r.Host) {
		return fmt.Sprintf("Host %q does not name this server (see %s)", r.Host, g.hostsSetting), http.StatusForbidden
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return "", 0
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return fmt.Sprintf("a %s request needs Content-Type: application/json (got %q)", r.Method, ct), http.StatusUnsupportedMediaType
	}
	return "", 0
}
