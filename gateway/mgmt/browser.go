package mgmt

import (
	"net/http"

	"github.com/drawbridge-im/drawbridge/gateway/httpguard"
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
// exempt: they reveal nothing and change nothing. The rules are package
// httpguard's, which the sandbox platform's web page applies too.

// newBrowserGuard derives the accepted names from the listen address
// (host:port) and the extra names of api.allowed_hosts.
func newBrowserGuard(listen string, extra []string) *httpguard.Guard {
	return httpguard.New(listen, extra, "api.listen and api.allowed_hosts")
}

// guardBrowsers refuses what check refuses, as gRPC status
// PERMISSION_DENIED or as a REST error object.
func (s *Server) guardBrowsers(g *httpguard.Guard, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		reason, code := g.Check(r, isGRPC(r))
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
