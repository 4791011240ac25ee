package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/drawbridge-im/drawbridge/gateway/config"
	adminv1 "github.com/drawbridge-im/drawbridge/proto/drawbridge/admin/v1"
)

const accountsUsage = `usage: drawbridge accounts <subcommand> [flags]

subcommands:
  list                 list the registered users and their linked accounts
  show OWNER           show one user (a bare JID)
  link OWNER           link a platform account for a user: follows the login
                       flow, showing pairing codes and QR codes, asking for input
  unlink OWNER         log the user's platform account out (they stay registered)
  doctor OWNER         what the user's live session knows of itself (platforms
                       that can tell, e.g. WhatsApp: drawbridge whatsapp doctor)

flags (anywhere after the subcommand):
  --api HOST:PORT      the management API (default: $DRAWBRIDGE_API_LISTEN or ` + config.DefaultAPIListen + `);
                       list and show name the gateway that answers on standard error
  --token-file FILE    the bearer token, from a file (default: $DRAWBRIDGE_API_TOKEN_FILE)
  --token TOKEN        the bearer token (default: $DRAWBRIDGE_API_TOKEN; prefer a file or
                       the variable, since arguments are visible to other users)
  --tls                speak TLS (implied by --ca, --cert)
  --ca FILE            CA certificates (PEM) to verify the API's certificate
  --cert, --key FILE   client certificate and key (PEM) for mutual TLS
  --platform ID        the platform, when the gateway has several
  --json               print JSON (one object per line for link) instead of text
  --timeout DURATION   bound for each call except link (default 30s)
link only:
  --input FIELD=VALUE  answer a login field in advance (repeatable), e.g. --input phone=+15550001111
  --flow ID            the login flow (default: the platform's preferred one)
  --invert-qr          draw QR codes dark-on-light for terminals with a light background
`

// apiClient is the command line's connection to the management API.
type apiClient struct {
	conn     *grpc.ClientConn
	c        adminv1.AdminServiceClient
	addr     string
	addrFrom string // where addr came from: "--api", "$DRAWBRIDGE_API_LISTEN" or "the default"
	platform string
	json     bool
	timeout  time.Duration
	invertQR bool
	stdin    *bufio.Reader
	stdout   io.Writer
	stderr   io.Writer
}

// bearer sends the API token with every call. The API may be plain text
// on loopback, so it does not insist on transport security.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// inputFlag collects --input FIELD=VALUE.
type inputFlag map[string]string

func (f inputFlag) String() string { return "" }

func (f inputFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want FIELD=VALUE, got %q", s)
	}
	f[k] = v
	return nil
}

