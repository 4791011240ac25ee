package mgmt_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

const testToken = "t0ken-for-tests-9f2c"

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return false }

func dial(t *testing.T, addr string, opts ...grpc.DialOption) adminv1.AdminServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminv1.NewAdminServiceClient(conn)
}

// logBuffer collects the server's log to check that tokens stay out.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTokenAuth: with api.token set, calls without it or with a wrong one
// are refused, as UNAUTHENTICATED over gRPC and 401 over REST, and the
// token never reaches the log.
func TestTokenAuth(t *testing.T) {
	h := newHub(t)
	logs := &logBuffer{}
	srv, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: "127.0.0.1:0", Auth: mgmt.Auth{Token: testToken},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	addr := srv.Addr().String()
	ctx := ctxT(t)
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())

	for name, c := range map[string]adminv1.AdminServiceClient{
		"no token":    dial(t, addr, plain),
		"wrong token": dial(t, addr, plain, grpc.WithPerRPCCredentials(bearer("wrong-"+testToken))),
		"empty token": dial(t, addr, plain, grpc.WithPerRPCCredentials(bearer(""))),
	} {
		_, err := c.GetStatus(ctx, &adminv1.GetStatusRequest{})
		wantCode(t, "gRPC unary with "+name, err, codes.Unauthenticated)
		stream, err := c.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: alice, Platform: "sandbox"})
		if err == nil {
			_, err = stream.Recv()
		}
		wantCode(t, "gRPC stream with "+name, err, codes.Unauthenticated)
	}
	good := dial(t, addr, plain, grpc.WithPerRPCCredentials(bearer(testToken)))
	if _, err := good.GetStatus(ctx, &adminv1.GetStatusRequest{}); err != nil {
		t.Errorf("gRPC with the token: %v", err)
	}

	hc := &http.Client{Timeout: testWait}
	for name, header := range map[string]string{
		"no token":     "",
		"wrong token":  "Bearer wrong",
		"wrong scheme": "Basic " + testToken,
		"bare token":   testToken,
	} {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/accounts", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e restError
		_ = decodeJSON(res, &e)
		if res.StatusCode != http.StatusUnauthorized || e.Code != 16 || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("REST with %s: %s %+v", name, res.Status, e)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/accounts", nil)
	req.Header.Set("Authorization", "bearer "+testToken)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("REST with the token: %s", res.Status)
	}
	for _, public := range []string{"/healthz", "/v1/openapi.json"} {
		res, err := hc.Get("http://" + addr + public)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s without a token: %s", public, res.Status)
		}
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token is in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "request refused") {
		t.Errorf("refusals are not logged:\n%s", logs.String())
	}
}

// TestNonLoopbackNeedsCredentials: the API refuses to start on another
// address without a token or mutual TLS, naming the setting.
func TestNonLoopbackNeedsCredentials(t *testing.T) {
	h := newHub(t)
	for _, addr := range []string{"0.0.0.0:8480", "[::]:8480", "192.0.2.1:8480", "api.example.org:8480"} {
		_, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: addr})
		if err == nil || !strings.Contains(err.Error(), "api.token: required") {
			t.Errorf("New(%s) without credentials: %v", addr, err)
		}
	}
	if _, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: "0.0.0.0:8480", Auth: mgmt.Auth{Token: "x"}}); err != nil {
		t.Errorf("with a token: %v", err)
	}
	if _, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: "0.0.0.0:8480", Auth: mgmt.Auth{TLSCert: "c", TLSKey: "k", ClientCA: "ca"}}); err != nil {
		t.Errorf("with mutual TLS: %v", err)
	}
	if _, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: "127.0.0.1:0", Auth: mgmt.Auth{ClientCA: "ca"}}); err == nil || !strings.Contains(err.Error(), "api.client_ca") {
		t.Errorf("client CA without TLS: %v", err)
	}
	srv, err := mgmt.New(mgmt.Options{Admin: h.admin, Listen: "127.0.0.1:0", Auth: mgmt.Auth{TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "api.tls_cert") {
		t.Errorf("Start with a missing certificate: %v", err)
	}
}

// pki is a throwaway CA with a server and client certificates.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string // the server's
	clientCert, clientKey     string // signed by the CA
	strangerCert, strangerKey string // signed by another CA
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	ca, caKey := makeCA(t, "test CA")
	other, otherKey := makeCA(t, "other CA")
	p.caFile = p.writePEM(t, "ca.pem", "CERTIFICATE", ca.Raw)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)
	p.certFile, p.keyFile = p.leaf(t, "server", ca, caKey, true)
	p.clientCert, p.clientKey = p.leaf(t, "client", ca, caKey, false)
	p.strangerCert, p.strangerKey = p.leaf(t, "stranger", other, otherKey, false)
	return p
}

func makeCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func (p *pki) leaf(t *testing.T, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.writePEM(t, name+".pem", "CERTIFICATE", der), p.writePEM(t, name+".key", "EC PRIVATE KEY", kder)
}

func (p *pki) writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *pki) clientTLS(t *testing.T, cert, key string) *tls.Config {
	t.Helper()
	c := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	if cert != "" {
		kp, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c
}

// TestMutualTLS: with api.client_ca, gRPC and REST need a client
// certificate from that CA; without one they get UNAUTHENTICATED / 401,
// and a certificate from another CA fails the handshake.
func TestMutualTLS(t *testing.T) {
	h := newHub(t)
	p := newPKI(t)
	a := startAPI(t, h, mgmt.Auth{TLSCert: p.certFile, TLSKey: p.keyFile, ClientCA: p.caFile})
	ctx := ctxT(t)

	good := dial(t, a.addr, grpc.WithTransportCredentials(credentials.NewTLS(p.clientTLS(t, p.clientCert, p.clientKey))))
	if _, err := good.GetStatus(ctx, &adminv1.GetStatusRequest{}); err != nil {
		t.Fatalf("gRPC with a client certificate: %v", err)
	}
	stream, err := good.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: alice, Platform: "sandbox", Inputs: map[string]string{"phone": alicePhone}})
	if err != nil {
		t.Fatal(err)
	}
	if steps, err := recvAll(t, stream); err != nil || len(steps) != 2 {
		t.Errorf("link over mutual TLS: %v %v", steps, err)
	}
	none := dial(t, a.addr, grpc.WithTransportCredentials(credentials.NewTLS(p.clientTLS(t, "", ""))))
	_, err = none.GetStatus(ctx, &adminv1.GetStatusRequest{})
	wantCode(t, "gRPC without a client certificate", err, codes.Unauthenticated)
	stranger := dial(t, a.addr, grpc.WithTransportCredentials(credentials.NewTLS(p.clientTLS(t, p.strangerCert, p.strangerKey))))
	if _, err := stranger.GetStatus(ctx, &adminv1.GetStatusRequest{}); status.Code(err) == codes.OK {
		t.Errorf("gRPC with a certificate of another CA succeeded")
	}
	// Forced on the server, a certificate of another CA fails the handshake.
	forced := p.clientTLS(t, p.strangerCert, p.strangerKey)
	kp := forced.Certificates[0]
	forced.Certificates = nil
	forced.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &kp, nil }
	_, err = dial(t, a.addr, grpc.WithTransportCredentials(credentials.NewTLS(forced))).GetStatus(ctx, &adminv1.GetStatusRequest{})
	wantCode(t, "gRPC with a forced certificate of another CA", err, codes.Unavailable)
	plain := dial(t, a.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if _, err := plain.GetStatus(ctx, &adminv1.GetStatusRequest{}); status.Code(err) == codes.OK {
		t.Errorf("plain-text gRPC to a TLS API succeeded")
	}

	https := func(cert, key string) *http.Client {
		return &http.Client{Timeout: testWait, Transport: &http.Transport{TLSClientConfig: p.clientTLS(t, cert, key)}}
	}
	res, err := https(p.clientCert, p.clientKey).Get("https://" + a.addr + "/v1/accounts")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("REST with a client certificate: %s", res.Status)
	}
	res, err = https("", "").Get("https://" + a.addr + "/v1/accounts")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("REST without a client certificate: %s", res.Status)
	}
	// Go's client does not even offer a certificate the server's CAs did
	// not sign; either way the request is refused.
	if res, err := https(p.strangerCert, p.strangerKey).Get("https://" + a.addr + "/v1/accounts"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("REST with a certificate of another CA: %s", res.Status)
		}
	}
}

// TestMutualTLSAndToken: both configured, both needed.
func TestMutualTLSAndToken(t *testing.T) {
	h := newHub(t)
	p := newPKI(t)
	a := startAPI(t, h, mgmt.Auth{TLSCert: p.certFile, TLSKey: p.keyFile, ClientCA: p.caFile, Token: testToken})
	ctx := ctxT(t)
	creds := grpc.WithTransportCredentials(credentials.NewTLS(p.clientTLS(t, p.clientCert, p.clientKey)))
	_, err := dial(t, a.addr, creds).GetStatus(ctx, &adminv1.GetStatusRequest{})
	wantCode(t, "certificate without the token", err, codes.Unauthenticated)
	if _, err := dial(t, a.addr, creds, grpc.WithPerRPCCredentials(bearer(testToken))).GetStatus(ctx, &adminv1.GetStatusRequest{}); err != nil {
		t.Errorf("certificate and token: %v", err)
	}
}
