package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// LoadCertPool reads the PEM certificates of path (a CA bundle) into a
// pool. A file without any certificate is an error.
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// hasClientCert reports whether a client TLS configuration presents a
// certificate.
func hasClientCert(c *tls.Config) bool {
	return c != nil && (len(c.Certificates) > 0 || c.GetClientCertificate != nil)
}

// serverCreds is the TLS of a served adapter. With roots (mutual TLS) it
// asks every gateway for a certificate and verifies it against roots
// itself, once per connection, so that a refusal reaches the gateway as
// an Unauthenticated status saying why (missing, unknown CA, expired)
// instead of a bare TLS alert; no call is served on such a connection
// (clientCertCheck). The TLS handshake proves the gateway holds the
// certificate's key either way.
type serverCreds struct {
	credentials.TransportCredentials
	roots *x509.CertPool
	log   *slog.Logger
}

func newServerCreds(c *tls.Config, log *slog.Logger) credentials.TransportCredentials {
	c = c.Clone()
	roots := c.ClientCAs
	c.ClientCAs = nil
	c.ClientAuth = tls.NoClientCert
	if roots != nil {
		c.ClientAuth = tls.RequestClientCert
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return &serverCreds{TransportCredentials: credentials.NewTLS(c), roots: roots, log: log}
}

// clientAuth is the AuthInfo of a connection to a served adapter: the
// TLS state and why its client certificate was refused (nil: accepted,
// or no client certificate is required).
type clientAuth struct {
	credentials.TLSInfo
	refused error
}

func (c *serverCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, ai, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.log.Warn("adapter: TLS handshake with a gateway failed", "remote", raw.RemoteAddr().String(), "err", err)
		return nil, nil, err
	}
	info, _ := ai.(credentials.TLSInfo)
	auth := clientAuth{TLSInfo: info}
	if c.roots != nil {
		auth.refused = verifyClientCert(info.State, c.roots)
		if auth.refused != nil {
			c.log.Warn("adapter: gateway refused", "remote", raw.RemoteAddr().String(), "reason", auth.refused)
		}
	}
	return conn, auth, nil
}

func (c *serverCreds) Clone() credentials.TransportCredentials {
	return &serverCreds{TransportCredentials: c.TransportCredentials.Clone(), roots: c.roots, log: c.log}
}

// errNoClientCert: mutual TLS, and the gateway sent no certificate.
var errNoClientCert = errors.New("the gateway sent no client certificate, and this adapter requires one (mutual TLS: tls.cert_file and tls.key_file in the gateway's platform section)")

// verifyClientCert verifies the gateway's certificate chain against roots
// for client authentication, at the present time.
func verifyClientCert(state tls.ConnectionState, roots *x509.CertPool) error {
	certs := state.PeerCertificates
	if len(certs) == 0 {
		return errNoClientCert
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("the gateway's client certificate (subject %q) is refused by this adapter's client CA: %w", certs[0].Subject.String(), err)
	}
	return nil
}

// clientCertCheck refuses every call on a connection whose client
// certificate was refused, with the reason.
func clientCertCheck() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	check := func(ctx context.Context) error {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return status.Error(codes.Unauthenticated, "adapter: no peer information")
		}
		auth, ok := p.AuthInfo.(clientAuth)
		if !ok {
			return status.Error(codes.Unauthenticated, "adapter: the connection is not TLS")
		}
		if auth.refused != nil {
			return status.Error(codes.Unauthenticated, "adapter: "+auth.refused.Error())
		}
		return nil
	}
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if err := check(ctx); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := check(ss.Context()); err != nil {
			return err
		}
		return h(srv, ss)
	}
	return unary, stream
}