func cmdAccounts(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, accountsUsage)
		if len(args) == 0 {
			return errors.New("accounts: want a subcommand")
		}
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("accounts "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, accountsUsage) }
	apiAddr := fs.String("api", envOr("DRAWBRIDGE_API_LISTEN", config.DefaultAPIListen), "")
	token := fs.String("token", os.Getenv("DRAWBRIDGE_API_TOKEN"), "")
	tokenFile := fs.String("token-file", os.Getenv("DRAWBRIDGE_API_TOKEN_FILE"), "")
	useTLS := fs.Bool("tls", false, "")
	caFile := fs.String("ca", "", "")
	certFile := fs.String("cert", "", "")
	keyFile := fs.String("key", "", "")
	platform := fs.String("platform", "", "")
	asJSON := fs.Bool("json", false, "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	flow := fs.String("flow", "", "")
	invertQR := fs.Bool("invert-qr", false, "")
	inputs := inputFlag{}
	fs.Var(inputs, "input", "")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "link": 1, "unlink": 1, "status": 0, "doctor": 1}
	n, known := want[sub]
	if !known {
		fmt.Fprint(stderr, accountsUsage)
		return fmt.Errorf("accounts: unknown subcommand %q", sub)
	}
	if len(pos) != n {
		if n == 0 {
			return fmt.Errorf("accounts %s: takes no arguments", sub)
		}
		return fmt.Errorf("accounts %s: want exactly one OWNER (a bare JID)", sub)
	}
	if *tokenFile != "" {
		if *token != "" && os.Getenv("DRAWBRIDGE_API_TOKEN") != *token {
			return errors.New("accounts: --token and --token-file cannot be combined")
		}
		data, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("accounts: --token-file: %w", err)
		}
		*token = strings.TrimRight(string(data), "\r\n")
	}
	creds := insecure.NewCredentials()
	if *useTLS || *caFile != "" || *certFile != "" {
		tc, err := clientTLS(*caFile, *certFile, *keyFile)
		if err != nil {
			return err
		}
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if *token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(*token)))
	}
	conn, err := grpc.NewClient("passthrough:///"+*apiAddr, opts...)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer conn.Close()
	addrFrom := "the default"
	if os.Getenv("DRAWBRIDGE_API_LISTEN") != "" {
		addrFrom = "$DRAWBRIDGE_API_LISTEN"
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "api" {
			addrFrom = "--api"
		}
	})
	c := &apiClient{
		conn: conn, c: adminv1.NewAdminServiceClient(conn), addr: *apiAddr, addrFrom: addrFrom, platform: *platform,
		json: *asJSON, timeout: *timeout, invertQR: *invertQR,
		stdin: bufio.NewReader(stdin), stdout: stdout, stderr: stderr,
	}
	switch sub {
	case "list":
		err = c.list(ctx)
	case "show":
		err = c.show(ctx, pos[0])
	case "link":
		err = c.link(ctx, pos[0], *flow, inputs)
	case "unlink":
		err = c.unlink(ctx, pos[0])
	case "status": // drawbridge status (status.go)
		err = c.status(ctx)
	case "doctor": // drawbridge whatsapp doctor (doctor.go)
		err = c.doctor(ctx, pos[0])
	}
	if err != nil {
		return fmt.Errorf("accounts %s: %w", sub, c.explain(err))
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func clientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("accounts: --ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("accounts: --ca: %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("accounts: --cert and --key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("accounts: --cert, --key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// explain turns a gRPC status into a sentence.
func (c *apiClient) explain(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("cannot reach the management API at %s (is the gateway running, with api.listen set?): %s", c.addr, st.Message())
	case codes.Unauthenticated:
		return fmt.Errorf("the API refused the credentials: %s (see --token-file, --cert)", st.Message())
	}
	return fmt.Errorf("%s: %s", st.Code(), st.Message())
}

func (c *apiClient) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// begin announces which gateway answers and returns the context of one
// call: bounded by the client's timeout and ended with ctx; done releases
// it.
func (c *apiClient) begin(ctx context.Context) (cctx context.Context, done func(), err error) {
	if err := c.announce(ctx); err != nil {
		return nil, nil, err
	}
	cctx, cancel := c.call()
	stop := context.AfterFunc(ctx, cancel)
	return cctx, func() { stop(); cancel() }, nil
}

var jsonOut = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// printJSON prints m in the REST API's JSON form, with stable spacing
// (protojson's own varies on purpose).
func (c *apiClient) printJSON(m proto.Message, multiline bool) error {
	b, err := jsonOut.Marshal(m)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if multiline {
		err = json.Indent(&out, b, "", "  ")
	} else {
		err = json.Compact(&out, b)
	}
	if err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = c.stdout.Write(out.Bytes())
	return err
}

func when(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format("2006-01-02 15:04:05Z")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// announce says on standard error which gateway answers: its component
// domain and the API address, and where that address came from, so that
// an operator with several gateways on one machine sees which one this is.
func (c *apiClient) announce(ctx context.Context) error {
	cctx, cancel := c.call()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	st, err := c.c.GetStatus(cctx, &adminv1.GetStatusRequest{})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stderr, "gateway %s, management API %s (%s)\n", st.GetComponent(), c.addr, c.addrFrom)
	return err
}

func (c *apiClient) list(ctx context.Context) error {
	cctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	res, err := c.c.ListAccounts(cctx, &adminv1.ListAccountsRequest{Platform: c.platform})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res, true)
	}
	if len(res.GetAccounts()) == 0 {
		_, err := fmt.Fprintln(c.stdout, "No users are registered.")
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OWNER\tPLATFORM\tACCOUNT\tSTATE\tSESSION\tLAST ACTIVITY")
	for _, a := range res.GetAccounts() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.GetOwner(), a.GetPlatform(), dash(a.GetPlatformAccount()),
			dash(a.GetState()), yesNo(a.GetSession()), when(a.GetLastActivity()))
	}
	return tw.Flush()
}

func (c *apiClient) show(ctx context.Context, owner string) error {
	cctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	a, err := c.c.GetAccount(cctx, &adminv1.GetAccountRequest{Owner: owner, Platform: c.platform})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(a, true)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"owner", a.GetOwner()},
		{"platform", a.GetPlatform()},
		{"account", dash(a.GetPlatformAccount())},
		{"linked", yesNo(a.GetLinked())},
		{"state", dash(a.GetState())},
		{"state detail", dash(a.GetStateDetail())},
		{"live session", yesNo(a.GetSession())},
		{"registered", when(a.GetRegistered())},
		{"updated", when(a.GetUpdated())},
		{"last activity", when(a.GetLastActivity())},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func (c *apiClient) unlink(ctx context.Context, owner string) error {
	cctx, cancel := c.call()
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	a, err := c.c.UnlinkAccount(cctx, &adminv1.UnlinkAccountRequest{Owner: owner, Platform: c.platform})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(a, true)
	}
	_, err = fmt.Fprintf(c.stdout, "Unlinked the %s account of %s; the user stays registered.\n", a.GetPlatform(), a.GetOwner())
	return err
}

