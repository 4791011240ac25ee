package mgmt

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/httpguard"
)

// Auth says how the API authenticates requests. Every mechanism that is
// configured is enforced; on a loopback address none is required.
type Auth struct {
	// Token, when set, must be sent as "Authorization: Bearer TOKEN".
	Token string
	// TLSCert and TLSKey (PEM files), when set, make the API speak TLS.
	TLSCert, TLSKey string
	// ClientCA (a PEM file), when set, requires a client certificate
	// signed by one of its CAs.
	ClientCA string
}

// check enforces the rule of the configuration on addr: a non-loopback
// address needs a token or mutual TLS. The error names the setting.
func (a Auth) check(addr string) error {
	if !config.LoopbackAddr(addr) && a.Token == "" && a.ClientCA == "" {
		return fmt.Errorf("api.token: required because api.listen %q is not a loopback address (or set api.token_file, or api.client_ca for mutual TLS)", addr)
	}
	if a.ClientCA != "" && a.TLSCert == "" {
		return errors.New("api.client_ca: requires api.tls_cert and api.tls_key")
	}
	return nil
}

// tlsConfig loads the server certificate and client CAs; nil without TLS.
func (a Auth) tlsConfig() (*tls.Config, error) {
	if a.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("api.tls_cert, api.tls_key: %w", err)
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if a.ClientCA != "" {
		pem, err := os.ReadFile(a.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("api.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api.client_ca: %s holds no PEM certificate", a.ClientCA)
		}
		c.ClientCAs = pool
		// A certificate that is sent must verify; one that is missing is
		// refused by the handler, as UNAUTHENTICATED / 401, so that every
		// refusal looks the same to clients.
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c, nil
}

// publicPaths need no credentials: they reveal nothing about the gateway's
// users.
var publicPaths = map[string]bool{
	"/v1/openapi.json": true,
	"/healthz":         true,
}

// authenticate refuses requests without the configured credentials: gRPC
// calls with status UNAUTHENTICATED, REST calls with 401. The token is
// compared in constant time and never logged.
func (s *Server) authenticate(next http.Handler) http.Handler {
	token := httpguard.NewToken(s.opts.Auth.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		reason := ""
		if s.opts.Auth.ClientCA != "" && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
			reason = "a client certificate is required"
		}
		if reason == "" {
			reason = token.CheckBearer(r)
		}
		if reason == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !isGRPC(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="drawbridge"`)
		}
		s.refuse(w, r, reason, 16, http.StatusUnauthorized) // UNAUTHENTICATED
	})
}

// refuse answers a request the API will not serve, and logs why: a gRPC
// call gets grpcCode as its status, a REST request httpStatus and the
// JSON error body grpc-gateway gives (code, message, details).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reason string, grpcCode, httpStatus int) {
	s.log.Warn("api: request refused", "reason", reason, "remote", r.RemoteAddr, "path", r.URL.Path)
	if isGRPC(r) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", strconv.Itoa(grpcCode))
		w.Header().Set("Grpc-Message", grpcMessage(reason))
		w.WriteHeader(http.StatusOK)
		return
	}
	body, _ := json.Marshal(map[string]any{"code": grpcCode, "message": reason, "details": []any{}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(append(body, '\n'))
}

// isGRPC reports whether r is a gRPC call rather than a REST request.
func isGRPC(r *http.Request) bool {
	return r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc")
}

// grpcMessage percent-encodes a grpc-message header value.
func grpcMessage(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
