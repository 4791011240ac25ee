package mgmt

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The API has no browser clients, yet a browser on the gateway's host can
// reach a loopback listener: a web page could send it "simple" cross-site
// requests (CSRF: no preflight for text/plain or form bodies), or point a
// name it controls at 127.0.0.1 and then read the answers (DNS
// rebinding). guardBrowsers closes both:
//
//   - a request with a foreign Origin (any but the API's own), or that the browser marks as
//     cross-site or same-site (Sec-Fetch-Site), is refused;
//   - a REST request must name the API in Host: the host of api.listen,
//     its localhost/127.0.0.1/[::1] forms when it listens on loopback or on
//     every interface, any IP literal when it listens on every interface,
//     or a name in api.allowed_hosts;
//   - a REST request that can change something (any method but GET, HEAD
//     and OPTIONS) must carry Content-Type: application/json, which a page
//     cannot send cross-site without a CORS preflight that is never
//     granted.
//
// gRPC calls need HTTP/2 and a Content-Type of application/grpc, which
// no page can send without a preflight either; they are checked for a
// foreign Origin only, so that a CLI may reach the API by any name.
// Refusals are PERMISSION_DENIED (403) and INVALID_ARGUMENT (415), with a
// message that says what was wrong. The public paths (health, OpenAPI) are
// exempt: they reveal nothing and change nothing.
type browserGuard struct {
	// names are the lower-case host names and IP literals accepted in
	// Host and Origin.
	names map[string]bool
	// anyIP accepts every IP literal (the API listens on every interface).
	anyIP bool
}

// newBrowserGuard derives the accepted names from the listen address
// (host:port) and the extra names of api.allowed_hosts.
func newBrowserGuard(listen string, extra []string) *browserGuard {
	g := &browserGuard{names: make(map[string]bool)}
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

func (g *browserGuard) addLoopback() {
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		g.add(h)
	}
}

// add accepts a name; IP literals are kept in their canonical form.
func (g *browserGuard) add(h string) {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip := net.ParseIP(h); ip != nil {
		h = ip.String()
	}
	if h != "" {
		g.names[h] = true
	}
}

// accepts reports whether host (a Host header or an Origin's host, with
// or without a port) names this API.
func (g *browserGuard) accepts(host string) bool {
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

// check returns why r is refused and its HTTP status, or "" to let it
// through.
func (g *browserGuard) check(r *http.Request) (reason string, httpStatus int) {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		// Only the API's own origin is not foreign: same host and port.
		if o == "null" || err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) || !g.accepts(u.Host) {
			return fmt.Sprintf("requests from web pages are refused (Origin %q is not this API)", o), http.StatusForbidden
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "requests from web pages are refused (Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site") + ")", http.StatusForbidden
	}
	if isGRPC(r) {
		return "", 0
	}
	if !g.accepts(r.Host) {
		return fmt.Sprintf("Host %q does not name this API (see api.listen and api.allowed_hosts)", r.Host), http.StatusForbidden
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

// guardBrowsers refuses what check refuses, as gRPC status
// PERMISSION_DENIED or as a REST error object.
func (s *Server) guardBrowsers(g *browserGuard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		reason, code := g.check(r)
		if reason == "" {
			next.ServeHTTP(w, r)
			return
		}
		grpcCode := 7 // PERMISSION_DENIED
		if code == http.StatusUnsupportedMediaType {
			grpcCode = 3 // INVALID_ARGUMENT
		}
		s.refuse(w, r, reason, grpcCode, code)
	})
}