// link follows a login flow to its end, answering input steps from
// --input values, else from standard input.
func (c *apiClient) link(ctx context.Context, owner, flow string, inputs map[string]string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.LinkAccount(ctx, &adminv1.LinkAccountRequest{Owner: owner, Platform: c.platform, Flow: flow, Inputs: inputs})
	if err != nil {
		return err
	}
	for {
		step, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return errors.New("the login flow ended without linking an account")
		}
		if err != nil {
			return err
		}
		if c.json {
			if err := c.printJSON(step, false); err != nil {
				return err
			}
		} else {
			c.showStep(step)
		}
		switch step.GetKind() {
		case adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE:
			return nil
		case adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT:
			values, err := c.ask(step)
			if err != nil {
				return err
			}
			sctx, scancel := c.call()
			_, err = c.c.SubmitLoginInput(sctx, &adminv1.SubmitLoginInputRequest{FlowId: step.GetFlowId(), Inputs: values})
			scancel()
			// A refused answer comes back on the stream as the same step
			// with its problem; anything else ends the flow.
			if err != nil && status.Code(err) != codes.InvalidArgument {
				return err
			}
		}
	}
}

func (c *apiClient) showStep(s *adminv1.LoginStep) {
	w := c.stdout
	switch s.GetKind() {
	case adminv1.LoginStepKind_LOGIN_STEP_KIND_INPUT:
		if s.GetProblem() != "" {
			fmt.Fprintf(c.stderr, "Refused: %s\n", s.GetProblem())
		}
		if s.GetInstructions() != "" {
			fmt.Fprintln(c.stderr, s.GetInstructions())
		}
	case adminv1.LoginStepKind_LOGIN_STEP_KIND_CODE:
		fmt.Fprintf(w, "Pairing code: %s\n", s.GetData())
		if s.GetInstructions() != "" {
			fmt.Fprintln(w, s.GetInstructions())
		}
		c.showExpiry(s)
	case adminv1.LoginStepKind_LOGIN_STEP_KIND_QR:
		if s.GetInstructions() != "" {
			fmt.Fprintln(w, s.GetInstructions())
		}
		if err := renderQR(w, s.GetData(), c.invertQR); err != nil {
			fmt.Fprintf(c.stderr, "(cannot draw the QR code: %v)\n", err)
		}
		fmt.Fprintf(w, "QR code data: %s\n", s.GetData())
		c.showExpiry(s)
	case adminv1.LoginStepKind_LOGIN_STEP_KIND_DONE:
		fmt.Fprintf(w, "Linked: account %s.\n", s.GetAccount())
	}
}

func (c *apiClient) showExpiry(s *adminv1.LoginStep) {
	if s.GetExpires() != nil {
		fmt.Fprintf(c.stdout, "Valid until %s; a new one follows if it expires. Waiting...\n", s.GetExpires().AsTime().Local().Format("15:04:05"))
	}
}

// ask reads the values of an input step from standard input, one line per
// field.
func (c *apiClient) ask(s *adminv1.LoginStep) (map[string]string, error) {
	values := make(map[string]string, len(s.GetFields()))
	for _, f := range s.GetFields() {
		prompt := f.GetLabel()
		if prompt == "" {
			prompt = f.GetId()
		}
		if f.GetDescription() != "" {
			prompt += " (" + f.GetDescription() + ")"
		}
		fmt.Fprintf(c.stderr, "%s: ", prompt)
		line, err := c.stdin.ReadString('\n')
		line = strings.TrimSpace(line)
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			return nil, fmt.Errorf("the login flow needs %q; answer on standard input or pass --input %s=VALUE", f.GetId(), f.GetId())
		}
		values[f.GetId()] = line
	}
	return values, nil
}

// renderQR draws data as a QR code with half-block characters, two module
// rows per text line, quiet zone included. By default light modules are
// drawn (for the usual dark terminal background); invert draws the dark
// ones.
func renderQR(w io.Writer, data string, invert bool) error {
	q, err := qrcode.New(data, qrcode.Low)
	if err != nil {
		return err
	}
	bm := q.Bitmap() // true: dark module
	ink := func(y, x int) bool {
		if y >= len(bm) {
			return !invert // below the last row: quiet zone (light)
		}
		return bm[y][x] == invert
	}
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top, bottom := ink(y, x), ink(y+1, x)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		b.WriteByte('\n')
	}
	_, err = io.WriteString(w, b.String())
	return err
}
