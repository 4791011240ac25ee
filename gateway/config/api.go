package config

import (
	"fmt"
	"net"
	"strings"
)

// APIConfig configures the management API: gRPC and REST/JSON (with its
// OpenAPI document) on one port.
type APIConfig struct {
	// Listen is host:port; empty disables the API. An address that is not
	// loopback requires Token (or TokenFile) or ClientCA.
	Listen string `yaml:"listen"`
	// Token is the bearer token every request must carry
	// ("Authorization: Bearer TOKEN") when set. Prefer TokenFile or the
	// environment to writing it in the file.
	Token string `yaml:"token"`
	// TokenFile, when set, names a file whose content (trailing newline
	// trimmed) becomes Token. It cannot be combined with Token.
	TokenFile string `yaml:"token_file"`
	// TLSCert and TLSKey are PEM files; when set the API speaks TLS only.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ClientCA is a PEM file of CA certificates; when set, requests must
	// present a client certificate signed by one of them (mutual TLS). It
	// requires TLSCert and TLSKey.
	ClientCA string `yaml:"client_ca"`
	// AllowedHosts are host names REST requests may carry in Host (and
	// Origin) besides the host of Listen and, when Listen is loopback or
	// every interface, localhost/127.0.0.1/[::1]. Others are refused (DNS
	// rebinding).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// MetricsConfig configures the operations endpoint.
type MetricsConfig struct {
	// Listen is host:port of /metrics (Prometheus), /healthz and /readyz;
	// empty disables it. It carries no secrets and needs no credentials.
	Listen string `yaml:"listen"`
	// Profiling serves Go's runtime profiles (/debug/pprof/) on the same
	// listener, for measuring a running gateway. Profiles show code paths
	// and allocation sites, not data, but they cost CPU while taken: it is
	// refused unless Listen is a loopback address.
	Profiling bool `yaml:"profiling"`
}

// Default listen addresses.
const (
	DefaultAPIListen     = "127.0.0.1:8480"
	DefaultMetricsListen = "127.0.0.1:9480"
)

// LoopbackAddr reports whether the host of host:port is a loopback
// address (127.0.0.0/8, ::1) or "localhost". An empty host (every
// interface) is not loopback.
func LoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c Config) validateAPI(p *problems) {
	a := c.API
	if a.Listen != "" {
		if !isListenAddr(a.Listen) {
			p.add("api.listen", "%q is not host:port (use 0.0.0.0:PORT or [::]:PORT for every interface)", a.Listen)
		} else if !LoopbackAddr(a.Listen) && a.Token == "" && a.TokenFile == "" && a.ClientCA == "" {
			p.add("api.token", "required because api.listen %q is not a loopback address (or set api.token_file, or api.client_ca for mutual TLS)", a.Listen)
		}
	}
	if (a.TLSCert == "") != (a.TLSKey == "") {
		p.add("api.tls_key", "api.tls_cert and api.tls_key go together")
	}
	if a.ClientCA != "" && a.TLSCert == "" {
		p.add("api.client_ca", "requires api.tls_cert and api.tls_key")
	}
	for i, h := range a.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/:@ \t") && net.ParseIP(strings.Trim(h, "[]")) == nil {
			p.add(fmt.Sprintf("api.allowed_hosts[%d]", i), "%q is not a host name or IP address (no scheme, port or path)", h)
		}
	}
	if m := c.Metrics.Listen; m != "" && !isListenAddr(m) {
		p.add("metrics.listen", "%q is not host:port", m)
	} else if c.Metrics.Profiling && (m == "" || !LoopbackAddr(m)) {
		p.add("metrics.profiling", "needs metrics.listen on a loopback address (it is %q)", m)
	}
	for i, j := range c.Component.Admins {
		if !isBareJID(j) {
			p.add(fmt.Sprintf("component.admins[%d]", i), "%q is not a bare JID (localpart@domain)", j)
		}
	}
}

// isListenAddr is host:port with a port from 1 to 65535, or 0 (any free
// port, for tests).
func isListenAddr(s string) bool {
	host, port, err := net.SplitHostPort(s)
	return err == nil && host != "" && (port == "0" || isPort(port))
}

// IsAdmin reports whether the bare JID is listed in component.admins
// (case-insensitively; a resource is ignored).
func (c Config) IsAdmin(bareJID string) bool {
	bare, _, ok := normalizeJID(bareJID)
	if !ok {
		return false
	}
	for _, a := range c.Component.Admins {
		if n, _, ok := normalizeJID(a); ok && n == bare {
			return true
		}
	}
	return false
}
