package mgmt_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/drawbridge-im/drawbridge/adapters/sandbox"
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/internal/testutil"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

const (
	alice      = "alice@example.test"
	alicePhone = "+15557654321"
	bob        = "bob@example.test"
	bobPhone   = "+15557654322"
)

func wantCode(t *testing.T, what string, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Errorf("%s: code %s (%v), want %s", what, got, err, code)
	}
}

// recvAll reads a LinkAccount stream to its end.
func recvAll(t *testing.T, s adminv1.AdminService_LinkAccountClient) ([]*adminv1.LoginStep, error) {
	t.Helper()
	var steps []*adminv1.LoginStep
	for {
		st, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return steps, nil
		}
		if err != nil {
			return steps, err
		}
		steps = append(steps, st)
	}
}

func kinds(steps []*adminv1.LoginStep) []adminv1.LoginStepKind {
	var k []adminv1.LoginStepKind
	for _, s := range steps {
		k = append(k, s.GetKind())
	}
	return k
}

// TestGRPC calls every RPC over real gRPC on a loopback listener.
func TestGRPC(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	ctx := ctxT(t)
	c := a.gc

	st, err := c.GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetVersion() != "test" || st.GetComponent() != "gw.example.test" || st.GetXmpp().GetConnected() ||
		st.GetXmpp().GetConnects() != 3 || st.GetXmpp().GetQueued() != 1 || !st.GetStore().GetReachable() ||
		st.GetStore().GetBackend() != "sqlite" || st.GetCounts().GetRegistered() != 0 {
		t.Errorf("GetStatus = %v", st)
	}

	ads, err := c.ListAdapters(ctx, &adminv1.ListAdaptersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ads.GetAdapters()) != 2 || ads.Adapters[0].GetId() != "sandbox" || ads.Adapters[0].GetLoginFlows()[0].GetId() != sandbox.FlowPairingCode ||
		ads.Adapters[0].GetCapabilitiesKnown() || ads.Adapters[1].GetId() != "qrtest" {
		t.Errorf("ListAdapters = %v", ads)
	}

	// Several platforms: requests must name one.
	_, err = c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: alice})
	wantCode(t, "GetAccount without platform", err, codes.InvalidArgument)
	_, err = c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: alice, Platform: "nope"})
	wantCode(t, "GetAccount of an unknown platform", err, codes.InvalidArgument)
	_, err = c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: alice, Platform: "sandbox"})
	wantCode(t, "GetAccount before registering", err, codes.NotFound)
	_, err = c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: "not a jid@", Platform: "sandbox"})
	wantCode(t, "GetAccount of a bad JID", err, codes.InvalidArgument)
	_, err = c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: alice + "/phone", Platform: "sandbox"})
	wantCode(t, "GetAccount of a full JID", err, codes.InvalidArgument)

	// Link with the phone number given up front: code, then done.
	stream, err := c.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: "Alice@Example.TEST", Platform: "sandbox",
		Inputs: map[string]string{sandbox.FieldPhone: alicePhone}})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := recvAll(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if want := []adminv1.LoginStepKind{adminv1.LoginStepKind_LOGIN_STEP_KIND_CODE, adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE}; !slices.Equal(kinds(steps), want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	if steps[0].GetData() == "" || steps[0].GetExpires() == nil || steps[0].GetFlowId() == "" || steps[1].GetAccount() != alicePhone || steps[1].GetFlowId() != steps[0].GetFlowId() {
		t.Errorf("steps = %v", steps)
	}

	acct, err := c.GetAccount(ctx, &adminv1.GetAccountRequest{Owner: alice, Platform: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if acct.GetOwner() != alice || acct.GetPlatformAccount() != alicePhone || !acct.GetLinked() || !acct.GetSession() ||
		acct.GetRegistered() == nil || acct.GetUpdated() == nil || acct.GetLastActivity() == nil {
		t.Errorf("GetAccount = %v", acct)
	}
	list, err := c.ListAccounts(ctx, &adminv1.ListAccountsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetAccounts()) != 1 || list.Accounts[0].GetOwner() != alice {
		t.Errorf("ListAccounts = %v", list)
	}
	if l, err := c.ListAccounts(ctx, &adminv1.ListAccountsRequest{Platform: "qrtest"}); err != nil || len(l.GetAccounts()) != 0 {
		t.Errorf("ListAccounts(qrtest) = %v, %v", l, err)
	}

	// A test message to the echo bot reaches the platform.
	sent, err := c.SendTestMessage(ctx, &adminv1.SendTestMessageRequest{Owner: alice, Platform: "sandbox", To: "+1 555 000 0001", Body: "ping from the API"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.GetTo() != string(sandbox.EchoBot) || sent.GetMessageId() == "" {
		t.Errorf("SendTestMessage = %v", sent)
	}
	got := h.sandbox.Platform().Received(sandbox.EchoBot)
	if len(got) != 1 || got[0].Body != "ping from the API" {
		t.Errorf("echo bot received %+v", got)
	}
	_, err = c.SendTestMessage(ctx, &adminv1.SendTestMessageRequest{Owner: bob, Platform: "sandbox", To: "+15550000001"})
	wantCode(t, "SendTestMessage without a linked account", err, codes.FailedPrecondition)
	_, err = c.SendTestMessage(ctx, &adminv1.SendTestMessageRequest{Owner: alice, Platform: "sandbox", To: "+19999999999"})
	wantCode(t, "SendTestMessage to nobody", err, codes.NotFound)

	st, err = c.GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if c := st.GetCounts(); c.GetRegistered() != 1 || c.GetLinked() != 1 || c.GetSessions() != 1 || c.GetByState()["connected"] != 1 {
		t.Errorf("counts = %v", c)
	}
	ads, _ = c.ListAdapters(ctx, &adminv1.ListAdaptersRequest{})
	if sb := ads.GetAdapters()[0]; !sb.GetCapabilitiesKnown() || sb.GetSessions() != 1 || sb.GetCapabilities().GetMaxBodyLength() != sandbox.MaxBodyLength ||
		!slices.Contains(sb.GetFeatures(), "receipts") {
		t.Errorf("sandbox adapter with a session = %v", sb)
	}

	// The sandbox cannot describe itself; strangers are not found.
	_, err = c.DiagnoseAccount(ctx, &adminv1.DiagnoseAccountRequest{Owner: alice, Platform: "sandbox"})
	wantCode(t, "DiagnoseAccount of a sandbox session", err, codes.Unimplemented)
	_, err = c.DiagnoseAccount(ctx, &adminv1.DiagnoseAccountRequest{Owner: bob, Platform: "sandbox"})
	wantCode(t, "DiagnoseAccount of a stranger", err, codes.NotFound)
	_, err = c.DiagnoseAccount(ctx, &adminv1.DiagnoseAccountRequest{Owner: "not a jid", Platform: "sandbox"})
	wantCode(t, "DiagnoseAccount of a bad owner", err, codes.InvalidArgument)

	// Unlink; then there is nothing to unlink.
	un, err := c.UnlinkAccount(ctx, &adminv1.UnlinkAccountRequest{Owner: alice, Platform: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if un.GetLinked() || un.GetPlatformAccount() != "" || un.GetSession() {
		t.Errorf("after unlink: %v", un)
	}
	_, err = c.UnlinkAccount(ctx, &adminv1.UnlinkAccountRequest{Owner: alice, Platform: "sandbox"})
	wantCode(t, "UnlinkAccount twice", err, codes.FailedPrecondition)
	_, err = c.UnlinkAccount(ctx, &adminv1.UnlinkAccountRequest{Owner: bob, Platform: "sandbox"})
	wantCode(t, "UnlinkAccount of a stranger", err, codes.NotFound)

	// ReloadConfig: not possible, then possible.
	_, err = c.ReloadConfig(ctx, &adminv1.ReloadConfigRequest{})
	wantCode(t, "ReloadConfig without a source", err, codes.Unimplemented)
	h.reload = func(context.Context) (gateway.ReloadReport, error) {
		return gateway.ReloadReport{Applied: []string{"component.admins"}, NeedsRestart: []string{"store.backend"}}, nil
	}
	rr, err := c.ReloadConfig(ctx, &adminv1.ReloadConfigRequest{})
	if err != nil || !slices.Equal(rr.GetApplied(), []string{"component.admins"}) || !slices.Equal(rr.GetNeedsRestart(), []string{"store.backend"}) {
		t.Errorf("ReloadConfig = %v, %v", rr, err)
	}
}

// TestGRPCInteractiveLink answers the input step with SubmitLoginInput:
// first a refused value, then a good one.
func TestGRPCInteractiveLink(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	ctx := ctxT(t)
	c := a.gc

	_, err := c.SubmitLoginInput(ctx, &adminv1.SubmitLoginInputRequest{FlowId: "lf-nope"})
	wantCode(t, "SubmitLoginInput to no flow", err, codes.NotFound)

	stream, err := c.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: bob, Platform: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetKind() != adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT || len(first.GetFields()) != 1 || first.Fields[0].GetId() != sandbox.FieldPhone || first.GetProblem() != "" {
		t.Fatalf("first step = %v", first)
	}
	_, err = c.SubmitLoginInput(ctx, &adminv1.SubmitLoginInputRequest{FlowId: first.GetFlowId(), Inputs: map[string]string{sandbox.FieldPhone: "12345"}})
	wantCode(t, "SubmitLoginInput of a bad phone number", err, codes.InvalidArgument)
	again, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if again.GetKind() != adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT || again.GetProblem() == "" {
		t.Fatalf("after a refused value: %v", again)
	}
	res, err := c.SubmitLoginInput(ctx, &adminv1.SubmitLoginInputRequest{FlowId: first.GetFlowId(), Inputs: map[string]string{sandbox.FieldPhone: bobPhone}})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetNext().GetKind() != adminv1.LoginStepKind_LOGIN_STEP_KIND_CODE {
		t.Errorf("SubmitLoginInput = %v", res)
	}
	rest, err := recvAll(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	if want := []adminv1.LoginStepKind{adminv1.LoginStepKind_LOGIN_STEP_KIND_CODE, adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE}; !slices.Equal(kinds(rest), want) {
		t.Fatalf("steps %v, want %v", rest, want)
	}
	if rest[0].GetData() != res.GetNext().GetData() || rest[1].GetAccount() != bobPhone {
		t.Errorf("steps = %v", rest)
	}
	_, err = c.SubmitLoginInput(ctx, &adminv1.SubmitLoginInputRequest{FlowId: first.GetFlowId(), Inputs: map[string]string{sandbox.FieldPhone: bobPhone}})
	wantCode(t, "SubmitLoginInput after the flow ended", err, codes.NotFound)

	// A refused value given up front: the stream asks again.
	stream, err = c.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: alice, Platform: "sandbox", Inputs: map[string]string{sandbox.FieldPhone: "not a number"}})
	if err != nil {
		t.Fatal(err)
	}
	ask, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if ask.GetKind() != adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT || ask.GetProblem() == "" {
		t.Fatalf("refused up-front value: %v", ask)
	}
}

// TestGRPCLinkClosedStreamCancels: closing the stream abandons the flow.
func TestGRPCLinkClosedStreamCancels(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	ctx, cancel := context.WithCancel(ctxT(t))
	stream, err := a.gc.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: bob, Platform: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.gw.Login(bob, "sandbox"); !ok {
		t.Fatal("no login in progress")
	}
	cancel()
	testutil.Eventually(t, testWait, "the login flow to end with its stream", func() bool {
		_, ok := h.gw.Login(bob, "sandbox")
		return !ok
	})
}

// TestGRPCQRFlow: QR steps carry the payload and a PNG of it.
func TestGRPCQRFlow(t *testing.T) {
	h := newHub(t)
	a := startAPI(t, h, mgmt0())
	ctx := ctxT(t)
	stream, err := a.gc.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: alice, Platform: "qrtest"})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := recvAll(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []adminv1.LoginStepKind{adminv1.LoginStepKind_LOGIN_STEP_KIND_QR, adminv1.LoginStepKind_LOGIN_STEP_KIND_QR, adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE}
	if !slices.Equal(kinds(steps), want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	for i, payload := range []string{"qr-payload-1", "qr-payload-2"} {
		if steps[i].GetData() != payload {
			t.Errorf("step %d data %q", i, steps[i].GetData())
		}
		img, err := png.Decode(bytes.NewReader(steps[i].GetQrPng()))
		if err != nil {
			t.Fatalf("step %d qr_png: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() < 100 || b.Dx() != b.Dy() {
			t.Errorf("step %d QR image %v", i, b)
		}
	}
	if steps[2].GetAccount() != "qr-account" || len(steps[2].GetQrPng()) != 0 {
		t.Errorf("done = %v", steps[2])
	}
	ads, err := a.gc.ListAdapters(ctx, &adminv1.ListAdaptersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	qr := ads.GetAdapters()[1]
	if !qr.GetCapabilitiesKnown() || qr.GetCapabilities().GetEditWindowSeconds() != 900 || qr.GetCapabilities().GetMaxFileSize() != 1<<20 ||
		!slices.Equal(qr.GetFeatures(), []string{"edit"}) || !slices.Equal(qr.GetCapabilities().GetMediaTypes(), []string{"image/*"}) {
		t.Errorf("qrtest adapter = %v", qr)
	}
}
