package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// TestReverseProxySnippets: the nginx and Caddy examples of
// docs/operating.md put TLS in front of the file host's default address
// and of nothing else, and pass `nginx -t` and `caddy validate` (which
// .ci/run installs; elsewhere those subtests skip without them).
func TestReverseProxySnippets(t *testing.T) {
	nginxConf := readDeploy(t, "nginx/drawbridge.conf")
	caddyfile := readDeploy(t, "caddy/Caddyfile")
	upstream := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	for name, text := range map[string]string{"nginx/drawbridge.conf": nginxConf, "caddy/Caddyfile": caddyfile} {
		var targets []string
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "proxy_pass") || strings.HasPrefix(line, "reverse_proxy") {
				targets = append(targets, upstream.FindString(line))
			}
		}
		if len(targets) != 1 || targets[0] != config.DefaultFilesListen {
			t.Errorf("%s proxies to %v, want the file host's default %s only", name, targets, config.DefaultFilesListen)
		}
		if !strings.Contains(text, "public_url: https://files.example.org/") {
			t.Errorf("%s does not show the files.public_url it goes with", name)
		}
	}

	t.Run("nginx -t", func(t *testing.T) {
		needBinaries(t, "nginx")
		dir := t.TempDir()
		cert, key := selfSignedCert(t, dir)
		snippet := strings.NewReplacer(
			"/etc/letsencrypt/live/files.example.org/fullchain.pem", cert,
			"/etc/letsencrypt/live/files.example.org/privkey.pem", key,
		).Replace(nginxConf)
		if snippet == nginxConf {
			t.Fatal("the snippet's certificate paths changed: update the test")
		}
		if err := os.WriteFile(filepath.Join(dir, "drawbridge.conf"), []byte(snippet), 0o600); err != nil {
			t.Fatal(err)
		}
		// The snippet as a distribution's nginx.conf includes it.
		main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n" +
			"  access_log off;\n  client_body_temp_path " + dir + "/body;\n  proxy_temp_path " + dir + "/proxy;\n" +
			"  fastcgi_temp_path " + dir + "/fastcgi;\n  uwsgi_temp_path " + dir + "/uwsgi;\n  scgi_temp_path " + dir + "/scgi;\n" +
			"  include " + dir + "/drawbridge.conf;\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("nginx", "-t", "-q", "-p", dir, "-e", dir+"/error.log", "-c", dir+"/nginx.conf").CombinedOutput()
		if err != nil {
			t.Fatalf("nginx -t: %v\n%s", err, out)
		}
	})

	t.Run("caddy validate", func(t *testing.T) {
		needBinaries(t, "caddy")
		dir := t.TempDir()
		cmd := exec.Command("caddy", "validate", "--adapter", "caddyfile", "--config", filepath.Join(deployDir, "caddy/Caddyfile"))
		// Caddy keeps its state under HOME/XDG directories: the test's.
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid configuration") {
			t.Fatalf("caddy validate: %v\n%s", err, out)
		}
	})
}

// selfSignedCert writes a throwaway certificate and key for
// files.example.org into dir.
func selfSignedCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "files.example.org"},
		DNSNames:     []string{"files.example.org"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
