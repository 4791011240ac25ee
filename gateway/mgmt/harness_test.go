package mgmt_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/event"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
	"github.com/drawbridge-im/drawbridge/gateway/mgmt"
	"github.com/drawbridge-im/drawbridge/gateway/store/sqlitestore"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

const testWait = 20 * time.Second

// hub is a real gateway with the sandbox (auto_confirm) and a fake
// QR-code platform, on a sqlite store, without an XMPP side.
type hub struct {
	gw      *gateway.Gateway
	admin   *gateway.Admin
	sandbox *sandbox.Adapter
	// reload is what ReloadConfig returns.
	reload func(context.Context) (gateway.ReloadReport, error)
	linkUp bool
	mu     sync.Mutex
}

type discardFrontend struct{}

// Deliver drops d, confirming it.
func (discardFrontend) Deliver(_ context.Context, d gateway.Delivery) error {
	if d.Done != nil {
		d.Done()
	}
	return nil
}

func newHub(t *testing.T) *hub {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &hub{sandbox: sandbox.New(sandbox.NewPlatform(sandbox.Options{}))}
	h.gw, err = gateway.New(gateway.Options{
		Store:    st,
		Adapters: []gateway.Adapter{h.sandbox, &qrAdapter{}},
		AdapterConfig: map[ids.PlatformID]map[string]any{
			sandbox.PlatformID: {"auto_confirm": true},
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.admin = gateway.NewAdmin(h.gw, gateway.AdminOptions{
		Link: func() gateway.LinkStatus {
			h.mu.Lock()
			defer h.mu.Unlock()
			return gateway.LinkStatus{Connected: h.linkUp, Connects: 3, Disconnects: 2, StanzasIn: 40, StanzasOut: 41, Queued: 1}
		},
		Reload: func(ctx context.Context) (gateway.ReloadReport, error) {
			if h.reload == nil {
				return gateway.ReloadReport{}, gateway.ErrNotSupported
			}
			return h.reload(ctx)
		},
		Version: "test", Component: "gw.example.test", StoreBackend: "sqlite",
	})
	h.gw.SetFrontend(h.admin.TrackActivity(discardFrontend{}))
	if err := h.gw.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.gw.Stop(context.Background())
		st.Close()
	})
	return h
}

// api is a running API server with a gRPC client and the REST base URL.
type api struct {
	srv  *mgmt.Server
	addr string
	base string
	gc   adminv1.AdminServiceClient
	http *http.Client
}

func startAPI(t *testing.T, h *hub, auth mgmt.Auth) *api {
	t.Helper()
	return startAPIWith(t, h, mgmt.Options{Auth: auth})
}

// startAPIWith starts the API with opts, on 127.0.0.1 unless opts.Listen
// says otherwise.
func startAPIWith(t *testing.T, h *hub, opts mgmt.Options) *api {
	t.Helper()
	auth := opts.Auth
	opts.Admin = h.admin
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := mgmt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	a := &api{srv: srv, addr: srv.Addr().String(), http: &http.Client{Timeout: testWait}}
	a.base = "http://" + a.addr
	if auth.TLSCert == "" {
		conn, err := grpc.NewClient("passthrough:///"+a.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		a.gc = adminv1.NewAdminServiceClient(conn)
	}
	return a
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// rest does one REST call and decodes the JSON answer into out (if not
// nil); it returns the HTTP status.
func (a *api) rest(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, a.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return res.StatusCode
}

// restStream is a REST server-streaming call: one JSON object per line.
type restStream struct {
	t   *testing.T
	res *http.Response
	sc  *bufio.Scanner
}

func (a *api) restStream(t *testing.T, path, body string) *restStream {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, a.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(res.Body)
		t.Fatalf("POST %s: %s %s", path, res.Status, data)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &restStream{t: t, res: res, sc: sc}
}

// restStep is one line of a streamed LinkAccount.
type restStep struct {
	Result *struct {
		FlowID       string `json:"flow_id"`
		Kind         string `json:"kind"`
		Instructions string `json:"instructions"`
		Data         string `json:"data"`
		QRPNG        []byte `json:"qr_png"`
		Account      string `json:"account"`
		Problem      string `json:"problem"`
		Fields       []struct {
			ID string `json:"id"`
		} `json:"fields"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *restStream) next() restStep {
	s.t.Helper()
	if !s.sc.Scan() {
		s.t.Fatalf("stream ended: %v", s.sc.Err())
	}
	var st restStep
	if err := json.Unmarshal(s.sc.Bytes(), &st); err != nil {
		s.t.Fatalf("stream line %q: %v", s.sc.Text(), err)
	}
	return st
}

// qrAdapter is a platform whose only login flow shows two QR codes, the
// second after the first "expires", then links account "qr-account".
type qrAdapter struct{ host gateway.Host }

func (*qrAdapter) Info() gateway.Info {
	return gateway.Info{ID: "qrtest", Name: "QR Test", GatewayType: "qrtest", UserPrompt: "User id"}
}
func (q *qrAdapter) Init(h gateway.Host, _ map[string]any) error { q.host = h; return nil }
func (*qrAdapter) Start(context.Context) error                   { return nil }
func (*qrAdapter) Stop(context.Context) error                    { return nil }
func (*qrAdapter) LoginFlows() []gateway.LoginFlow {
	return []gateway.LoginFlow{{ID: "qr", Name: "QR code", Description: "Scan with the app"}}
}
func (*qrAdapter) NewLogin(context.Context, ids.Owner, string) (gateway.Login, error) {
	return &qrLogin{}, nil
}
func (*qrAdapter) LoadSession(context.Context, ids.AccountID) (gateway.Session, error) {
	return qrSession{}, nil
}

type qrLogin struct{ n int }

func (l *qrLogin) Start(context.Context) (gateway.LoginStep, error) {
	l.n = 1
	return gateway.LoginStep{Kind: gateway.StepQR, Instructions: "Scan this", Data: "qr-payload-1", Expires: time.Now().Add(time.Minute)}, nil
}
func (*qrLogin) Submit(context.Context, map[string]string) (gateway.LoginStep, error) {
	return gateway.LoginStep{}, gateway.ErrBadRequest
}
func (l *qrLogin) Wait(context.Context) (gateway.LoginStep, error) {
	l.n++
	if l.n == 2 {
		return gateway.LoginStep{Kind: gateway.StepQR, Instructions: "Scan this one", Data: "qr-payload-2"}, nil
	}
	return gateway.LoginStep{Kind: gateway.StepDone, Account: "qr-account"}, nil
}
func (*qrLogin) Cancel() {}

type qrSession struct{}

func (qrSession) Connect(context.Context)      {}
func (qrSession) Disconnect()                  {}
func (qrSession) Logout(context.Context) error { return nil }
func (qrSession) Capabilities(ids.ChatID) gateway.Capabilities {
	return gateway.Capabilities{MaxBodyLength: 100, Edits: true, EditWindow: 15 * time.Minute, MaxFileSize: 1 << 20, MediaTypes: []string{"image/*"}}
}
func (qrSession) SendMessage(context.Context, *event.Message) (ids.MessageID, error) {
	return "qr-msg-1", nil
}
func (qrSession) EditMessage(context.Context, *event.Edit) error { return nil }

func decodeJSON(res *http.Response, out any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(out)
}
