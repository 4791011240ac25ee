package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	"github.com/drawbridge-im/drawbridge/gateway/store/storetest"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// TestSecretsNeverLogged runs a conversation with debug logging in the
// gateway and in Prosody, with the component secret in the configuration,
// the API token (the admin client reads it from a file), a Redis ACL user
// with a password and the session state encryption key, and then
// scans both logs and the admin client's output for the secrets.
func TestSecretsNeverLogged(t *testing.T) {
	const (
		apiToken      = "e2e-api-token-6c0ffee-secret"
		redisPassword = "e2e-redis-password-b16b00b5"
		encryptionKey = "ZTJlLWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc=" // 32 bytes
	)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(apiToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startE2EConfig(t, config.BackendRedis, xmpptest.ProsodyOptions{LogLevel: "debug"}, func(c *config.Config) {
		// An ACL user with a password (the default user stays open for
		// storetest's readiness check).
		c.Store.Redis.URL = "redis://" + storetest.StartRedis(t, "--user", "gw", "on", ">"+redisPassword, "~*", "&*", "+@all") + "/0"
		c.Store.Redis.Username, c.Store.Redis.Password = "gw", redisPassword
		c.API.Token = apiToken // the admin client reads it from tokenFile
		c.Store.EncryptionKey = encryptionKey
	})
	u := e.user("alice")
	if res := u.iq("set", e2eComponent, `<query xmlns='jabber:iq:register'/>`); !strings.Contains(res.Raw, `type="result"`) {
		t.Fatalf("register: %s", res.Raw)
	}
	linkAdhoc(t, u)
	u.waitMessage(e2eComponent, "is now linked")
	u.raw(`<message type='chat' to='` + echoJID + `' id='s1'><body>is anything secret here?</body></message>`)
	u.waitMessage(echoJID, "echo: is anything secret here?")

	// The admin client with the right token, then a wrong one.
	api := e.app.mgmt.api.Addr().String()
	var out bytes.Buffer
	if err := run(u.ctx(), []string{"accounts", "list", "--api", api, "--token-file", tokenFile}, &out, &out); err != nil {
		t.Fatalf("accounts list: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), alicePhone) {
		t.Errorf("accounts list:\n%s", out.String())
	}
	if err := run(u.ctx(), []string{"accounts", "list", "--api", api, "--token", "wrong-" + apiToken[:4]}, &out, &out); err == nil {
		t.Error("a wrong token was accepted")
	}

	e.shutdown() // flush everything the gateway logs on the way out
	prosodyLog, err := os.ReadFile(e.prosody.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]string{"gateway log": e.logs.String(), "prosody log": string(prosodyLog), "admin client output": out.String()}
	if !strings.Contains(logs["gateway log"], "level=DEBUG") || !strings.Contains(logs["prosody log"], "debug") {
		t.Fatal("debug logging is off: the scan would prove little")
	}
	for name, text := range logs {
		for secret, value := range map[string]string{"component secret": e2eSecret, "API token": apiToken, "redis password": redisPassword, "encryption key": encryptionKey} {
			if strings.Contains(text, value) {
				t.Errorf("the %s contains the %s", name, secret)
			}
		}
	}
}
