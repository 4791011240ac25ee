package remote_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/adapters/remote"
	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

// pki is the certificates of one mutual TLS test: the adapter's server
// certificate and the gateway's client certificate, each from its own CA.
type pki struct {
	serverCA, clientCA    *testutil.CA
	serverCert, serverKey string
	clientCert, clientKey string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	p := pki{serverCA: testutil.NewCA(t, "adapter-ca"), clientCA: testutil.NewCA(t, "gateway-ca")}
	p.serverCert, p.serverKey = p.serverCA.Issue(t, "adapter", testutil.CertOptions{Server: true, DNSNames: []string{"adapter.test"}})
	p.clientCert, p.clientKey = p.clientCA.Issue(t, "gateway", testutil.CertOptions{})
	return p
}

// serverTLS is the adapter side's TLS: its certificate, and the gateway
// CA as client CA (mutual TLS).
func serverTLS(t testing.TB, certFile, keyFile, clientCAFile string) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAFile != "" {
		if c.ClientCAs, err = remote.LoadCertPool(clientCAFile); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// serveTLS serves ad with TLS (and token, if any) on l until the test
// ends, and returns the address.
func serveTLS(t testing.TB, l net.Listener, ad gateway.Adapter, token string, c *tls.Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- remote.Serve(ctx, l, remote.NewServer(ad, testLogger(t)), token, remote.WithServerTLS(c))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// dialSection dials addr as the gateway's platform section would say:
// address, tls (the keys given) and token.
func dialSection(t testing.TB, addr, token string, tlsKeys map[string]any) (*remote.Adapter, error) {
	t.Helper()
	section := map[string]any{"adapter": "remote", "address": addr, "tls": tlsKeys}
	if token != "" {
		section["token"] = token
	}
	rc, _, err := remote.ParseSection("platforms.sandbox", section)
	if err != nil {
		t.Fatalf("ParseSection: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	a, err := remote.Dial(ctx, rc.Address, rc.Token, testLogger(t), remote.WithTLS(rc.TLS))
	if a != nil {
		t.Cleanup(func() { _ = a.Stop(context.Background()) })
	}
	return a, err
}

// TestMutualTLS: a gateway with a client certificate of the adapter's
// client CA is served; one without a certificate, with one of another
// CA, or with an expired one is refused with an Unauthenticated error
// that says why; an adapter whose own certificate expired, or is of a CA
// the gateway does not trust, is refused by the gateway.
func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	other := testutil.NewCA(t, "other-ca")
	otherCert, otherKey := other.Issue(t, "intruder", testutil.CertOptions{})
	expiredCert, expiredKey := p.clientCA.Issue(t, "expired-gateway", testutil.CertOptions{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	expiredServerCert, expiredServerKey := p.serverCA.Issue(t, "expired-adapter", testutil.CertOptions{
		Server: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	untrustedServerCert, untrustedServerKey := other.Issue(t, "untrusted-adapter", testutil.CertOptions{Server: true})
	const token = "mtls-and-token"

	good := serveTLS(t, listenLoopback(t), sandbox.New(nil), "", serverTLS(t, p.serverCert, p.serverKey, p.clientCA.CertFile))
	withToken := serveTLS(t, listenLoopback(t), sandbox.New(nil), token, serverTLS(t, p.serverCert, p.serverKey, p.clientCA.CertFile))
	expiredServer := serveTLS(t, listenLoopback(t), sandbox.New(nil), "", serverTLS(t, expiredServerCert, expiredServerKey, p.clientCA.CertFile))
	untrustedServer := serveTLS(t, listenLoopback(t), sandbox.New(nil), "", serverTLS(t, untrustedServerCert, untrustedServerKey, p.clientCA.CertFile))

	client := func(cert, key string) map[string]any {
		m := map[string]any{"ca_file": p.serverCA.CertFile}
		if cert != "" {
			m["cert_file"], m["key_file"] = cert, key
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		addr    string
		token   string
		tls     map[string]any
		wantErr error  // nil: served
		wantMsg string // in the error
	}{
		{name: "client_cert", addr: good, tls: client(p.clientCert, p.clientKey)},
		{name: "server_name", addr: good, tls: map[string]any{"ca_file": p.serverCA.CertFile, "cert_file": p.clientCert, "key_file": p.clientKey, "server_name": "adapter.test"}},
		{name: "client_cert_and_token", addr: withToken, token: token, tls: client(p.clientCert, p.clientKey)},
		{name: "client_cert_wrong_token", addr: withToken, token: "wrong", tls: client(p.clientCert, p.clientKey), wantErr: remote.ErrUnauthenticated, wantMsg: "bearer token"},
		{name: "token_without_client_cert", addr: withToken, token: token, tls: client("", ""), wantErr: remote.ErrUnauthenticated, wantMsg: "sent no client certificate"},
		{name: "no_client_cert", addr: good, tls: client("", ""), wantErr: remote.ErrUnauthenticated, wantMsg: "sent no client certificate"},
		{name: "client_cert_of_another_ca", addr: good, tls: client(otherCert, otherKey), wantErr: remote.ErrUnauthenticated, wantMsg: "unknown authority"},
		{name: "expired_client_cert", addr: good, tls: client(expiredCert, expiredKey), wantErr: remote.ErrUnauthenticated, wantMsg: "expired"},
		{name: "expired_server_cert", addr: expiredServer, tls: client(p.clientCert, p.clientKey), wantErr: gateway.ErrUnavailable, wantMsg: "expired"},
		{name: "server_cert_of_another_ca", addr: untrustedServer, tls: client(p.clientCert, p.clientKey), wantErr: gateway.ErrUnavailable, wantMsg: "unknown authority"},
		{name: "wrong_server_name", addr: good, tls: map[string]any{"ca_file": p.serverCA.CertFile, "cert_file": p.clientCert, "key_file": p.clientKey, "server_name": "elsewhere.test"},
			wantErr: gateway.ErrUnavailable, wantMsg: "elsewhere.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := dialSection(t, tc.addr, tc.token, tc.tls)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if a.Info().ID != "sandbox" {
					t.Errorf("Info = %+v, want the sandbox", a.Info())
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Dial = %v, want %v saying %q", err, tc.wantErr, tc.wantMsg)
			}
			if testing.Verbose() {
				t.Logf("refused: %v", err)
			}
		})
	}
}

// TestRefusedOffLoopback: off loopback, Serve refuses to start without
// TLS (a token alone included: it would travel in clear) and with TLS but
// nothing to authenticate the gateway; with client CAs it serves, and a
// gateway with a client certificate uses it.
func TestRefusedOffLoopback(t *testing.T) {
	p := newPKI(t)
	log := testLogger(t)
	tlsOnly := serverTLS(t, p.serverCert, p.serverKey, "")
	for _, tc := range []struct {
		name  string
		token string
		tls   *tls.Config
		want  error
	}{
		{"nothing", "", nil, remote.ErrNeedTLS},
		{"token_in_clear", testToken, nil, remote.ErrNeedTLS},
		{"tls_without_gateway_auth", "", tlsOnly, remote.ErrNeedGatewayAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []remote.ServeOption
			if tc.tls != nil {
				opts = append(opts, remote.WithServerTLS(tc.tls))
			}
			err := remote.Serve(t.Context(), offLoopback{listenLoopback(t)}, remote.NewServer(sandbox.New(nil), log), tc.token, opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Serve = %v, want %v", err, tc.want)
			}
		})
	}
	l := listenLoopback(t)
	serveTLS(t, offLoopback{l}, sandbox.New(nil), "", serverTLS(t, p.serverCert, p.serverKey, p.clientCA.CertFile))
	a, err := dialSection(t, l.Addr().String(), "", map[string]any{"ca_file": p.serverCA.CertFile, "cert_file": p.clientCert, "key_file": p.clientKey})
	if err != nil {
		t.Fatalf("Dial with a client certificate: %v", err)
	}
	if a.Info().ID != "sandbox" {
		t.Errorf("Info = %+v", a.Info())
	}
}

// dialMTLS serves ad with mutual TLS on loopback and dials it with the
// gateway's client certificate.
func dialMTLS(t testing.TB, ad gateway.Adapter) *remote.Adapter {
	t.Helper()
	p := newPKI(t)
	addr := serveTLS(t, listenLoopback(t), ad, "", serverTLS(t, p.serverCert, p.serverKey, p.clientCA.CertFile))
	a, err := dialSection(t, addr, "", map[string]any{"ca_file": p.serverCA.CertFile, "cert_file": p.clientCert, "key_file": p.clientKey})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return a
}
