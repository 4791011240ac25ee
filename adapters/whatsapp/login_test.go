package whatsapp_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/drawbridge-im/drawbridge/adapters/whatsapp"
	wt "github.com/drawbridge-im/drawbridge/adapters/whatsapp/whatsapptest"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/gatewaytest"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
)

func TestConformance(t *testing.T) {
	var factories sync.Map // *whatsapp.Adapter → its *wt.Factory
	gatewaytest.RunAdapterConformance(t, gatewaytest.Conformance{
		NewAdapter: func(t *testing.T) gateway.Adapter {
			f := &wt.Factory{}
			a := whatsapp.New(whatsapp.WithClientFactory(f.New))
			factories.Store(a, f)
			return a
		},
		Config:  map[string]any{whatsapp.ConfigDatabase: t.TempDir() + "/conformance.db"},
		Owner:   owner,
		Contact: aliceChat,
		Confirm: func(t *testing.T, a gateway.Adapter, step gateway.LoginStep) {
			if step.Kind != gateway.StepQR {
				t.Fatalf("step %s, want qr", step.Kind)
			}
			v, _ := factories.Load(a)
			f := v.(*wt.Factory)
			c := f.Clients()[len(f.Clients())-1]
			if err := c.PairSuccess(t.Context(), ownerPhone, ownerLID); err != nil {
				t.Fatal(err)
			}
		},
		Unlinked: "+15557654321",
	})
}

func TestInfoAndFlows(t *testing.T) {
	e := newEnv(t, map[string]any{whatsapp.ConfigComponentJID: "wa.example.org"})
	info := e.a.Info()
	if info.ID != "whatsapp" || info.GatewayType != "whatsapp" || info.Name != "WhatsApp" {
		t.Errorf("Info = %+v", info)
	}
	if got := store.DeviceProps.GetOs(); got != "Drawbridge (wa.example.org)" {
		t.Errorf("device name = %q", got)
	}
	flows := e.a.LoginFlows()
	if len(flows) != 2 || flows[0].ID != whatsapp.FlowQR || flows[1].ID != whatsapp.FlowPairingCode {
		t.Errorf("LoginFlows = %+v", flows)
	}
	if _, err := e.a.NewLogin(e.ctx, owner, "sms"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("NewLogin(sms) = %v, want ErrBadRequest", err)
	}
}

func TestDeviceNameOverride(t *testing.T) {
	newEnv(t, map[string]any{whatsapp.ConfigComponentJID: "wa.example.org", whatsapp.ConfigDeviceName: "My bridge"})
	if got := store.DeviceProps.GetOs(); got != "My bridge" {
		t.Errorf("device name = %q", got)
	}
}

func TestQRRotationAndSuccess(t *testing.T) {
	e := newEnv(t, nil)
	l, err := e.a.NewLogin(e.ctx, owner, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	step, err := l.Start(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if step.Kind != gateway.StepQR || step.Data != "QR-CODE-1" || step.Expires.IsZero() || !strings.Contains(step.Instructions, "Linked devices") {
		t.Fatalf("first step = %+v", step)
	}
	c := e.client(0)
	for i, code := range []string{"QR-CODE-2", "QR-CODE-3"} {
		c.QR(code, 20*time.Second)
		step, err = l.Wait(e.ctx)
		if err != nil || step.Kind != gateway.StepQR || step.Data != code {
			t.Fatalf("rotation %d: %+v, %v", i, step, err)
		}
		if d := time.Until(step.Expires); d < 15*time.Second || d > 21*time.Second {
			t.Errorf("rotation %d expires in %s, want ~20s", i, d)
		}
	}
	// Codes that nobody waited for are skipped: Wait shows the newest.
	c.QR("QR-CODE-4", 20*time.Second)
	c.QR("QR-CODE-5", 20*time.Second)
	testutil.WaitFor(t, "code 5", func() bool {
		step, err = l.Wait(e.ctx)
		return err == nil && step.Data == "QR-CODE-5"
	})
	if err := c.PairSuccess(e.ctx, ownerPhone, ownerLID); err != nil {
		t.Fatal(err)
	}
	step, err = l.Wait(e.ctx)
	if err != nil || step.Kind != gateway.StepDone || step.Account != ownerPhone {
		t.Fatalf("after pairing: %+v, %v", step, err)
	}
	// Waiting again repeats the result.
	if again, err := l.Wait(e.ctx); err != nil || again.Kind != gateway.StepDone {
		t.Errorf("second Wait = %+v, %v", again, err)
	}
	jid, err := e.h.KV(ownerPhone).Get(e.ctx, "device_jid")
	if err != nil || string(jid) != "15550000100:7@s.whatsapp.net" {
		t.Errorf("device_jid = %q, %v", jid, err)
	}
	if _, err := e.a.LoadSession(e.ctx, ownerPhone); err != nil {
		t.Errorf("LoadSession after linking: %v", err)
	}
}

func TestQRFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		item whatsmeow.QRChannelItem
		want error
		text string
	}{
		{"timeout", whatsmeow.QRChannelTimeout, whatsapp.ErrLoginExpired, "expired"},
		{"error", whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: errors.New("bad signature")}, nil, "bad signature"},
		{"outdated", whatsmeow.QRChannelClientOutdated, whatsapp.ErrClientOutdated, "update Drawbridge"},
		{"unexpected", whatsmeow.QRChannelErrUnexpectedEvent, nil, "unexpectedly"},
		{"passkey", whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventPasskeyRequest, PasskeyRequest: &events.PairPasskeyRequest{}}, gateway.ErrNotSupported, "passkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			l, err := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Cancel()
			if _, err := l.Start(e.ctx); err != nil {
				t.Fatal(err)
			}
			c := e.client(0)
			c.QRItem(tc.item)
			_, err = l.Wait(e.ctx)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Wait = %v, want %v containing %q", err, tc.want, tc.text)
			}
			if c.IsConnected() {
				t.Error("the login connection stayed open")
			}
			if _, err := l.Wait(e.ctx); err == nil {
				t.Error("a failed login went on")
			}
		})
	}
}

func TestQRScannedWithoutMultidevice(t *testing.T) {
	e := newEnv(t, nil)
	l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
	defer l.Cancel()
	if _, err := l.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.client(0).QRItem(whatsmeow.QRChannelScannedWithoutMultidevice)
	step, err := l.Wait(e.ctx)
	if err != nil || step.Kind != gateway.StepQR || !strings.Contains(step.Instructions, "update WhatsApp") {
		t.Fatalf("Wait = %+v, %v", step, err)
	}
}

func TestConnectFailureAtLogin(t *testing.T) {
	e := newEnv(t, nil)
	e.f.Configure = func(c *wt.Client) { c.ConnectErr = errors.New("dial tcp: no route") }
	l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
	defer l.Cancel()
	if _, err := l.Start(e.ctx); !errors.Is(err, gateway.ErrUnavailable) || !strings.Contains(err.Error(), "no route") {
		t.Fatalf("Start = %v, want ErrUnavailable", err)
	}
}

func TestPasskeyConfirmation(t *testing.T) {
	for _, answer := range []string{"yes", "no"} {
		t.Run(answer, func(t *testing.T) {
			e := newEnv(t, nil)
			l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
			defer l.Cancel()
			if _, err := l.Start(e.ctx); err != nil {
				t.Fatal(err)
			}
			c := e.client(0)
			c.QRItem(whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventPasskeyResponse,
				PasskeyConfirmation: &events.PairPasskeyConfirmation{Code: "123456"}})
			step, err := l.Wait(e.ctx)
			if err != nil || step.Kind != gateway.StepInput || step.Data != "123456" || step.Fields[0].ID != whatsapp.FieldConfirm {
				t.Fatalf("Wait = %+v, %v", step, err)
			}
			if _, err := l.Wait(e.ctx); !errors.Is(err, gateway.ErrBadRequest) {
				t.Errorf("Wait before answering = %v, want ErrBadRequest", err)
			}
			if _, err := l.Submit(e.ctx, map[string]string{whatsapp.FieldConfirm: "maybe"}); !errors.Is(err, gateway.ErrBadRequest) {
				t.Errorf("Submit(maybe) = %v", err)
			}
			if answer == "no" {
				if _, err := l.Submit(e.ctx, map[string]string{whatsapp.FieldConfirm: "no"}); err == nil {
					t.Fatal("Submit(no) went on")
				}
				return
			}
			go func() {
				if err := c.WaitCall(e.ctx, "SendPasskeyConfirmation", 1); err == nil {
					_ = c.PairSuccess(e.ctx, ownerPhone, "")
				}
			}()
			step, err = l.Submit(e.ctx, map[string]string{whatsapp.FieldConfirm: "yes"})
			if err != nil || step.Kind != gateway.StepDone || step.Account != ownerPhone {
				t.Fatalf("Submit(yes) = %+v, %v", step, err)
			}
		})
	}
}

func TestPairingCode(t *testing.T) {
	e := newEnv(t, nil)
	l, err := e.a.NewLogin(e.ctx, owner, whatsapp.FlowPairingCode)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Cancel()
	step, err := l.Start(e.ctx)
	if err != nil || step.Kind != gateway.StepInput || step.Fields[0].ID != whatsapp.FieldPhone {
		t.Fatalf("Start = %+v, %v", step, err)
	}
	if _, err := l.Wait(e.ctx); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("Wait before the phone number = %v, want ErrBadRequest", err)
	}
	for _, bad := range []string{"", "hello", "12"} {
		if _, err := l.Submit(e.ctx, map[string]string{whatsapp.FieldPhone: bad}); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("Submit(%q) = %v, want ErrBadRequest", bad, err)
		}
	}
	before := time.Now()
	step, err = l.Submit(e.ctx, map[string]string{whatsapp.FieldPhone: "+1 (555) 000-0100"})
	if err != nil || step.Kind != gateway.StepCode || step.Data != "ABCD-EFGH" {
		t.Fatalf("Submit = %+v, %v", step, err)
	}
	if d := step.Expires.Sub(before); d < 150*time.Second || d > 170*time.Second {
		t.Errorf("code expires in %s, want ~160s", d)
	}
	if !strings.Contains(step.Instructions, "ABCD-EFGH") || !strings.Contains(step.Instructions, "+15550000100") {
		t.Errorf("instructions: %q", step.Instructions)
	}
	c := e.client(0)
	if got := c.PairedPhones(); len(got) != 1 || got[0] != "+15550000100|1|Chrome (Linux)" {
		t.Errorf("PairPhone calls = %v", got)
	}
	// QR codes keep rotating underneath; they are not shown.
	c.QR("QR-CODE-2", 20*time.Second)
	if err := c.PairSuccess(e.ctx, ownerPhone, ownerLID); err != nil {
		t.Fatal(err)
	}
	step, err = l.Wait(e.ctx)
	if err != nil || step.Kind != gateway.StepDone || step.Account != ownerPhone {
		t.Fatalf("Wait = %+v, %v", step, err)
	}
}

func TestPairingCodeErrors(t *testing.T) {
	t.Run("refused number", func(t *testing.T) {
		e := newEnv(t, nil)
		e.f.Configure = func(c *wt.Client) { c.PairErr = whatsmeow.ErrPhoneNumberIsNotInternational }
		l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowPairingCode)
		defer l.Cancel()
		l.Start(e.ctx)
		if _, err := l.Submit(e.ctx, map[string]string{whatsapp.FieldPhone: ownerPhone}); !errors.Is(err, gateway.ErrBadRequest) {
			t.Errorf("Submit = %v, want ErrBadRequest", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t, nil)
		l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowPairingCode)
		defer l.Cancel()
		l.Start(e.ctx)
		if _, err := l.Submit(e.ctx, map[string]string{whatsapp.FieldPhone: ownerPhone}); err != nil {
			t.Fatal(err)
		}
		e.client(0).QRItem(whatsmeow.QRChannelTimeout)
		if _, err := l.Wait(e.ctx); !errors.Is(err, whatsapp.ErrLoginExpired) {
			t.Errorf("Wait = %v, want ErrLoginExpired", err)
		}
	})
}

func TestCancelLogin(t *testing.T) {
	e := newEnv(t, nil)
	l, _ := e.a.NewLogin(e.ctx, owner, whatsapp.FlowQR)
	if _, err := l.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := l.Wait(e.ctx); done <- err }()
	l.Cancel()
	l.Cancel()
	if err := <-done; !errors.Is(err, whatsapp.ErrLoginCancelled) {
		t.Errorf("Wait after Cancel = %v", err)
	}
	if e.client(0).IsConnected() {
		t.Error("cancelled login still connected")
	}
}

func TestLoadSessionUnlinked(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.a.LoadSession(e.ctx, "+15557654321"); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("LoadSession = %v, want ErrNotLinked", err)
	}
	if _, err := e.a.LoadSession(e.ctx, "alice"); !errors.Is(err, gateway.ErrBadRequest) {
		t.Errorf("LoadSession(alice) = %v, want ErrBadRequest", err)
	}
	// A device JID whose device the store no longer has.
	if err := e.h.KV("+15557654321").Set(e.ctx, "device_jid", []byte("15557654321:3@s.whatsapp.net")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.LoadSession(e.ctx, "+15557654321"); !errors.Is(err, gateway.ErrNotLinked) {
		t.Errorf("LoadSession of a vanished device = %v, want ErrNotLinked", err)
	}
	if _, err := e.h.KV("+15557654321").Get(e.ctx, "device_jid"); err == nil {
		t.Error("the vanished device's JID was kept")
	}
}
